"""Ten staff sessions at once on one PostgreSQL database, as on a shared server.

Each session is the real app, headless (Textual's Pilot), in a process of its own
(``session_worker``): seven change filters and search on both tabs, one notifies a class,
and two reset the same pupil's password at the same instant. Nothing may fail, each
pupil of the class is notified exactly once, the two resets lose no update (both apply
one after the other, or one is refused in French), and the trail still verifies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from educonnect_tui.domain.access import passwords
from educonnect_tui.domain.accounts import helpdesk
from educonnect_tui.domain.model.enums import AccountState
from educonnect_tui.domain.model.tables import Account, AuditEvent, AuditTarget, Division, Pupil
from educonnect_tui.domain.store.services import Services
from educonnect_tui.domain.store.settings import KEY_FILE_NAME, Settings
from tests import factories
from tests.conftest import FAST_HASH, _truncate
from tests.helpers import RunCli

ROOT = Path(__file__).resolve().parents[2]
UAI = factories.DEFAULT_UAI
CLASSES = ("6E1", "6E2", "5E1")
PER_CLASS = 20
NOTIFIED_CLASS = "6E1"
BROWSERS = 7
ACTIONS = 12
LAST_NAMES = ("Martin", "Lefèvre", "N'Diaye", "Dupont", "Moreau", "Nguyen", "Le Gall")

pytestmark = pytest.mark.postgres


@pytest.fixture
def school(
    postgres_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Services, str]]:
    """A collège of three classes, a guardian per pupil, its principal; the environment
    every session process reads (database, key file, output folder, no config file)."""
    _truncate(postgres_schema)
    (tmp_path / "out").mkdir()
    env = {
        "EDUCONNECT_DATABASE_URL": postgres_schema,
        "EDUCONNECT_KEY_FILE": str(tmp_path / KEY_FILE_NAME),
        "EDUCONNECT_OUTPUT_DIR": str(tmp_path / "out"),
        "EDUCONNECT_CONFIG": "/nonexistent/config.toml",
        "EDUCONNECT_LOG_FILE": str(tmp_path / "educonnect.log"),
        "EDUCONNECT_HASH_WORKERS": "1",
        "EDUCONNECT_TEST_BARRIER": str(tmp_path / "barrier"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "barrier").mkdir()
    services = Services.from_settings(Settings(), hash_params=FAST_HASH)
    with services.sessions() as session, session.begin():
        college = factories.school(session)
        for n in range(len(CLASSES) * PER_CLASS):
            child = factories.pupil(
                session,
                college,
                first_name=f"Noé{n}",
                last_name=LAST_NAMES[n % len(LAST_NAMES)],
                division=CLASSES[n // PER_CLASS],
            )
            factories.guardian(session, [child], first_name="Anne", last_name=child.login)
    login = factories.staff_member(services).login
    yield services, login
    services.engine.dispose()


def _ids_of_class(services: Services, name: str) -> set[int]:
    with services.sessions() as session:
        return set(
            session.scalars(
                select(Account.id)
                .join(Pupil, Pupil.id == Account.pupil_id)
                .join(Division, Division.id == Pupil.division_id)
                .where(Division.name == name)
            )
        )


def _run_sessions(login: str, roles: list[list[str]]) -> list[dict[str, Any]]:
    """Start every session, wait until each has painted its home page, then let them all
    go at once; returns the last JSON line of each."""
    url = os.environ["EDUCONNECT_DATABASE_URL"]
    command = [sys.executable, "-m", "tests.concurrency.session_worker", url, UAI, login]
    children = [
        subprocess.Popen(
            [*command, role[0], str(index), *role[1:]],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ | {"PYTHONPATH": str(ROOT)},
        )
        for index, role in enumerate(roles)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            ready = child.stdout.readline()
            assert ready, child.communicate(timeout=30)[1][-3000:]
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=90) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err[-3000:]
        assert "Traceback" not in err, err[-3000:]
    return [json.loads(out.splitlines()[-1]) for out, _ in outputs]


def test_ten_sessions_search_filter_notify_and_reset_at_once(
    school: tuple[Services, str], run_cli: RunCli
) -> None:
    services, login = school
    notified = _ids_of_class(services, NOTIFIED_CLASS)
    target = min(_ids_of_class(services, "5E1"))  # not in the notified class
    before = factories.account(services, target)
    roles = [
        ["notify", NOTIFIED_CLASS],
        ["reset", str(target)],
        ["reset", str(target)],
        *[["browse", str(ACTIONS)]] * BROWSERS,
    ]
    results = _run_sessions(login, roles)

    # The seven others browsed: every filter change and search painted its rows.
    browsed = [r for r in results if r["event"] == "actions"]
    assert len(browsed) == BROWSERS
    assert all(len(r["ms"]) == ACTIONS for r in browsed)
    assert sum(Counter(r["kinds"])["recherche"] for r in browsed) >= BROWSERS * 3

    # Each pupil of the class notified once, by one event naming each of them once.
    [notify] = [r for r in results if r["event"] == "notify"]
    assert notify["accounts"] == len(notified) and set(notify["ids"]) == notified
    assert notify["left_out"] == []
    with services.sessions() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "notify")))
        assert len(events) == 1
        targets = Counter(
            session.scalars(
                select(AuditTarget.account_id).where(AuditTarget.event_id == events[0].id)
            )
        )
        rows = session.scalars(select(Account).where(Account.id.in_(notified))).all()
    assert set(targets) == notified and set(targets.values()) == {1}
    assert {(a.state, a.notification_count) for a in rows} == {(AccountState.NOTIFIED, 1)}

    # The two resets of one account: both applied in turn, or one refused in French;
    # never two successes where only one change survives.
    resets = [r for r in results if r["event"] == "reset"]
    done = [r["password"] for r in resets if "password" in r]
    refused = [r["refused"] for r in resets if "refused" in r]
    assert len(done) + len(refused) == 2 and done
    assert all(text == helpdesk.CONCURRENT for text in refused)
    after = factories.account(services, target)
    assert after.version == before.version + len(done)
    assert after.notification_count == before.notification_count + len(done)
    opening = [p for p in done if passwords.verify_password(after.temp_password_hash, p)]
    assert len(opening) == 1  # the one committed last; the other no longer opens it
    with services.sessions() as session:
        recorded = session.scalars(
            select(AuditTarget.account_id)
            .join(AuditEvent, AuditEvent.id == AuditTarget.event_id)
            .where(AuditEvent.action == "reset_password", AuditTarget.account_id == target)
        ).all()
    assert len(recorded) == len(done)

    code, _, err = run_cli(["audit", "verify"])
    assert code == 0, err
