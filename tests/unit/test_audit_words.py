"""What a person reads of an audit record: French labels and French words, never codes.

Every action the trail knows has a sample of the details it records; a new action
without one, or a detail key without a French label anywhere in the code, fails here.
"""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import educonnect_tui
from educonnect_tui.domain.model.calendar import SchoolTime
from educonnect_tui.domain.store import audit_words
from educonnect_tui.domain.store.audit import ACTION_LABELS

TIME = SchoolTime.named("Europe/Paris")
# 10:30 UTC in November is 11:30 in Paris.
BLOCKED = "2026-11-16T10:30:00+00:00"
COLON = "\u00a0:"

# What each action records, as the code records it (the values are codes).
SAMPLES: dict[str, dict[str, Any]] = {
    "notify": {"kind": "eleve", "count": 3, "by_division": {"3E2": 3}, "lot": "ab12",
               "channel": "auto", "emailed": 2, "on_paper": 1, "no_address": 0},
    "notify_reminder": {"kind": "responsable", "count": 3, "by_division": {"représentants": 3},
                        "lot": "ab12", "channel": "email", "emailed": 3, "on_paper": 0,
                        "no_address": 1},
    "import": {"kind": "pupils", "file": "eleves.xml", "rows": 12, "added": 2, "moved": 1,
               "updated": 3, "left": 0, "reinstated": 1},
    "demo": {"academie": "Créteil", "seed": 7, "scale": 0.002, "created": True,
             "reset": False, "accounts": 120},
    "staff_add": {"login": "p.durand", "role": "agent", "uai": ["0750655E", "0941876D"]},
    "staff_password_reset": {"login": "p.durand", "temporary_until": BLOCKED},
    "staff_otp_reset": {"login": "p.durand"},
    "staff_unlock": {"login": "p.durand", "blocked_until": BLOCKED},
    "staff_disable": {"login": "p.durand", "revoked": 2},
    "staff_enable": {"login": "p.durand"},
    "staff_role_changed": {"login": "p.durand", "role": "direction", "role_before": "agent"},
    "staff_password_changed": {"login": "p.durand", "was_temporary": True},
    "staff_list": {"format": "table", "results": 4},
    "sign_in": {"network_mode": "otp", "module": "administration", "schools": 2},
    "sign_in_failed": {"network_mode": "otp", "module": "administration",
                       "reason": "bad_password", "blocked_until": BLOCKED},
    "sign_in_blocked": {"network_mode": "otp", "module": "depannage",
                        "blocked_until": BLOCKED},
    "sign_in_refused": {"network_mode": "reseau_administratif", "module": "administration",
                        "reason": "no_school"},
    "school_chosen": {"uai": "0750655E"},
    "school_choice_refused": {"uai": "0000000X"},
    "recall_login": {"kind": "responsable", "module": "depannage"},
    "reset_password": {"kind": "eleve", "module": "depannage", "slip": True, "lot": "ab12"},
    "slip_written": {"kind": "eleve", "path": "/srv/fiches/fiche_e.dupont.pdf", "lot": "ab12"},
    "unblock": {"kind": "eleve", "module": "administration", "blocked_until": BLOCKED},
    "export": {"what": "journal d'audit", "path": "/srv/journal.csv", "format": "csv",
               "rows": 4, "lot": "ab12",
               "filters": {"qui": "k.haddad", "action": "sign_in_failed", "du": "01/09/2026"}},
    "delegation_grant": {"delegation_id": 4, "agent": "p.durand", "module": "depannage",
                         "classes": ["3E1", "3E2"], "valid_from": "2026-09-01",
                         "valid_until": "2027-07-04", "granted_by": "h.martin"},
    "delegation_revoke": {"delegation_id": 4, "agent": "p.durand", "module": "depannage",
                          "classes": [], "valid_until": "2027-07-04", "state_before": "active"},
    "key_rotated": {"old_key": "k1", "new_key": "k2", "resealed": 3},
    "search": {"text": "BOUZID", "results": 20, "more": True},
    "stats_read": {"format": "json"},
    "accounts_read": {
        "kind": "eleve",
        "classes": ["3E2"],
        "filters": {"courriel": "sans", "provisoires expirant au plus tard": "2026-11-23T09:30"},
        "format": "csv",
        "results": 27,
    },
    "school_add": {
        "uai": "0750655E",
        "name": "Collège Henri-IV",
        "school_type": "college",
        "academie": "Paris",
        "city": "Paris",
    },
    "school_list": {"listed": 2},
    "audit_read": {"format": "table", "rows": 4, "filters": {}},
    "owner_flow": {"flow": "guardian", "login": "jdupont1", "outcome": "refusé",
                   "reason": "identifiants incorrects ou expirés"},
    "db_upgrade": {"from": "0006", "to": "0007"},
    "sign_in_no_delegation": {"network_mode": "otp", "module": "administration",
                              "held": ["0941234F depannage"]},
    "school_switched": {"uai": "0941876D", "module": "administration", "from_uai": "0941234F"},
    "sign_out": {"module": "administration"},
    "session_unlocked": {"purpose": "lock", "module": "administration"},
    "session_confirmed": {"purpose": "sensitive", "module": "depannage"},
    "session_confirm_failed": {"purpose": "lock", "module": "administration",
                               "reason": "bad_password", "blocked_until": BLOCKED},
    "outbox_send": {"sent": 3, "failed": 1, "pending": 2, "uncertain": 0, "purged": 4,
                    "reason": "serveur SMTP relais:25 injoignable\u00a0: connexion refusée"},
    "outbox_read": {"format": "table", "rows": 12, "state": "en_attente"},
    "outbox_purge": {"purged": 4, "retention_days": 30},
    "backup": {"file": "/var/backups/educonnect/2026-11-16.dump", "backend": "postgresql",
               "bytes": 123456, "revision": "0012", "pruned": 1},
    "restore": {"file": "/var/backups/educonnect/2026-11-16.dump", "backend": "sqlite",
                "revision": "0012", "events": 42},
    "outbox_resend": {"messages": [12, 15]},
    "outbox_abandon": {"messages": [12]},
}  # fmt: skip

