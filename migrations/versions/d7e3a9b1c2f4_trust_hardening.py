"""trust hardening: verified email, session version, minimal emails, closed accounts,
request notes a coordinator may read, the outbox index of the hourly mail cap

Revision ID: d7e3a9b1c2f4
Revises: d5e1a9c7b203
Create Date: 2026-12-04 22:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d7e3a9b1c2f4"
down_revision = "d5e1a9c7b203"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("member") as batch_op:
        batch_op.add_column(sa.Column("email_verified_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("minimal_emails", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
    # Accounts made before verification existed keep receiving their mail: they count as
    # verified from the day they were made.
    op.execute("UPDATE member SET email_verified_at = created_at")
    op.create_index(
        "ix_outbox_member_created", "outbox_message", ["member_id", "created_at"], unique=False
    )
    with op.batch_alter_table("sponsor_request") as batch_op:
        batch_op.add_column(
            sa.Column(
                "note_for_coordinator", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade():
    with op.batch_alter_table("sponsor_request") as batch_op:
        batch_op.drop_column("note_for_coordinator")
    op.drop_index("ix_outbox_member_created", table_name="outbox_message")
    with op.batch_alter_table("member") as batch_op:
        batch_op.drop_column("closed_at")
        batch_op.drop_column("minimal_emails")
        batch_op.drop_column("session_version")
        batch_op.drop_column("email_verified_at")
