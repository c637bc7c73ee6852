"""daily check-ins and each member's choices about them

Revision ID: 99063f90d410
Revises: 8ae7076f1984
Create Date: 2026-12-05 01:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "99063f90d410"
down_revision = "8ae7076f1984"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "daily_check_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("mood", sa.Integer(), nullable=False),
        sa.Column("cravings", sa.String(length=8), nullable=False),
        sa.Column("meeting", sa.Boolean(), nullable=False),
        sa.Column("note_ciphertext", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("sponsor_told_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "cravings IN ('none', 'some', 'strong')",
            name=op.f("ck_daily_check_in_cravings_known"),
        ),
        sa.CheckConstraint("mood >= 1 AND mood <= 5", name=op.f("ck_daily_check_in_mood_range")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_daily_check_in_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_check_in")),
        sa.UniqueConstraint("member_id", "day", name=op.f("uq_daily_check_in_member_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_daily_check_in_uuid")),
    )
    op.create_index("ix_daily_check_in_day", "daily_check_in", ["day"], unique=False)
    op.create_table(
        "check_in_choice",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("reminders", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("shared", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_check_in_choice_member_id_member")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_check_in_choice")),
    )


def downgrade():
    op.drop_table("check_in_choice")
    op.drop_index("ix_daily_check_in_day", table_name="daily_check_in")
    op.drop_table("daily_check_in")
