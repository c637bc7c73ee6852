"""scheduler lease with a fencing token; outbox sending_at (claimed before a send)

Revision ID: d5e1a9c7b203
Revises: c41a7e2f9d10
Create Date: 2026-12-04 22:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d5e1a9c7b203"
down_revision = "c41a7e2f9d10"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(length=120), nullable=True),
        sa.Column("backend_pid", sa.Integer(), nullable=True),
        sa.Column("acquired_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_lease")),
    )
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.add_column(sa.Column("sending_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.drop_column("sending_at")
    op.drop_table("scheduler_lease")
