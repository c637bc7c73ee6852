"""member tags_shown: the tags a member lets others see (shared means the intersection)

Revision ID: e4b8c2d6f1a3
Revises: 22161e2f3653
Create Date: 2026-12-04 22:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e4b8c2d6f1a3"
down_revision = "22161e2f3653"
branch_labels = None
depends_on = None


def upgrade():
    # Nobody shows a tag until they choose to: existing members start with an empty list.
    with op.batch_alter_table("member") as batch_op:
        batch_op.add_column(
            sa.Column("tags_shown", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
    with op.batch_alter_table("member") as batch_op:
        batch_op.alter_column("tags_shown", server_default=None)


def downgrade():
    with op.batch_alter_table("member") as batch_op:
        batch_op.drop_column("tags_shown")
