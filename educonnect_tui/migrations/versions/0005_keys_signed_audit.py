"""keys: signed audit records, sealed TOTP secrets, no REPLACE into the audit tables

- ``audit_event.key_id``: the key of the service's key file whose HMAC the record's hash
  is (``domain/store/keys.py``); NULL for the records written before, plain SHA-256.
- ``staff.totp_secret`` widened to hold the sealed secret (AES-GCM, key id, nonce). The
  secrets already there are sealed by ``Services.upgrade`` right after the migrations,
  with the key file (a migration has no key).
- SQLite's ``INSERT OR REPLACE`` deletes the row it conflicts with before inserting, and
  that delete fires no trigger unless the connection set ``recursive_triggers`` (ours
  does; the ``sqlite3`` shell does not): so BEFORE INSERT triggers refuse a record, a
  target or an anchor that already exists. The anchor's own insert (in
  ``audit_anchor_follow``) becomes a plain INSERT of a missing row. On PostgreSQL an
  upsert's DO UPDATE already meets the UPDATE triggers; an INSERT of an id at or before
  the anchor's last one is refused as well.

The SQL is frozen here on purpose, as in 0002.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

REFUSED = "journal d''audit en ajout seul"

SQLITE_DROPS = ["DROP TRIGGER audit_anchor_no_insert", "DROP TRIGGER audit_anchor_follow"]
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_anchor_no_insert BEFORE INSERT ON audit_anchor
WHEN NEW.id <> 1 OR NEW.event_count <> 0 OR NEW.last_event_id <> 0 OR NEW.last_hash <> ''
  OR EXISTS (SELECT 1 FROM audit_anchor)
BEGIN SELECT RAISE(ABORT, '{REFUSED} : ancre invalide'); END""",
    """CREATE TRIGGER audit_anchor_follow AFTER INSERT ON audit_event
BEGIN
  INSERT INTO audit_anchor (id, event_count, last_event_id, last_hash)
    SELECT 1, 0, 0, '' WHERE NOT EXISTS (SELECT 1 FROM audit_anchor);
  UPDATE audit_anchor
    SET event_count = event_count + 1, last_event_id = NEW.id, last_hash = NEW.hash
    WHERE id = 1;
END""",
    f"""CREATE TRIGGER audit_event_no_reuse BEFORE INSERT ON audit_event
WHEN EXISTS (SELECT 1 FROM audit_event WHERE id = NEW.id)
  OR EXISTS (SELECT 1 FROM audit_event WHERE hash = NEW.hash)
  OR NEW.id BETWEEN 0 AND (SELECT last_event_id FROM audit_anchor WHERE id = 1)
BEGIN SELECT RAISE(ABORT, '{REFUSED} : enregistrement déjà écrit'); END""",
    f"""CREATE TRIGGER audit_target_no_reuse BEFORE INSERT ON audit_target
WHEN EXISTS (SELECT 1 FROM audit_target
             WHERE event_id = NEW.event_id AND account_id = NEW.account_id)
BEGIN SELECT RAISE(ABORT, '{REFUSED} : compte visé déjà écrit'); END""",
]
# What 0002 had, for the downgrade.
SQLITE_0002 = [
    f"""CREATE TRIGGER audit_anchor_no_insert BEFORE INSERT ON audit_anchor
WHEN NEW.id <> 1 OR NEW.event_count <> 0 OR NEW.last_event_id <> 0 OR NEW.last_hash <> ''
BEGIN SELECT RAISE(ABORT, '{REFUSED} : ancre invalide'); END""",
    """CREATE TRIGGER audit_anchor_follow AFTER INSERT ON audit_event
BEGIN
  INSERT OR IGNORE INTO audit_anchor (id, event_count, last_event_id, last_hash)
    VALUES (1, 0, 0, '');
  UPDATE audit_anchor
    SET event_count = event_count + 1, last_event_id = NEW.id, last_hash = NEW.hash
    WHERE id = 1;
END""",
]

POSTGRES_UP = [
    f"""CREATE FUNCTION audit_event_no_reuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id <= (SELECT last_event_id FROM audit_anchor WHERE id = 1) THEN
    RAISE EXCEPTION '{REFUSED} : enregistrement déjà écrit'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$""",
    "CREATE TRIGGER audit_event_no_reuse BEFORE INSERT ON audit_event"
    " FOR EACH ROW EXECUTE FUNCTION audit_event_no_reuse()",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS audit_event_no_reuse ON audit_event",
    "DROP FUNCTION IF EXISTS audit_event_no_reuse()",
]


def _widen_sqlite(length: int) -> None:
    """SQLite changes a column's declared type only by rebuilding the table, which a
    referenced table (staff) cannot do with foreign keys on: a new column takes the values
    instead (native ALTERs, no rebuild)."""
    op.execute("ALTER TABLE staff RENAME COLUMN totp_secret TO totp_secret_previous")
    op.execute(f"ALTER TABLE staff ADD COLUMN totp_secret VARCHAR({length}) NOT NULL DEFAULT ''")
    op.execute("UPDATE staff SET totp_secret = totp_secret_previous")
    op.execute("ALTER TABLE staff DROP COLUMN totp_secret_previous")


def upgrade() -> None:
    # Not a batch operation: a rebuild of audit_event would drop its triggers.
    op.add_column("audit_event", sa.Column("key_id", sa.String(length=16), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "staff",
            "totp_secret",
            type_=sa.String(length=200),
            existing_type=sa.String(length=64),
            existing_nullable=False,
        )
        for statement in POSTGRES_UP:
            op.execute(statement)
    else:
        _widen_sqlite(200)
        for statement in SQLITE_DROPS + SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DOWN:
            op.execute(statement)
        op.alter_column(
            "staff",
            "totp_secret",
            type_=sa.String(length=64),
            existing_type=sa.String(length=200),
            existing_nullable=False,
        )
    else:
        for name in ("audit_target_no_reuse", "audit_event_no_reuse", *SQLITE_DROPS):
            op.execute(name if name.startswith("DROP") else f"DROP TRIGGER {name}")
        for statement in SQLITE_0002:
            op.execute(statement)
        _widen_sqlite(64)
    op.execute("ALTER TABLE audit_event DROP COLUMN key_id")
