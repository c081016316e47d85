"""The audit trail: append-only, hash-chained records of every staff action.

Each record stores the hash of the previous one and its own hash over its content,
so editing or deleting a record breaks the chain, which ``verify`` reports. Records cut
off the end of the chain leave no trace in it: ``audit_anchor``, kept in step by a
database trigger (migration 0002), remembers the count, last id and last hash, and
``verify`` compares the chain's end with it. Triggers refuse UPDATE and DELETE on the
audit tables; someone who can drop triggers (the database owner) can still rewrite
the whole trail and its anchor consistently: the chain shows accidents and tampering
through the application's own access, not an all-powerful database administrator.
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

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..model.tables import AuditAnchor, AuditEvent, AuditTarget
from .connection import current_connection

GENESIS = "0" * 64

# What staff read in histories and the audit screen.
ACTION_LABELS = {
    "notify": "(re)notification",
    "import": "import SIECLE",
    "demo": "création de la démonstration",
    "staff_add": "ajout d'un personnel",
    "sign_in": "connexion",
    "sign_in_failed": "connexion refusée",
    "sign_in_blocked": "connexion bloquée",
    "sign_in_refused": "connexion refusée (aucun établissement)",
    "school_chosen": "choix de l'établissement",
    "school_choice_refused": "choix d'établissement refusé",
    "recall_login": "rappel de l'identifiant",
    "reset_password": "réinitialisation du mot de passe",
    "unblock": "déblocage du compte",
    "export": "export",
    "delegation_grant": "délégation accordée",
    "delegation_revoke": "délégation révoquée",
    # The command line's reads and owners' flows: it has no sign-in, so each is recorded.
    "search": "recherche de comptes (ligne de commande)",
    "stats_read": "statistiques consultées (ligne de commande)",
    "audit_read": "journal consulté (ligne de commande)",
    "owner_flow": "parcours d'activation (ligne de commande)",
    "db_upgrade": "mise à jour du schéma de la base",
}


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


def _digest(event: AuditEvent, targets: list[int]) -> str:
    payload = json.dumps(
        {
            "prev": event.prev_hash,
            "at": event.occurred_at.astimezone(dt.UTC).isoformat(),
            "actor": [event.actor_id, event.actor_label, event.source_address],
            "action": event.action,
            "establishment": event.establishment_id,
            "details": event.details,
            "targets": sorted(targets),
        },
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


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
    """Append one event in the caller's transaction (so it commits or rolls back with it)."""
    target_ids = sorted(set(targets))
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
    )
    event.hash = _digest(event, target_ids)
    session.add(event)
    session.flush()
    if target_ids:
        session.execute(
            insert(AuditTarget),
            [{"event_id": event.id, "account_id": a} for a in target_ids],
        )
    return event


VERIFY_BATCH = 1000


@dataclass(frozen=True)
class ChainReport:
    """What ``verify`` found: ``broken_at`` is the first record found wrong (None: intact)."""

    checked: int
    broken_at: int | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.broken_at is None

    def message(self) -> str:
        """One French line, as the CLI and the audit screen print it."""
        if self.ok:
            return f"chaîne intacte : {self.checked} enregistrements"
        return (
            f"chaîne rompue à l'enregistrement n° {self.broken_at} : {self.reason} "
            f"({self.checked} enregistrements vérifiés avant)"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "intact": self.ok,
            "checked": self.checked,
            "broken_at": self.broken_at,
            "reason": self.reason,
            "message": self.message(),
        }


def verify(session: Session) -> ChainReport:
    """Walk the chain in order, then compare its end with the anchor.

    Reports the first record that was edited (its hash, over its content and its
    targets, no longer matches), the record after one removed from the middle (its
    ``prev_hash`` no longer matches) and records removed from the end (the anchor knows
    a later id). Reads in batches of ``VERIFY_BATCH`` so memory stays flat.
    """
    previous = GENESIS
    checked = 0
    last_id: int | None = None
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
                return ChainReport(
                    checked,
                    event.id,
                    f"son lien vers l'enregistrement précédent ne correspond plus : un "
                    f"enregistrement entre {after} et celui-ci a été supprimé ou modifié",
                )
            if _digest(event, targets.get(event.id, [])) != event.hash:
                return ChainReport(
                    checked,
                    event.id,
                    "son contenu ou la liste des comptes visés a été modifié",
                )
            previous = event.hash
            last_id = event.id
            checked += 1
    anchor = session.get(AuditAnchor, 1)
    if anchor is None:
        if checked:
            return ChainReport(checked, last_id, "l'ancre du journal a été supprimée")
        return ChainReport(0, None, "chaîne intacte")
    if anchor.last_event_id > (last_id or 0):
        missing = anchor.event_count - checked
        what = (
            f"le dernier enregistrement (n° {anchor.last_event_id}) a été supprimé"
            if missing <= 1
            else f"les {missing} derniers enregistrements (jusqu'au n° {anchor.last_event_id}) "
            "ont été supprimés"
        )
        return ChainReport(checked, anchor.last_event_id, what)
    if (anchor.event_count, anchor.last_event_id, anchor.last_hash) != (
        checked,
        last_id or 0,
        previous if last_id is not None else "",
    ):
        return ChainReport(
            checked,
            last_id,
            f"l'ancre du journal ne correspond pas à la fin de la chaîne "
            f"({anchor.event_count} enregistrements attendus, dernier n° {anchor.last_event_id})",
        )
    return ChainReport(checked, None, "chaîne intacte")
