"""The audit trail: append-only, hash-chained records of every staff action.

Each record stores the hash of the previous one and its own hash over its content,
so editing or deleting a record breaks the chain, which ``verify`` reports.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .models import AuditEvent, AuditTarget

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
    def command_line(cls) -> Actor:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "inconnu"
        return cls(label=f"ligne de commande ({user})", source_address=socket.gethostname())


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
    # Lock the tail so two writers cannot both chain onto the same record.
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


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(session: Session) -> ChainReport:
    """Walk the chain in order; report the first record that was edited, inserted or removed."""
    previous = GENESIS
    checked = 0
    targets: dict[int, list[int]] = {}
    for event_id, account_id in session.execute(
        select(AuditTarget.event_id, AuditTarget.account_id)
    ):
        targets.setdefault(event_id, []).append(account_id)
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        if event.prev_hash != previous:
            return ChainReport(checked, event.id, "un enregistrement précédent a été supprimé")
        if _digest(event, targets.get(event.id, [])) != event.hash:
            return ChainReport(checked, event.id, "cet enregistrement a été modifié")
        previous = event.hash
        checked += 1
    return ChainReport(checked, None, "chaîne intacte")