# Codes and English words that must never reach a reader.
CODES = (
    "otp\u00a0:", "reseau_administratif", "bad_password", "no_school", "eleve ", "pupils",
    "depannage", "True", "False", "T10:30", "2026-09-01", "network", "blocked", "flow",
    "outcome", "results", "more", "text", "schools", "seed", "created", "{", "}",
)  # fmt: skip


def test_every_action_has_a_sample() -> None:
    assert set(SAMPLES) == set(ACTION_LABELS)


@pytest.mark.parametrize("action", sorted(ACTION_LABELS))
def test_every_action_reads_in_french(action: str) -> None:
    details = SAMPLES[action]
    assert audit_words.unnamed_keys(details) == set()
    text = audit_words.summarize(action, details, TIME)
    assert text
    for code in CODES:
        assert code not in text, (code, text)
    for label, value in audit_words.detail_lines(action, details, TIME):
        assert label and value
        assert f"{label}{COLON} {value}" in text


def _recorded_keys() -> set[str]:
    """Every detail key the code writes: ``details={...}`` literals, ``details = {...}``,
    and the keyword arguments of the sign-in's ``audit(action, **details)``."""
    keys: set[str] = set()
    root = Path(educonnect_tui.__file__).parent
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            dicts: list[ast.expr] = []
            if isinstance(node, ast.Call):
                dicts += [k.value for k in node.keywords if k.arg == "details"]
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr == "audit":
                    keys.update(k.arg for k in node.keywords if k.arg)
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "details" for t in node.targets
            ):
                dicts.append(node.value)
            for value in dicts:
                if isinstance(value, ast.Dict):
                    keys.update(
                        k.value
                        for k in value.keys
                        if isinstance(k, ast.Constant) and isinstance(k.value, str)
                    )
    return keys


def test_every_key_the_code_records_has_a_french_label() -> None:
    recorded = _recorded_keys()
    assert {"network_mode", "blocked_until", "granted_by", "flow"} <= recorded
    assert audit_words.unnamed_keys(dict.fromkeys(recorded)) == set()


def test_every_sign_in_refusal_reason_has_french_words() -> None:
    source = (Path(educonnect_tui.__file__).parent / "domain/access/sign_in.py").read_text()
    tree = ast.parse(source)
    reasons = {
        constant.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "fail"
        and node.args
        for constant in ast.walk(node.args[0])
        if isinstance(constant, ast.Constant) and isinstance(constant.value, str)
    } | {"no_school"}
    assert len(reasons) == 7
    for reason in reasons:
        words = audit_words.reason_words(reason)
        assert words != reason and "_" not in words


@pytest.mark.parametrize(
    ("details", "action", "expected"),
    [
        ({"network_mode": "otp", "module": "depannage"}, "sign_in",
         "hors réseau administratif, sans code (dépannage)"),
        ({"network_mode": "reseau_administratif", "module": "depannage"}, "sign_in",
         "réseau administratif, sans code"),
        ({"network_mode": "reseau_administratif", "module": "administration"}, "sign_in",
         "réseau administratif, sans code"),
        ({"network_mode": "otp", "module": "administration"}, "sign_in",
         "hors réseau administratif, code OTP vérifié"),
        ({"network_mode": "otp", "module": "administration", "reason": "bad_code"},
         "sign_in_failed", "hors réseau administratif, code OTP exigé"),
        ({"network_mode": "otp"}, "sign_in", "hors réseau administratif"),
    ],
)  # fmt: skip
def test_sign_in_says_how_it_was_made(details: dict[str, Any], action: str, expected: str) -> None:
    lines = dict(audit_words.detail_lines(action, details, TIME))
    assert lines["accès"] == expected
    assert "réseau" not in lines
    assert "otp" not in audit_words.summarize(action, details, TIME)


