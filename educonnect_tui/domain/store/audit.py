"""The audit trail: append-only, signed, hash-chained records of every staff action.

Each record stores the hash of the previous one and its own hash over its content, so
editing or deleting a record breaks the chain, which ``verify`` reports. That hash is an
HMAC-SHA256 with the service's audit key (``keys.py``), which is not in the database:
whoever can write to the database but not read the key file cannot add or rewrite a
record that verifies, even by recomputing every hash. Each record names its key
(``key_id``), so a rotated key still verifies what it signed. Records written before the
service had keys are plain SHA-256 (``key_id`` NULL): they still verify, are counted
apart (« antérieurs à la clé »), and the first signed record, which covers the last of
their hashes, seals them; an unsigned record after a signed one is a forgery. Anyone
can compute such a hash, so the key file states how many there were when it was made,
and the last one's hash (``keys.Legacy``; none for a new database): unsigned records are
accepted only as exactly that prefix, which rules out a trail emptied and filled again
with records « older than the key ». A key file from before that statement gets one at
``db upgrade``; until then ``verify`` accepts them but says they are not attested.

Records cut off the end of the chain leave no trace in it: ``audit_anchor``, kept in
step by a database trigger (migrations 0002, 0005), remembers the count, last id and
last hash, and ``verify`` compares the chain's end with it. Triggers refuse UPDATE,
DELETE and REPLACE on the audit tables, and ``verify`` checks that they are all there
and enabled. Someone who can both drop triggers and read the key file (the service's
own user) can still rewrite the trail; someone who can only drop triggers can still cut
records off its end and move the anchor back, which nothing inside the database can
show (copy ``audit verify --format json`` elsewhere to compare).
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from ..model.tables import AuditAnchor, AuditEvent, AuditTarget
from . import keys, logs
from .connection import current_connection

GENESIS = keys.GENESIS

# What staff read in histories and the audit screen.
ACTION_LABELS = {
    "notify": "(re)notification",
    "notify_reminder": "rappel de l'identifiant (sans réinitialisation)",
    "import": "import SIECLE",
    "demo": "création de la démonstration",
    "staff_add": "ajout d'un personnel",
    "staff_password_reset": "mot de passe d'un personnel réinitialisé",
    "staff_otp_reset": "clé OTP d'un personnel renouvelée",
    "staff_unlock": "personnel débloqué",
    "staff_disable": "personnel désactivé",
    "staff_enable": "personnel réactivé",
    "staff_role_changed": "rôle d'un personnel changé",
    "staff_password_changed": "mot de passe personnel choisi",
    "school_add": "création d'un établissement",
    "sign_in": "connexion",
    "sign_in_failed": "connexion refusée",
    "sign_in_blocked": "connexion bloquée",
    # The credentials were right, the access is not (no school, disabled, expired).
    "sign_in_refused": "connexion refusée (compte sans accès)",
    "sign_in_no_delegation": "connexion refusée (aucune délégation pour ce module)",
    "sign_out": "déconnexion",
    "session_unlocked": "session déverrouillée (mot de passe retapé)",
    "session_confirmed": "mot de passe confirmé pour une action sensible",
    "session_confirm_failed": "confirmation du mot de passe refusée",
    "school_chosen": "choix de l'établissement",
    "school_switched": "changement d'établissement",
    "school_choice_refused": "choix d'établissement refusé",
    "recall_login": "rappel de l'identifiant",
    "reset_password": "réinitialisation du mot de passe",
    "slip_written": "fiche de dépannage imprimée",
    "unblock": "déblocage du compte",
    "export": "export",
    "delegation_grant": "délégation accordée",
    "delegation_revoke": "délégation révoquée",
    "key_rotated": "nouvelle clé du journal",
    # The command line's reads and owners' flows: it has no sign-in, so each is recorded.
    "search": "recherche de comptes (ligne de commande)",
    "stats_read": "statistiques consultées (ligne de commande)",
    "accounts_read": "liste des comptes consultée (ligne de commande)",
    "audit_read": "journal consulté (ligne de commande)",
    "school_list": "liste des établissements consultée (ligne de commande)",
    "staff_list": "liste des personnels consultée (ligne de commande)",
    "owner_flow": "parcours d'activation (ligne de commande)",
    "db_upgrade": "mise à jour du schéma de la base",
    "outbox_send": "envoi des courriels en attente",
    "outbox_read": "file des courriels consultée (ligne de commande)",
    "outbox_purge": "purge des textes des courriels terminés",
    "outbox_resend": "courriel incertain renvoyé",
    "outbox_abandon": "courriel incertain abandonné",
    "backup": "sauvegarde de la base",
    "restore": "restauration de la base depuis une sauvegarde",
}


def file_named(path: os.PathLike[str] | str) -> str:
    """How the trail names a file it records: absolute, since whoever reads the record
    later does not know the folder the command was run from."""
    return os.path.abspath(path)


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace("_", " "))


@dataclass(frozen=True)
class Actor:
    """Who acts and from where: a signed-in staff member, or the command line's user."""

    label: str
    source_address: str
    staff_id: int | None = None

    @classmethod
    def command_line(cls, environ: Mapping[str, str] = os.environ) -> Actor:
        """The command line's user: no sign-in, so the Unix account and where it came from.

        The user is the process's real uid, not ``$USER`` or ``$LOGNAME`` (anyone sets
        those), and the person sudo ran it for, when it did (``$SUDO_USER``: forged only
        by someone who already is the service user); the source is the SSH client's
        address, as for a TUI session, or the local console. They say who ran the
        command, not that they were allowed to: the database's own access rules decide
        that (docs/security.md).
        """
        who = f"{_unix_user()}@{socket.gethostname()}"
        sudo = environ.get("SUDO_USER")
        if sudo:
            who += f", sudo par {''.join(c if c.isprintable() else '?' for c in sudo)}"
        return cls(
            label=f"ligne de commande ({who})"[:200],
            source_address=current_connection(environ).source,
        )


