"""account.sort_name: every list of people in French order, sorted in SQL

Lists sorted by name used ``search_text`` (folded « last first login »), which mixes
the last and first names (« Martin Zoé » after « Martin-Dupont Anne ») and, with a
French-locale PostgreSQL collation, ignores its spaces. ``sort_name`` holds
``identifiers.sort_key(last, first)`` in byte order on both backends; this migration
fills it for the accounts that exist, in batches.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from educonnect_tui.domain.model.identifiers import sort_key

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SORT_KEY_TYPE = sa.String(500).with_variant(sa.String(500, collation="C"), "postgresql")


def upgrade() -> None:
    # A plain ADD COLUMN on both backends: SQLite's batch mode would copy and drop the
    # account table, and the drop cascades to every row that refers to an account.
    op.add_column(
        "account", sa.Column("sort_name", SORT_KEY_TYPE, nullable=False, server_default="")
    )
    bind = op.get_bind()
    account = sa.table(
        "account",
        sa.column("id"),
        sa.column("pupil_id"),
        sa.column("guardian_id"),
        sa.column("sort_name"),
    )
    pupil = sa.table("pupil", sa.column("id"), sa.column("last_name"), sa.column("first_name"))
    guardian = sa.table(
        "guardian", sa.column("id"), sa.column("last_name"), sa.column("first_name")
    )
    last = 0
    while True:  # in batches: a large existing database never sits in memory
        rows = bind.execute(
            sa.select(
                account.c.id,
                sa.func.coalesce(pupil.c.last_name, guardian.c.last_name),
                sa.func.coalesce(pupil.c.first_name, guardian.c.first_name),
            )
            .select_from(account)
            .outerjoin(pupil, pupil.c.id == account.c.pupil_id)
            .outerjoin(guardian, guardian.c.id == account.c.guardian_id)
            .where(account.c.id > last)
            .order_by(account.c.id)
            .limit(10_000)
        ).all()
        if not rows:
            break
        bind.execute(
            account.update()
            .where(account.c.id == sa.bindparam("account_id"))
            .values(sort_name=sa.bindparam("key")),
            [{"account_id": i, "key": sort_key(ln or "", fn or "")} for i, ln, fn in rows],
        )
        last = rows[-1][0]
    if bind.dialect.name == "postgresql":  # SQLite cannot drop a default in place
        op.alter_column("account", "sort_name", server_default=None)
    op.create_index(op.f("ix_account_sort_name"), "account", ["sort_name"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_account_sort_name"), table_name="account")
    op.drop_column("account", "sort_name")
