"""What a person reads of an audit record's details: French labels, French words.

Records keep what the code wrote (short English keys, codes such as ``otp`` or
``bad_password``, ISO instants): they are signed as written, so they are translated
here, when they are read, by the journal screen, the command line's listing and its
exports alike. Old records read the same way as new ones.

Instants are read in the school's time (``SchoolTime``), as the journal's own dates.
A key without a label here still shows, under its own name, rather than being lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..model.calendar import SchoolTime, date_text
from ..model.enums import AccountKind, EstablishmentType, NotifyChannel, OutboxState
from .audit import action_label

COLON = "\u00a0:"
SHOWN_ITEMS = 5

# The French label of every key the code records.
DETAIL_NAMES = {
    "count": "comptes",
    "accounts": "comptes",
    "kind": "type",
    "file": "fichier",
    "files": "fichiers",
    "rows": "lignes",
    "added": "ajoutés",
    "moved": "changés de classe",
    "updated": "mis à jour",
    "left": "partis",
    "reinstated": "revenus",
    "format": "format",
    "formats": "formats",
    "what": "contenu",
    "path": "fichier",
    "paths": "fichiers",
    "uai": "UAI",
    "name": "nom",
    "school_type": "type d'établissement",
    "city": "commune",
    "listed": "établissements listés",
    "allow_departures": "départs au-delà du seuil confirmés",
    "login": "identifiant",
    "role": "rôle",
    "agent": "agent",
    "module": "module",
    "network_mode": "accès",
    "reason": "motif",
    "blocked_until": "bloqué jusqu'au",
    "schools": "établissements rattachés",
    "seed": "graine",
    "scale": "échelle",
    "academie": "académie",
    "filters": "filtres",
    "created": "base créée",
    "reset": "base réinitialisée",
    "delegation_id": "délégation n°",
    "classes": "classes",
    "valid_from": "du",
    "valid_until": "jusqu'au",
    "granted_by": "accordée par",
    "state_before": "état avant",
    "slip": "fiche imprimée",
    "lot": "lot de fichiers",
    "old_key": "ancienne clé",
    "new_key": "nouvelle clé",
    "resealed": "secrets OTP rechiffrés",
    "text": "recherche",
    "results": "résultats",
    "more": "autres résultats",
    "flow": "parcours",
    "outcome": "résultat",
    "from": "version avant",
    "to": "version après",
    "held": "modules détenus",
    "from_uai": "établissement quitté",
    "sent": "envoyés",
    "failed": "en échec",
    "pending": "en attente",
    "uncertain": "incertains",
    "purged": "purgés",
    "retention_days": "conservation (jours)",
    "messages": "courriels n°",
    "state": "état",
    "channel": "canal",
    "activated_replaced": "mots de passe personnels remplacés (comptes activés)",
    "emailed": "par courriel",
    "on_paper": "sur papier",
    "no_address": "sans adresse (non notifiés)",
    "temporary_until": "provisoire jusqu'au",
    "revoked": "délégations révoquées",
    "role_before": "rôle avant",
    "was_temporary": "remplace un mot de passe provisoire",
    "purpose": "demandé pour",
    "backend": "base",
    "bytes": "octets",
    "revision": "version du schéma",
    "events": "événements du journal",
    "pruned": "anciennes sauvegardes effacées",
}
# The journal's reads and extracts count events, not lines of a file.
_EVENT_ROWS = {"export", "audit_read"}
# Kept in the record for statistics, too long to read in a line.
_SKIPPED = {"by_division"}

# Why a staff sign-in was refused (``access.sign_in``): the record keeps the code.
_REASONS = {
    "unknown_login": "identifiant inconnu",
    "bad_password": "mot de passe incorrect",
    "missing_code": "code OTP absent",
    "bad_code": "code OTP incorrect",
    "replayed_code": "code OTP déjà utilisé",
    "blocked_elsewhere": "identifiant bloqué depuis cette adresse",
    "no_school": "aucun établissement rattaché",
    "disabled": "compte désactivé",
    "temporary_password_expired": "mot de passe provisoire expiré",
    # A password typed again in a session (``access.sessions``), and how sessions end.
    "blocked": "compte déjà bloqué",
    "session_ended": "session déjà terminée",
    "password_reset": "mot de passe réinitialisé",
}
_MODULES = {"administration": "administration", "depannage": "dépannage"}
_KINDS = {
    **{k.value: k.label for k in AccountKind},
    "pupils": "élèves",
    "guardians": "représentants légaux",
    "siecle": "élèves et responsables (SIECLE, XML)",
}
_SCHOOL_TYPES = {t.value: t.label for t in EstablishmentType}
_OUTBOX_STATES = {s.value: s.label for s in OutboxState}
_CHANNELS = {c.value: c.label for c in NotifyChannel}
_ROLES = {"direction": "personnel de direction", "agent": "agent"}
_FORMATS = {"csv": "CSV", "pdf": "PDF", "json": "JSON", "table": "tableau"}
_PURPOSES = {"lock": "le déverrouillage de l'écran", "sensitive": "une action sensible"}
_FLOWS = {
    "pupil": "activation d'un élève",
    "guardian": "activation d'un représentant légal",
    "confirm": "confirmation du courriel d'un représentant légal",
    "franceconnect": "activation par FranceConnect",
}


def reason_words(reason: object) -> str:
    """A refusal's code in words (the owners' flows already record words)."""
    code = str(reason)
    return _REASONS.get(code, code.replace("_", " "))


def _access(action: str, details: Mapping[str, Any]) -> str:
    """How a sign-in met, or was asked for, the second factor — what really happened.

    Off the administrative network, only the administration module asks for the code;
    a dépannage sign-in there has none, and must not read as if it had one.
    """
    mode, module = details.get("network_mode"), details.get("module")
    if mode == "reseau_administratif":
        return "réseau administratif, sans code"
    if module == "depannage":
        return "hors réseau administratif, sans code (dépannage)"
    if module == "administration":
        # Refused for want of a delegation: the credentials, code included, were right.
        verified = action == "sign_in_no_delegation" or (
            action == "sign_in" and "reason" not in details
        )
        return f"hors réseau administratif, code OTP {'vérifié' if verified else 'exigé'}"
    return "hors réseau administratif"


def _items(value: list[Any]) -> str:
    shown = ", ".join(str(v) for v in value[:SHOWN_ITEMS])
    return shown + ("…" if len(value) > SHOWN_ITEMS else "")


def _instant(time: SchoolTime) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        if moment.tzinfo is None:  # written as UTC
            moment = moment.replace(tzinfo=dt.UTC)
        return time.date_time(moment)

    return read


def _day(value: Any) -> str:
    try:
        return date_text(dt.date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _filters(value: Any) -> str:
    """A read's filters, recorded with French names already; the action is a code."""
    if not isinstance(value, dict) or not value:
        return "aucun"
    return ", ".join(
        f"{k}{COLON} {action_label(str(v)) if k == 'action' else v}" for k, v in value.items()
    )