def test_blocked_until_is_the_schools_time_in_words() -> None:
    lines = dict(audit_words.detail_lines("unblock", SAMPLES["unblock"], TIME))
    assert lines["bloqué jusqu'au"] == "16/11/2026 à 11:30"
    assert lines["type"] == "élève"
    other = dict(audit_words.detail_lines("unblock", SAMPLES["unblock"], SchoolTime.named("UTC")))
    assert other["bloqué jusqu'au"] == "16/11/2026 à 10:30"


def test_delegation_and_refusal_words() -> None:
    grant = dict(audit_words.detail_lines("delegation_grant", SAMPLES["delegation_grant"], TIME))
    assert grant["accordée par"] == "h.martin"
    assert grant["du"] == "01/09/2026" and grant["jusqu'au"] == "04/07/2027"
    assert grant["classes"] == "3E1, 3E2" and grant["module"] == "dépannage"
    revoke = dict(audit_words.detail_lines("delegation_revoke", SAMPLES["delegation_revoke"], TIME))
    assert revoke["classes"] == "toutes les classes"
    failed = dict(audit_words.detail_lines("sign_in_failed", SAMPLES["sign_in_failed"], TIME))
    assert failed["motif"] == "mot de passe incorrect"
    export = dict(audit_words.detail_lines("export", SAMPLES["export"], TIME))
    assert export["filtres"] == (
        f"qui{COLON} k.haddad, action{COLON} connexion refusée, du{COLON} 01/09/2026"
    )
    assert export["événements"] == "4" and export["format"] == "CSV"
    # A helpdesk slip holds a password: the journal names its file.
    slip = dict(audit_words.detail_lines("slip_written", SAMPLES["slip_written"], TIME))
    assert slip["fichier"] == "/srv/fiches/fiche_e.dupont.pdf"
    search = dict(audit_words.detail_lines("search", SAMPLES["search"], TIME))
    assert search == {"recherche": "BOUZID", "résultats": "20 (et d'autres, non affichés)"}
    flow = dict(audit_words.detail_lines("owner_flow", SAMPLES["owner_flow"], TIME))
    assert flow["parcours"] == "activation d'un représentant légal"
    assert flow["résultat"] == "refusé"


def test_an_unknown_key_still_reads() -> None:
    """A key from a later version, or an old record's: shown, not lost."""
    assert audit_words.summarize("sign_in", {"some_key": 3}, TIME) == f"some key{COLON} 3"
    assert audit_words.unnamed_keys({"some_key": 3}) == {"some_key"}


def test_nothing_to_say_is_empty() -> None:
    assert audit_words.summarize("sign_in", {}, TIME) == ""
    assert audit_words.summarize("notify", {"by_division": {"3E2": 1}}, TIME) == ""


def test_dates_are_whole_days_and_times_local() -> None:
    at = dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC)
    lines = dict(
        audit_words.detail_lines("sign_in_blocked", {"blocked_until": at.isoformat()}, TIME)
    )
    assert lines["bloqué jusqu'au"] == "02/07/2026 à 00:30"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    action=st.sampled_from(sorted(ACTION_LABELS)),
    details=st.dictionaries(
        st.sampled_from(sorted(audit_words.DETAIL_NAMES)) | st.text(max_size=12), _JSON, max_size=6
    ),
)
def test_any_recorded_details_read_without_error(action: str, details: dict[str, Any]) -> None:
    """Records from any version, even damaged: the journal always shows a line."""
    for label, value in audit_words.detail_lines(action, details, TIME):
        assert label and value
    audit_words.summarize(action, details, TIME)


def test_a_school_created_reads_its_type_in_french() -> None:
    lines = dict(audit_words.detail_lines("school_add", SAMPLES["school_add"], TIME))
    assert lines["type d'établissement"] == "collège"
    assert lines["commune"] == "Paris"


def test_session_confirmation_words() -> None:
    failed = dict(
        audit_words.detail_lines("session_confirm_failed", SAMPLES["session_confirm_failed"], TIME)
    )
    assert failed["demandé pour"] == "le déverrouillage de l'écran"
    assert failed["motif"] == "mot de passe incorrect"
    assert failed["bloqué jusqu'au"] == "16/11/2026 à 11:30"
    confirmed = dict(
        audit_words.detail_lines("session_confirmed", SAMPLES["session_confirmed"], TIME)
    )
    assert confirmed["demandé pour"] == "une action sensible"
    ended = audit_words.reason_words("session_ended")
    assert ended == "session déjà terminée"
