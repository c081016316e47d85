"""sign-in: usual addresses, and failures counted per (login digest, address)

A failure from an address the account has never signed in from counts only on that
pair, so nobody elsewhere can lock its owner out; from a usual address it still counts
on the account. Unknown logins get pairs too, so a block never tells who exists.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usual_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(staff_id IS NULL) <> (account_id IS NULL)",
            name=op.f("ck_usual_source_one_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_usual_source_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_usual_source_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usual_source")),
        sa.UniqueConstraint("account_id", "source", name=op.f("uq_usual_source_account_id")),
        sa.UniqueConstraint("staff_id", "source", name=op.f("uq_usual_source_staff_id")),
    )
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realm", sa.String(length=16), nullable=False),
        sa.Column("login_digest", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("block_count", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failure")),
        sa.UniqueConstraint(
            "realm", "login_digest", "source", name=op.f("uq_sign_in_failure_realm")
        ),
    )
    op.create_index(
        op.f("ix_sign_in_failure_last_failure_at"),
        "sign_in_failure",
        ["last_failure_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sign_in_failure_last_failure_at"), table_name="sign_in_failure")
    op.drop_table("sign_in_failure")
    op.drop_table("usual_source")
