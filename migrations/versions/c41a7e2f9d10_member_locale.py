"""member locale: the language of pages and emails

Revision ID: c41a7e2f9d10
Revises: b3e9ecc01362
Create Date: 2026-12-04 22:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c41a7e2f9d10"
down_revision = "b3e9ecc01362"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("member") as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("member") as batch_op:
        batch_op.drop_column("locale")
