"""idempotency keys of creating POSTs (24 h)

Revision ID: 22161e2f3653
Revises: d7e3a9b1c2f4
Create Date: 2026-12-04 22:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "22161e2f3653"
down_revision = "d7e3a9b1c2f4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "idempotency_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("resource_type", sa.String(length=40), nullable=True),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("replays", sa.Integer(), nullable=False),
        sa.Column("last_replay_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_idempotency_key_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_key")),
        sa.UniqueConstraint(
            "member_id", "route", "key", name=op.f("uq_idempotency_key_member_id")
        ),
    )
    op.create_index("ix_idempotency_key_created", "idempotency_key", ["created_at"], unique=False)


def downgrade():
    op.drop_index("ix_idempotency_key_created", table_name="idempotency_key")
    op.drop_table("idempotency_key")
