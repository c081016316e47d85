"""``educonnect-tui outbox``: send, list, purge, resend, abandon, against a real SMTP server."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select, update

from educonnect_tui.domain.mail.queue import Email, queue_email
from educonnect_tui.domain.model.enums import OutboxState
from educonnect_tui.domain.model.tables import AuditEvent, OutboxMessage
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import MAIL_FROM
from tests.helpers import RunCli
from tests.mail_server import Inbox, free_port


def _one_line_error(code: int, err: str, fragment: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert err.startswith("educonnect-tui\u00a0: erreur\u00a0: ")
    assert fragment in err, err
    assert "Traceback" not in err


def _queue(services: Services, *recipients: str) -> None:
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        for recipient in recipients:
            queue_email(
                session,
                Email(recipient, "Vos identifiants", "Code\u00a0: 123456", "<p>123456</p>",
                      establishment_id=school.id),
                now=services.clock(),
            )  # fmt: skip


def _actions(services: Services) -> list[tuple[str, dict[str, object]]]:
    with services.sessions() as session:
        return [
            (e.action, e.details)
            for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


@pytest.fixture
def smtp_env(cli_env: Services, smtp_inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("EDUCONNECT_SMTP_URL", f"smtp://127.0.0.1:{smtp_inbox.port}")
    monkeypatch.setenv("EDUCONNECT_MAIL_FROM", MAIL_FROM)
    return cli_env


def test_send_without_a_relay_is_one_french_line(cli_env: Services, run_cli: RunCli) -> None:
    code, _, err = run_cli(["outbox", "send"])
    _one_line_error(
        code, err, "envoi des courriels non configuré\u00a0: réglez EDUCONNECT_SMTP_URL"
    )


def test_a_bad_smtp_url_is_one_line_without_the_password(
    cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDUCONNECT_SMTP_URL", "smtp://ce:Secr3t-Pw@relais:25")
    code, _, err = run_cli(["outbox", "send"])
    _one_line_error(code, err, "EDUCONNECT_SMTP_URL invalide\u00a0: identifiants sur une")
    assert "Secr3t" not in err


def test_send_delivers_prints_the_counts_and_is_audited(
    smtp_env: Services, smtp_inbox: Inbox, run_cli: RunCli
) -> None:
    _queue(smtp_env, "a@example.fr", "b@example.fr")
    code, out, err = run_cli(["outbox", "send"])
    assert (code, err) == (0, "")
    assert out == "2 envoyés, 0 en échec, 0 en attente.\n"
    assert len(smtp_inbox.received) == 2
    action, details = _actions(smtp_env)[-1]
    assert action == "outbox_send"
    assert details == {"sent": 2, "failed": 0, "pending": 0, "uncertain": 0, "purged": 0}
    code, out, _ = run_cli(["outbox", "send"])
    assert (code, out) == (0, "0 envoyé, 0 en échec, 0 en attente.\n")
    assert len(smtp_inbox.received) == 2


def test_send_to_a_server_that_is_down_fails_in_one_line(
    cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDUCONNECT_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    monkeypatch.setenv("EDUCONNECT_MAIL_FROM", MAIL_FROM)
    _queue(cli_env, "a@example.fr")
    code, out, err = run_cli(["outbox", "send"])
    _one_line_error(code, err, "injoignable")
    assert "1 courriel reste en attente" in err and out == ""
    assert _actions(cli_env)[-1][0] == "outbox_send"


def test_list_shows_the_queue_in_the_schools_time(
    smtp_env: Services, smtp_inbox: Inbox, run_cli: RunCli
) -> None:
    smtp_inbox.refused.add("inconnu@example.fr")
    _queue(smtp_env, "a@example.fr", "inconnu@example.fr")
    run_cli(["outbox", "send"])
    code, out, _ = run_cli(["outbox", "list"])
    assert code == 0
    # The clock says 08:00 UTC on 1 September: 10:00 in Paris.
    assert "01/09/2026 10:00" in out and "envoyé" in out and "échec" in out
    assert "adresse refusée par le serveur\u00a0: 550" in out
    assert "123456" not in out  # never a body
    code, out, _ = run_cli(["outbox", "list", "--state", "echec", "--format", "csv"])
    rows = list(csv.reader(io.StringIO(out), delimiter=";"))
    assert [r[2] for r in rows[1:]] == ["inconnu@example.fr"]
    code, out, _ = run_cli(["outbox", "list", "--format", "json", "--limit", "1"])
    data = json.loads(out)
    assert data["suite"] is True and len(data["courriels"]) == 1
    assert data["courriels"][0]["state"] == "echec"
    assert _actions(smtp_env)[-1] == ("outbox_read", {"format": "json", "rows": 1})


def test_purge_says_how_many_and_is_audited(
    smtp_env: Services, smtp_inbox: Inbox, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _queue(smtp_env, "a@example.fr")
    run_cli(["outbox", "send"])
    monkeypatch.setenv("EDUCONNECT_OUTBOX_RETENTION_DAYS", "0")
    code, out, _ = run_cli(["outbox", "purge"])
    assert code == 0
    assert out.startswith("1 courriel purgé (textes effacés")
    assert _actions(smtp_env)[-1] == ("outbox_purge", {"purged": 1, "retention_days": 0})


def test_resend_and_abandon_take_only_uncertain_messages(
    smtp_env: Services, smtp_inbox: Inbox, run_cli: RunCli
) -> None:
    _queue(smtp_env, "a@example.fr", "b@example.fr")
    code, _, err = run_cli(["outbox", "resend", "1"])
    _one_line_error(code, err, "introuvable ou non « incertain »")
    with smtp_env.sessions() as session, session.begin():
        session.execute(update(OutboxMessage).values(state=OutboxState.UNCERTAIN))
    code, out, _ = run_cli(["outbox", "resend", "1"])
    assert code == 0 and out.startswith("1 courriel n° 1 remis en attente")
    code, out, _ = run_cli(["outbox", "abandon", "2"])
    assert code == 0 and out == "1 courriel n° 2 abandonné (échec).\n"
    run_cli(["outbox", "send"])
    assert [m["To"] for m in smtp_inbox.received] == ["a@example.fr"]
    assert [a for a, _ in _actions(smtp_env)][-3:] == [
        "outbox_resend",
        "outbox_abandon",
        "outbox_send",
    ]
