"""match models: learned weights per programme, versioned; the model on proposals and rounds

Revision ID: 8ae7076f1984
Revises: a7c3e91b5d28
Create Date: 2026-12-05 01:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "8ae7076f1984"
down_revision = "a7c3e91b5d28"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status = 'active'")


def upgrade():
    op.create_table(
        "match_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("fixed_weights", sa.JSON(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("reason_args", sa.JSON(), nullable=False),
        sa.Column("trigger", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_match_model_program_id_program")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_model")),
        sa.UniqueConstraint("program_id", "version", name="uq_match_model_version"),
        sa.UniqueConstraint("uuid", name=op.f("uq_match_model_uuid")),
    )
    with op.batch_alter_table("match_model") as batch_op:
        batch_op.create_index(batch_op.f("ix_match_model_program_id"), ["program_id"])
        batch_op.create_index(
            "uq_match_model_active",
            ["program_id"],
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        )
    for table in ("proposal", "matching_round"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("model_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                f"fk_{table}_model_id_match_model", "match_model", ["model_id"], ["id"]
            )


def downgrade():
    for table in ("matching_round", "proposal"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_model_id_match_model", type_="foreignkey")
            batch_op.drop_column("model_id")
    with op.batch_alter_table("match_model") as batch_op:
        batch_op.drop_index("uq_match_model_active", sqlite_where=ACTIVE, postgresql_where=ACTIVE)
        batch_op.drop_index(batch_op.f("ix_match_model_program_id"))
    op.drop_table("match_model")
