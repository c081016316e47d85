"""guardians: the mobile that can receive the SMS, and their children's names in search

``guardian.sms_mobile`` holds the school's number in national form when it is a French
mobile (``phones.sms_mobile``, the auto-inscription's rule), so that lists filter on it
in SQL; it is filled here from ``mobile``. A guardian's ``search_text`` now also holds
the names of the children they are the legal representative of
(``identifiers.guardian_search_key``): the guardians' accounts are re-indexed, in
batches, ``search_token`` rows included.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from educonnect_tui.domain.model.identifiers import guardian_search_key
from educonnect_tui.domain.model.phones import SMS_MOBILE_LENGTH, sms_mobile

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TOKEN_MAX_LENGTH = 64
BATCH = 5_000


def upgrade() -> None:
    op.add_column("guardian", sa.Column("sms_mobile", sa.String(SMS_MOBILE_LENGTH)))
    op.create_index("ix_guardian_sms_mobile", "guardian", ["sms_mobile"])
    bind = op.get_bind()
    guardian = sa.table(
        "guardian",
        sa.column("id"),
        sa.column("last_name"),
        sa.column("first_name"),
        sa.column("mobile"),
        sa.column("sms_mobile"),
    )
    account = sa.table(
        "account",
        sa.column("id"),
        sa.column("guardian_id"),
        sa.column("login"),
        sa.column("search_text"),
    )
    link = sa.table(
        "guardian_link",
        sa.column("guardian_id"),
        sa.column("pupil_id"),
        sa.column("legal_guardian"),
    )
    pupil = sa.table(
        "pupil",
        sa.column("id"),
        sa.column("last_name"),
        sa.column("first_name"),
        sa.column("birth_date"),
    )
    token = sa.table("search_token", sa.column("token"), sa.column("account_id"))
    last = 0
    while True:  # in batches: a large existing database never sits in memory
        rows = bind.execute(
            sa.select(
                guardian.c.id,
                guardian.c.last_name,
                guardian.c.first_name,
                guardian.c.mobile,
                account.c.id,
                account.c.login,
                account.c.search_text,
            )
            .select_from(guardian)
            .outerjoin(account, account.c.guardian_id == guardian.c.id)
            .where(guardian.c.id > last)
            .order_by(guardian.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        ids = [row[0] for row in rows]
        mobiles = [
            {"guardian_id": g, "number": number}
            for g, _ln, _fn, mobile, *_ in rows
            if (number := sms_mobile(mobile)) is not None
        ]
        if mobiles:
            bind.execute(
                guardian.update()
                .where(guardian.c.id == sa.bindparam("guardian_id"))
                .values(sms_mobile=sa.bindparam("number")),
                mobiles,
            )
        children: dict[int, list[tuple[str, str]]] = {}
        for g, ln, fn in bind.execute(
            sa.select(link.c.guardian_id, pupil.c.last_name, pupil.c.first_name)
            .join(pupil, pupil.c.id == link.c.pupil_id)
            .where(link.c.guardian_id.in_(ids), link.c.legal_guardian.is_(True))
            .order_by(link.c.guardian_id, pupil.c.birth_date, pupil.c.id)
        ):
            children.setdefault(g, []).append((ln, fn))
        changed = {
            account_id: key
            for g, ln, fn, _mobile, account_id, login, old in rows
            if account_id is not None
            and (key := guardian_search_key(ln, fn, login, children.get(g, ()))) != old
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
        last = ids[-1]


def downgrade() -> None:
    # The children's words only add to search_text: the older schema finds with them
    # everything it found before, so only the column goes.
    op.drop_index("ix_guardian_sms_mobile", table_name="guardian")
    op.drop_column("guardian", "sms_mobile")
