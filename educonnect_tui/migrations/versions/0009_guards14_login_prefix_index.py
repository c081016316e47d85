"""logins by prefix on PostgreSQL: an index in pattern order for LIKE 'base%'

Every new account's login is chosen among those starting with its base (``l.martin``,
``l.martin2``…: ``accounts/logins.py``). PostgreSQL uses an index for ``LIKE 'base%'``
only under the C collation, or on an index in ``text_pattern_ops`` order: without it each
new name read the whole account table, once per new name of an import. SQLite reads
its unique login index as a range instead: its copy of the index is empty (``WHERE 0``),
there only so that both backends have the schema the models describe.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_account_login_pattern",
        "account",
        ["login"],
        postgresql_ops={"login": "text_pattern_ops"},
        sqlite_where=sa.text("0"),
    )


def downgrade() -> None:
    op.drop_index("ix_account_login_pattern", table_name="account")
