"""search tokens: the account_id index also holds the token (covering index)

An académie search checks its one- and two-letter words ("d'Almeida", "Laur Ma") on the
accounts its longer words found: one probe per account for "a word of this account
starts with 'ma'". On ``(account_id)`` alone each probe read every token row of the
account; on ``(account_id, token)`` it is one index seek (p95 of the benchmark's
académie searches ~55 -> ~30 ms on SQLite). The foreign key still has its index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_search_token_account_id_token"),
        "search_token",
        ["account_id", "token"],
        unique=False,
    )
    op.drop_index(op.f("ix_search_token_account_id"), table_name="search_token")


def downgrade() -> None:
    op.create_index(
        op.f("ix_search_token_account_id"), "search_token", ["account_id"], unique=False
    )
    op.drop_index(op.f("ix_search_token_account_id_token"), table_name="search_token")