def _unix_user() -> str:
    try:
        import pwd
    except ImportError:  # not a Unix system
        return getpass.getuser()
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # a uid without a name (a container)
        return f"uid {os.getuid()}"


def _payload(event: AuditEvent, targets: list[int]) -> bytes:
    content: dict[str, Any] = {
        "prev": event.prev_hash,
        "at": event.occurred_at.astimezone(dt.UTC).isoformat(),
        "actor": [event.actor_id, event.actor_label, event.source_address],
        "action": event.action,
        "establishment": event.establishment_id,
        "details": event.details,
        "targets": sorted(targets),
    }
    if event.key_id is not None:
        content["key"] = event.key_id
    return json.dumps(content, sort_keys=True, ensure_ascii=False, default=str).encode()


def _digest(event: AuditEvent, targets: list[int]) -> str:
    """The plain SHA-256 of the records written before the service had keys."""
    return hashlib.sha256(_payload(event, targets)).hexdigest()


def signed_digest(session: Session, event: AuditEvent, targets: list[int]) -> str:
    """The HMAC of a record signed by ``event.key_id`` (KeyError: a key the file lacks)."""
    assert event.key_id is not None
    key = keys.key_named(session, event.key_id)
    if key is None:
        raise KeyError(event.key_id)
    return key.sign(_payload(event, targets))


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    now: dt.datetime,
    establishment_id: int | None = None,
    targets: Iterable[int] = (),
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (so it commits or rolls back with it).

    The technical log gets a line for it once that transaction commits (``logs``).
    """
    target_ids = sorted(set(targets))
    key = keys.current_key(session)
    # Lock the anchor row so two writers cannot both chain onto the same record: a
    # second writer waits here, then reads the tail the first one committed. (Locking
    # the tail row itself would not do: after the wait, PostgreSQL hands back the same
    # old tail.) The very first record of an empty trail has no anchor row to lock yet.
    session.execute(select(AuditAnchor.id).where(AuditAnchor.id == 1).with_for_update())
    last = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1).with_for_update()
    ).scalar()
    event = AuditEvent(
        occurred_at=now,
        actor_id=actor.staff_id,
        actor_label=actor.label,
        source_address=actor.source_address,
        action=action,
        establishment_id=establishment_id,
        details=details or {},
        prev_hash=last or GENESIS,
        hash="",
        key_id=key.id,
    )
    event.hash = key.sign(_payload(event, target_ids))
    session.add(event)
    session.flush()
    if target_ids:
        session.execute(
            insert(AuditTarget),
            [{"event_id": event.id, "account_id": a} for a in target_ids],
        )
    logs.audited(
        session,
        action,
        actor=actor.label,
        source=actor.source_address,
        establishment_id=establishment_id,
        targets=len(target_ids),
        details=event.details,
    )
    return event


VERIFY_BATCH = 1000


# The triggers ``verify`` relies on, per backend (migrations 0002 and 0005): without one
# of them an ordinary connection can rewrite, delete or cut off records again.
REQUIRED_TRIGGERS = {
    "sqlite": (
        ("audit_event", "audit_event_no_update"),
        ("audit_event", "audit_event_no_delete"),
        ("audit_event", "audit_event_no_reuse"),
        ("audit_event", "audit_anchor_follow"),
        ("audit_target", "audit_target_no_update"),
        ("audit_target", "audit_target_no_delete"),
        ("audit_target", "audit_target_no_reuse"),
        ("audit_anchor", "audit_anchor_no_delete"),
        ("audit_anchor", "audit_anchor_no_insert"),
        ("audit_anchor", "audit_anchor_forward"),
    ),
    "postgresql": (
        ("audit_event", "audit_event_no_change"),
        ("audit_event", "audit_event_no_reuse"),
        ("audit_event", "audit_anchor_follow"),
        ("audit_target", "audit_target_no_change"),
        ("audit_anchor", "audit_anchor_no_delete"),
        ("audit_anchor", "audit_anchor_check"),
    ),
}


def missing_triggers(session: Session) -> tuple[str, ...]:
    """The required triggers that are absent, on another table, or disabled (PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    required = REQUIRED_TRIGGERS.get(dialect, ())
    if dialect == "postgresql":
        rows = session.execute(
            text(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c "
                "ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' "
                "AND pg_table_is_visible(c.oid)"
            )
        ).all()
    else:
        rows = session.execute(
            text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        ).all()
    present = {(table, name) for table, name in rows}
    return tuple(name for table, name in required if (table, name) not in present)


@dataclass(frozen=True)
class ChainReport:
    """What ``verify`` found: ``broken_at`` is the first record found wrong (None: intact).

    ``unkeyed`` counts the records older than the key (plain SHA-256), ``attested`` says
    whether the key file vouches for them (False: a key file from before its statement),
    ``keys`` the key ids that signed the others, ``missing_triggers`` the protections no
    longer in place: the trail is sound only with none.
    """

    checked: int
    broken_at: int | None
    reason: str
    unkeyed: int = 0
    keys: tuple[str, ...] = ()
    missing_triggers: tuple[str, ...] = ()
    attested: bool = True

    @property
    def ok(self) -> bool:
        return self.broken_at is None and not self.missing_triggers

    def _chain(self) -> str:
        if self.broken_at is None:
            older = f" dont {self.unkeyed} antérieurs à la clé" if self.unkeyed else ""
            if self.unkeyed and not self.attested:
                older += (
                    " (non attestés par le fichier de clés, antérieur à cette attestation\u00a0: "
                    "lancez « educonnect-tui db upgrade »)"
                )
            return f"chaîne intacte\u00a0: {self.checked} enregistrements{older}"
        return (
            f"chaîne rompue à l'enregistrement n° {self.broken_at}\u00a0: {self.reason} "
            f"({self.checked} enregistrements vérifiés avant)"
        )

    def _triggers(self) -> str:
        if not self.missing_triggers:
            return "déclencheurs en place"
        plural = "s" if len(self.missing_triggers) > 1 else ""
        return (
            f"déclencheur{plural} absent{plural} ou désactivé{plural}\u00a0: "
            f"{', '.join(self.missing_triggers)} (le journal n'est plus protégé en ajout seul)"
        )

    def message(self) -> str:
        """One French line, as the CLI and the audit screen print it."""
        return f"{self._chain()} ; {self._triggers()}"

    def as_dict(self) -> dict[str, object]:
        return {
            "intact": self.ok,
            "checked": self.checked,
            "broken_at": self.broken_at,
            "reason": self.reason,
            "unkeyed": self.unkeyed,
            "unkeyed_attested": self.attested,
            "keys": list(self.keys),
            "triggers_missing": list(self.missing_triggers),
            "message": self.message(),
        }


def _check_hash(session: Session, event: AuditEvent, targets: list[int], signed: bool) -> str:
    """Why ``event``'s hash is wrong, or "" when it is right."""
    if event.key_id is None:
        if signed:
            return (
                "il n'est pas signé alors que les précédents le sont\u00a0: ajouté ou réécrit sans "
                "la clé du service"
            )
        return "" if _digest(event, targets) == event.hash else _EDITED
    try:
        expected = signed_digest(session, event, targets)
    except KeyError:
        return f"signé par la clé « {event.key_id} », absente du fichier de clés"
    return "" if expected == event.hash else _EDITED


_EDITED = "son contenu ou la liste des comptes visés a été modifié (ou il n'a pas été signé)"


def verify(session: Session) -> ChainReport:
    """Walk the chain in order, then compare its end with the anchor; check the triggers.

    Reports the first record that was edited or forged (its hash, over its content and
    its targets, is not what the key gives), the record after one removed from the
    middle (its ``prev_hash`` no longer matches) and records removed from the end (the
    anchor knows a later id). Reads in batches of ``VERIFY_BATCH`` so memory stays flat.
    """
    found = _walk(session)
    return ChainReport(
        found.checked,
        found.broken_at,
        found.reason,
        unkeyed=found.unkeyed,
        keys=found.keys,
        missing_triggers=missing_triggers(session),
        attested=found.attested,
    )


def _unsigned_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.key_id.is_(None))
        )
        or 0
    )


