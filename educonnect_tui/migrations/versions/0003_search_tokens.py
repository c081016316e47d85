"""search tokens: the words of every account's search_text, indexed for prefix search

A substring scan of ``account.search_text`` is fine for one school but takes about
100 ms per query at a million accounts. Each folded word is stored once per account in
``search_token`` (primary key token, account_id) so a typed word is an index range.
``domain.search_index`` keeps the table in step; this migration fills it for the
accounts that exist.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TOKEN_MAX_LENGTH = 64


def upgrade() -> None:
    op.create_table(
        "search_token",
        sa.Column(
            "token",
            sa.String(TOKEN_MAX_LENGTH).with_variant(
                sa.String(TOKEN_MAX_LENGTH, collation="C"), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_search_token_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token", "account_id", name=op.f("pk_search_token")),
    )
    op.create_index(
        op.f("ix_search_token_account_id"), "search_token", ["account_id"], unique=False
    )
    bind = op.get_bind()
    table = sa.table("search_token", sa.column("token"), sa.column("account_id"))
    accounts = sa.table("account", sa.column("id"), sa.column("search_text"))
    last = 0
    while True:  # in batches: a large existing database never sits in memory
        rows = bind.execute(
            sa.select(accounts.c.id, accounts.c.search_text)
            .where(accounts.c.id > last)
            .order_by(accounts.c.id)
            .limit(10_000)
        ).all()
        if not rows:
            break
        tokens = {
            (word[:TOKEN_MAX_LENGTH], account_id)
            for account_id, text in rows
            for word in text.split()
        }
        bind.execute(sa.insert(table), [{"token": t, "account_id": a} for t, a in sorted(tokens)])
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index(op.f("ix_search_token_account_id"), table_name="search_token")
    op.drop_table("search_token")
