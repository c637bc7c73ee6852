"""milestones (a member's private sobriety date, milestones reached) and practical resources

Revision ID: a7c3e91b5d28
Revises: f2a6c8e0b4d1
Create Date: 2026-12-05 01:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a7c3e91b5d28"
down_revision = "f2a6c8e0b4d1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("member") as batch_op:
        batch_op.add_column(sa.Column("sobriety_date", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "milestones_shared", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    op.create_table(
        "milestone_reached",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("milestone", sa.String(length=8), nullable=False),
        sa.Column("reached_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("sponsor_told_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "milestone", "reached_on"),
        sa.UniqueConstraint("uuid"),
    )
    op.create_index("ix_milestone_reached_reached_on", "milestone_reached", ["reached_on"])
    op.create_index("ix_member_sobriety_date", "member", ["sobriety_date"])
    op.create_table(
        "resource",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("fellowships", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("url IS NOT NULL OR body IS NOT NULL", name="resource_url_or_text"),
        sa.CheckConstraint(
            "kind IN ('meetings', 'literature', 'treatment', 'coping', 'crisis')",
            name="resource_kind",
        ),
        sa.ForeignKeyConstraint(["created_by_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
    )
    op.create_index("ix_resource_program_id", "resource", ["program_id"])
    op.create_table(
        "resource_share",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("sponsorship_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"]),
        sa.ForeignKeyConstraint(["resource_id"], ["resource.id"]),
        sa.ForeignKeyConstraint(["sponsorship_id"], ["sponsorship.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("resource_id", "sponsorship_id"),
        sa.UniqueConstraint("uuid"),
    )
    op.create_index("ix_resource_share_program_id", "resource_share", ["program_id"])
    op.create_index("ix_resource_share_sponsorship_id", "resource_share", ["sponsorship_id"])


def downgrade():
    op.drop_index("ix_resource_share_sponsorship_id", table_name="resource_share")
    op.drop_index("ix_resource_share_program_id", table_name="resource_share")
    op.drop_table("resource_share")
    op.drop_index("ix_resource_program_id", table_name="resource")
    op.drop_table("resource")
    op.drop_index("ix_member_sobriety_date", table_name="member")
    op.drop_index("ix_milestone_reached_reached_on", table_name="milestone_reached")
    op.drop_table("milestone_reached")
    with op.batch_alter_table("member") as batch_op:
        batch_op.drop_column("milestones_shared")
        batch_op.drop_column("sobriety_date")
