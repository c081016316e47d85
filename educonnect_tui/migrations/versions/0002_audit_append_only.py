"""audit trail: append-only triggers and a tamper-evident anchor

The chain of hashes shows an edited record or one deleted in the middle, but not the
last records cut off the end. ``audit_anchor`` is one row the database keeps up to date
itself (a trigger after each insert into ``audit_event``): how many records there are,
the last id and its hash. Triggers refuse UPDATE and DELETE on the audit tables, and
let the anchor only move forward by one record at a time.

The SQL is frozen here on purpose: a migration must build the same database whatever
the code becomes later. ``domain.audit_guard`` reads the installed triggers back from
the database when it has to suspend them (demo reset on SQLite).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

REFUSED = "journal d''audit en ajout seul"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
BEGIN SELECT RAISE(ABORT, '{REFUSED} : modification refusée'); END""",
    f"""CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN SELECT RAISE(ABORT, '{REFUSED} : suppression refusée'); END""",
    f"""CREATE TRIGGER audit_target_no_update BEFORE UPDATE ON audit_target
BEGIN SELECT RAISE(ABORT, '{REFUSED} : modification refusée'); END""",
    f"""CREATE TRIGGER audit_target_no_delete BEFORE DELETE ON audit_target
BEGIN SELECT RAISE(ABORT, '{REFUSED} : suppression refusée'); END""",
    f"""CREATE TRIGGER audit_anchor_no_delete BEFORE DELETE ON audit_anchor
BEGIN SELECT RAISE(ABORT, '{REFUSED} : suppression de l''ancre refusée'); END""",
    f"""CREATE TRIGGER audit_anchor_no_insert BEFORE INSERT ON audit_anchor
WHEN NEW.id <> 1 OR NEW.event_count <> 0 OR NEW.last_event_id <> 0 OR NEW.last_hash <> ''
BEGIN SELECT RAISE(ABORT, '{REFUSED} : ancre invalide'); END""",
    f"""CREATE TRIGGER audit_anchor_forward BEFORE UPDATE ON audit_anchor
WHEN NEW.id <> OLD.id OR NEW.event_count <> OLD.event_count + 1
  OR NEW.last_event_id <= OLD.last_event_id
  OR NEW.last_hash IS NOT (SELECT hash FROM audit_event WHERE id = NEW.last_event_id)
BEGIN SELECT RAISE(ABORT, '{REFUSED} : l''ancre ne fait que suivre les ajouts'); END""",
    """CREATE TRIGGER audit_anchor_follow AFTER INSERT ON audit_event
BEGIN
  INSERT OR IGNORE INTO audit_anchor (id, event_count, last_event_id, last_hash)
    VALUES (1, 0, 0, '');
  UPDATE audit_anchor
    SET event_count = event_count + 1, last_event_id = NEW.id, last_hash = NEW.hash
    WHERE id = 1;
END""",
]
SQLITE_TRIGGER_NAMES = [
    "audit_event_no_update",
    "audit_event_no_delete",
    "audit_target_no_update",
    "audit_target_no_delete",
    "audit_anchor_no_delete",
    "audit_anchor_no_insert",
    "audit_anchor_forward",
    "audit_anchor_follow",
]

POSTGRES_FUNCTIONS = [
    f"""CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '{REFUSED} : opération % refusée sur %', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$""",
    f"""CREATE FUNCTION audit_anchor_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.id <> 1 OR NEW.event_count <> 0 OR NEW.last_event_id <> 0
       OR NEW.last_hash <> '' THEN
      RAISE EXCEPTION '{REFUSED} : ancre invalide' USING ERRCODE = 'insufficient_privilege';
    END IF;
  ELSIF NEW.id <> OLD.id OR NEW.event_count <> OLD.event_count + 1
     OR NEW.last_event_id <= OLD.last_event_id
     OR NEW.last_hash IS DISTINCT FROM
        (SELECT hash FROM audit_event WHERE id = NEW.last_event_id) THEN
    RAISE EXCEPTION '{REFUSED} : l''ancre ne fait que suivre les ajouts'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$""",
    """CREATE FUNCTION audit_anchor_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_anchor (id, event_count, last_event_id, last_hash)
    VALUES (1, 0, 0, '') ON CONFLICT (id) DO NOTHING;
  UPDATE audit_anchor
    SET event_count = event_count + 1, last_event_id = NEW.id, last_hash = NEW.hash
    WHERE id = 1;
  RETURN NULL;
END $$""",
]
POSTGRES_TRIGGERS = [
    "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event"
    " FOR EACH ROW EXECUTE FUNCTION audit_refuse()",
    "CREATE TRIGGER audit_target_no_change BEFORE UPDATE OR DELETE ON audit_target"
    " FOR EACH ROW EXECUTE FUNCTION audit_refuse()",
    "CREATE TRIGGER audit_anchor_no_delete BEFORE DELETE ON audit_anchor"
    " FOR EACH ROW EXECUTE FUNCTION audit_refuse()",
    "CREATE TRIGGER audit_anchor_check BEFORE INSERT OR UPDATE ON audit_anchor"
    " FOR EACH ROW EXECUTE FUNCTION audit_anchor_check()",
    "CREATE TRIGGER audit_anchor_follow AFTER INSERT ON audit_event"
    " FOR EACH ROW EXECUTE FUNCTION audit_anchor_follow()",
]
POSTGRES_DROPS = [
    "DROP TRIGGER IF EXISTS audit_anchor_follow ON audit_event",
    "DROP TRIGGER IF EXISTS audit_anchor_check ON audit_anchor",
    "DROP TRIGGER IF EXISTS audit_anchor_no_delete ON audit_anchor",
    "DROP TRIGGER IF EXISTS audit_target_no_change ON audit_target",
    "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event",
    "DROP FUNCTION IF EXISTS audit_anchor_follow()",
    "DROP FUNCTION IF EXISTS audit_anchor_check()",
    "DROP FUNCTION IF EXISTS audit_refuse()",
]


def upgrade() -> None:
    op.create_table(
        "audit_anchor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchor")),
    )
    # Not a batch operation: on SQLite a batch rebuild of an audit table would silently
    # drop its triggers. A later migration that must rebuild one has to recreate them.
    op.create_index("ix_audit_event_establishment_id_id", "audit_event", ["establishment_id", "id"])
    # An existing trail: the anchor starts where the trail already is.
    op.execute(
        "INSERT INTO audit_anchor (id, event_count, last_event_id, last_hash) "
        "SELECT 1, (SELECT count(*) FROM audit_event), id, hash FROM audit_event "
        "WHERE id = (SELECT max(id) FROM audit_event)"
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_FUNCTIONS + POSTGRES_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DROPS:
            op.execute(statement)
    else:
        for name in reversed(SQLITE_TRIGGER_NAMES):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_audit_event_establishment_id_id", table_name="audit_event")
    op.drop_table("audit_anchor")