def _classes(value: Any) -> str:
    if isinstance(value, list) and not value:
        return "toutes les classes"
    return _items(value) if isinstance(value, list) else str(value)


def _held(value: Any) -> str:
    """What a refused person holds, recorded as "UAI module" pairs."""
    if not isinstance(value, list) or not value:
        return "aucun"
    pairs = (str(v).partition(" ") for v in value)
    return _items([f"{_MODULES.get(module, module)} ({uai})" for uai, _, module in pairs])


def _words(table: Mapping[str, str]) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        if isinstance(value, list):
            return _items([table.get(str(v), v) for v in value])
        return table.get(str(value), str(value))

    return read


def _value_readers(time: SchoolTime) -> dict[str, Callable[[Any], str]]:
    return {
        "kind": _words(_KINDS),
        "module": _words(_MODULES),
        "role": _words(_ROLES),
        "school_type": _words(_SCHOOL_TYPES),
        "format": _words(_FORMATS),
        "formats": _words(_FORMATS),
        "flow": _words(_FLOWS),
        "purpose": _words(_PURPOSES),
        "state": _words(_OUTBOX_STATES),
        "channel": _words(_CHANNELS),
        "reason": reason_words,
        "blocked_until": _instant(time),
        "temporary_until": _instant(time),
        "role_before": _words(_ROLES),
        "valid_from": _day,
        "valid_until": _day,
        "filters": _filters,
        "classes": _classes,
        "held": _held,
    }


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return _items(value)
    return "" if value is None else str(value)


# The details naming files: the event's own view shows every one, one a line.
FILE_KEYS = {"path", "paths", "file", "files"}


@dataclass(frozen=True)
class DetailLine:
    """One detail as the event's view shows it: every file, when it names files."""

    label: str
    values: tuple[str, ...]
    files: bool = False


def event_lines(action: str, details: Mapping[str, Any], time: SchoolTime) -> list[DetailLine]:
    """The details of ``detail_lines``, with each recorded file whole (never « … »)."""
    lines: list[DetailLine] = []
    for key, label, text in _details(action, details, time):
        value = details.get(key)
        if key in FILE_KEYS:
            files = value if isinstance(value, list) else [value]
            lines.append(DetailLine(label, tuple(str(f) for f in files), files=True))
        else:
            lines.append(DetailLine(label, (text,)))
    return lines


def detail_lines(
    action: str, details: Mapping[str, Any], time: SchoolTime
) -> list[tuple[str, str]]:
    """(French label, French value) of each detail worth reading, in recorded order."""
    return [(label, text) for _key, label, text in _details(action, details, time)]


def _details(
    action: str, details: Mapping[str, Any], time: SchoolTime
) -> list[tuple[str, str, str]]:
    """(key, French label, French value) of each detail worth reading."""
    readers = _value_readers(time)
    lines: list[tuple[str, str, str]] = []
    for key, value in details.items():
        if key in _SKIPPED or value in ("", None):
            continue
        if key == "network_mode":
            lines.append((key, DETAIL_NAMES[key], _access(action, details)))
            continue
        if key == "results" and details.get("more"):
            lines.append((key, DETAIL_NAMES[key], f"{value} (et d'autres, non affichés)"))
            continue
        if key == "more":
            continue  # said with the results
        if key in ("created", "reset") and not value:
            continue
        if isinstance(value, dict) and key not in readers:
            continue
        read = readers.get(key, _plain)
        text = read(value)
        if key == "rows" and action in _EVENT_ROWS and text:
            lines.append((key, "événements", text))
        elif text:
            label = DETAIL_NAMES.get(key, key.replace("_", " ").strip() or "détail")
            lines.append((key, label, text))
    return lines


def summarize(action: str, details: Mapping[str, Any], time: SchoolTime) -> str:
    """One French line: « accès : réseau administratif, sans code · module : dépannage »."""
    return " · ".join(
        f"{label}{COLON} {value}" for label, value in detail_lines(action, details, time)
    )


def unnamed_keys(details: Mapping[str, Any]) -> set[str]:
    """The keys that would show under their own (English) name."""
    return {key for key in details if key not in DETAIL_NAMES and key not in _SKIPPED}
