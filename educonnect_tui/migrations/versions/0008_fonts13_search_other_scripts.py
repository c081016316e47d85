"""search words of every script: Arabic, Hebrew, Chinese, Japanese, Korean names found

``search_text`` held only the words folded to ASCII, so a name in Arabic or Chinese had
no word to be found by. ``identifiers.search_key`` now keeps them (Arabic without its
optional marks, Chinese character by character); this migration recomputes
``search_text`` and the ``search_token`` rows of the accounts whose words change, in
batches.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from educonnect_tui.domain.model.identifiers import search_key

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TOKEN_MAX_LENGTH = 64


def upgrade() -> None:
    bind = op.get_bind()
    account = sa.table(
        "account",
        sa.column("id"),
        sa.column("pupil_id"),
        sa.column("guardian_id"),
        sa.column("login"),
        sa.column("search_text"),
    )
    token = sa.table("search_token", sa.column("token"), sa.column("account_id"))
    pupil = sa.table("pupil", sa.column("id"), sa.column("last_name"), sa.column("first_name"))
    guardian = sa.table(
        "guardian", sa.column("id"), sa.column("last_name"), sa.column("first_name")
    )
    last = 0
    while True:  # in batches: a large existing database never sits in memory
        rows = bind.execute(
            sa.select(
                account.c.id,
                account.c.login,
                account.c.search_text,
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
        changed = {
            account_id: key
            for account_id, login, old, ln, fn in rows
            if (key := search_key(ln or "", fn or "", login or "")) != old
        }
        if changed:
            bind.execute(
                account.update()
                .where(account.c.id == sa.bindparam("account_id"))
                .values(search_text=sa.bindparam("key")),
                [{"account_id": i, "key": k} for i, k in changed.items()],
            )
            bind.execute(token.delete().where(token.c.account_id.in_(list(changed))))
            tokens = {
                (word[:TOKEN_MAX_LENGTH], account_id)
                for account_id, key in changed.items()
                for word in key.split()
            }
            if tokens:
                bind.execute(
                    sa.insert(token), [{"token": t, "account_id": a} for t, a in sorted(tokens)]
                )
        last = rows[-1][0]


def downgrade() -> None:
    # The older search_text is a subset of the new one: its words still find everything
    # they found before, so nothing needs undoing.
    pass