def _legacy_check(
    session: Session, stated: keys.Legacy | None, unkeyed: int, previous: str, *, more: bool
) -> str:
    """Why the unsigned prefix so far is not the one the key file states, or "" when it is
    (or may still become it: ``more`` when the record at hand is unsigned too)."""
    if stated is None:
        return ""
    if more and unkeyed >= stated.records:
        return (
            f"{_unsigned_count(session)} enregistrements non signés alors que le fichier de "
            f"clés n'en connaît que {stated.records} : ajoutés ou réécrits sans la clé du service"
        )
    if more:
        return ""
    if unkeyed < stated.records:
        return (
            f"{unkeyed} enregistrements non signés alors que le fichier de clés en connaît "
            f"{stated.records}\u00a0: les autres ont été supprimés"
        )
    if previous != stated.last_hash:
        return (
            "les enregistrements antérieurs à la clé ne sont pas ceux que le fichier de clés "
            "connaît\u00a0: remplacés ou réécrits sans la clé du service"
        )
    return ""


def _walk(session: Session) -> ChainReport:
    previous = GENESIS
    checked = 0
    unkeyed = 0
    used: dict[str, None] = {}
    last_id: int | None = None
    # Read again: another process may have restated it (``demo --reset``).
    stated = keys.store_of(session).fresh(session).legacy
    prefix_done = False

    def report(broken_at: int | None, reason: str) -> ChainReport:
        return ChainReport(
            checked,
            broken_at,
            reason,
            unkeyed=unkeyed,
            keys=tuple(used),
            attested=stated is not None,
        )

    while True:
        query = select(AuditEvent).order_by(AuditEvent.id).limit(VERIFY_BATCH)
        if last_id is not None:
            query = query.where(AuditEvent.id > last_id)
        batch = session.scalars(query).all()
        if not batch:
            break
        targets: dict[int, list[int]] = {}
        for event_id, account_id in session.execute(
            select(AuditTarget.event_id, AuditTarget.account_id).where(
                AuditTarget.event_id.between(batch[0].id, batch[-1].id)
            )
        ):
            targets.setdefault(event_id, []).append(account_id)
        for event in batch:
            if event.prev_hash != previous:
                after = f"n° {last_id}" if last_id is not None else "le début du journal"
                return report(
                    event.id,
                    f"son lien vers l'enregistrement précédent ne correspond plus\u00a0: un "
                    f"enregistrement entre {after} et celui-ci a été supprimé ou modifié",
                )
            if not prefix_done:
                unsigned = event.key_id is None
                wrong = _legacy_check(session, stated, unkeyed, previous, more=unsigned)
                if wrong:
                    return report(event.id, wrong)
                prefix_done = not unsigned
            wrong = _check_hash(session, event, targets.get(event.id, []), bool(used))
            if wrong:
                return report(event.id, wrong)
            if event.key_id is None:
                unkeyed += 1
            else:
                used[event.key_id] = None
            previous = event.hash
            last_id = event.id
            checked += 1
    if not prefix_done:
        wrong = _legacy_check(session, stated, unkeyed, previous, more=False)
        if wrong:
            # Records missing: where the next one should be; replaced: the last one.
            too_few = stated is not None and unkeyed < stated.records
            return report((last_id or 0) + 1 if too_few else last_id, wrong)
    anchor = session.get(AuditAnchor, 1)
    if anchor is None:
        if checked:
            return report(last_id, "l'ancre du journal a été supprimée")
        return report(None, "chaîne intacte")
    if anchor.last_event_id > (last_id or 0):
        missing = anchor.event_count - checked
        what = (
            f"le dernier enregistrement (n° {anchor.last_event_id}) a été supprimé"
            if missing <= 1
            else f"les {missing} derniers enregistrements (jusqu'au n° {anchor.last_event_id}) "
            "ont été supprimés"
        )
        return report(anchor.last_event_id, what)
    if (anchor.event_count, anchor.last_event_id, anchor.last_hash) != (
        checked,
        last_id or 0,
        previous if last_id is not None else "",
    ):
        return report(
            last_id,
            f"l'ancre du journal ne correspond pas à la fin de la chaîne "
            f"({anchor.event_count} enregistrements attendus, dernier n° {anchor.last_event_id})",
        )
    return report(None, "chaîne intacte")
