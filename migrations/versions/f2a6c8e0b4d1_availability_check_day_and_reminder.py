"""availability checks: due from the last confirmation (period holds the day asked), reminded_at

Revision ID: f2a6c8e0b4d1
Revises: e4b8c2d6f1a3
Create Date: 2026-12-04 23:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "f2a6c8e0b4d1"
down_revision = "e4b8c2d6f1a3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("availability_check") as batch_op:
        batch_op.alter_column(
            "period", existing_type=sa.String(length=7), type_=sa.String(length=10)
        )
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("availability_check") as batch_op:
        batch_op.drop_column("reminded_at")
        batch_op.alter_column(
            "period", existing_type=sa.String(length=10), type_=sa.String(length=7)
        )
