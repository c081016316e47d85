"""``notify`` from the command line through a real SMTP server (aiosmtpd), end to end.

What reaches the server is read back as a recipient would read it; what does not (no
relay, a relay down, ``--no-send``) stays « en attente » with the reason said, and the
notification itself always succeeds: its passwords and documents are committed first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from educonnect_tui.domain.access.passwords import verify_password
from educonnect_tui.domain.accounts import notification
from educonnect_tui.domain.model.enums import AccountState, OutboxState
from educonnect_tui.domain.model.tables import Account, AuditEvent, Guardian, OutboxMessage
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import MAIL_FROM
from tests.helpers import RunCli
from tests.mail_server import Inbox, free_port, running

UAI = factories.DEFAULT_UAI
SCHOOL = "Collège Jean Moulin"
ADDRESSES = ["amel@example.org", None, "bruno@example.org", None]
PASSWORD = re.compile(r"Mot de passe provisoire\u00a0: (\S+)")


@pytest.fixture
def smtp(cli_env: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """The SMTP server, and the command line's settings pointing at it."""
    with running(Inbox()) as inbox:
        monkeypatch.setenv("EDUCONNECT_SMTP_URL", f"smtp://127.0.0.1:{inbox.port}")
        monkeypatch.setenv("EDUCONNECT_MAIL_FROM", MAIL_FROM)
        monkeypatch.setenv("EDUCONNECT_SMTP_TIMEOUT_SECONDS", "5")
        yield inbox


def _class_with_guardians(services: Services, emails: list[str | None]) -> dict[str, int]:
    """Class 4E2, one pupil per guardian; the guardians' accounts by their address."""
    found: dict[str, int] = {}
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        for i, email in enumerate(emails):
            child = factories.pupil(session, school, first_name=f"Inès{i}", division="4E2")
            account = factories.guardian(
                session, [child], first_name=f"Rym{i}", last_name=f"Nom{i}", email=email
            )
            found[email or f"papier{i}"] = account.id
    return found


def _accounts(services: Services) -> dict[int, Account]:
    with services.sessions() as session:
        return {a.id: a for a in session.scalars(select(Account))}


def _outbox(services: Services) -> list[OutboxMessage]:
    with services.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _notify(*extra: str) -> list[str]:
    return ["notify", "--uai", UAI, "--kind", "guardians", "--class", "4E2", *extra]


def test_auto_sends_one_message_per_address_and_prints_the_others(
    cli_env: Services, run_cli: RunCli, smtp: Inbox, tmp_path: Path
) -> None:
    accounts = _class_with_guardians(cli_env, ADDRESSES)
    pdf = tmp_path / "lettres.pdf"
    code, out, err = run_cli(_notify("--channel", "auto", "--pdf", str(pdf)))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "4 comptes représentants légaux notifiés."
    assert "2 par courriel (en attente d'envoi), 2 sur papier" in lines
    assert lines[-1] == "Envoi des courriels\u00a0: 2 envoyés, 0 en échec, 0 en attente."
    received = {str(m["To"]): m for m in smtp.received}
    assert sorted(received) == ["amel@example.org", "bruno@example.org"]
    assert [rcpt for _, rcpt in smtp.envelopes] == [["amel@example.org"], ["bruno@example.org"]]
    stored = _accounts(cli_env)
    for address in ("amel@example.org", "bruno@example.org"):
        message, account = received[address], stored[accounts[address]]
        sender = message["From"].addresses[0]
        assert sender.display_name == f"{SCHOOL} — EduConnect" and sender.addr_spec == MAIL_FROM
        assert str(message["Subject"]) == "Votre compte EduConnect de représentant légal"
        text = _text(message)
        assert f"Identifiant\u00a0: {account.login}" in text
        [password] = PASSWORD.findall(text)
        assert verify_password(account.temp_password_hash, password)
        html = message.get_body(("html",))
        assert html is not None and account.login in html.get_content()
        assert account.state is AccountState.NOTIFIED
    pages = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    for key in ("papier1", "papier3"):
        assert stored[accounts[key]].login in pages
    for address in ("amel@example.org", "bruno@example.org"):
        assert stored[accounts[address]].login not in pages
    assert [m.state for m in _outbox(cli_env)] == [OutboxState.SENT] * 2


def test_no_send_leaves_them_waiting_then_outbox_send_delivers(
    cli_env: Services, run_cli: RunCli, smtp: Inbox, tmp_path: Path
) -> None:
    _class_with_guardians(cli_env, ADDRESSES)
    args = _notify("--channel", "auto", "--pdf", str(tmp_path / "l.pdf"), "--no-send")
    code, out, err = run_cli(args)
    assert code == 0, err
    assert out.splitlines()[-1] == (
        "2 messages en attente dans la boîte d'envoi (educonnect-tui outbox send)."
    )
    assert not smtp.received
    assert [m.state for m in _outbox(cli_env)] == [OutboxState.PENDING] * 2
    code, out, err = run_cli(["outbox", "list"])
    assert code == 0 and out.count("en attente") == 2, err
    code, out, err = run_cli(["outbox", "send"])
    assert code == 0, err
    assert out.splitlines() == ["2 envoyés, 0 en échec, 0 en attente."]
    assert len(smtp.received) == 2


def test_without_a_relay_the_notify_succeeds_and_says_why_they_wait(
    cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("EDUCONNECT_SMTP_URL", raising=False)
    monkeypatch.delenv("EDUCONNECT_MAIL_FROM", raising=False)
    accounts = _class_with_guardians(cli_env, ADDRESSES)
    code, out, err = run_cli(_notify("--channel", "auto", "--pdf", str(tmp_path / "l.pdf")))
    assert code == 0, err
    assert out.splitlines()[-1] == (
        "2 messages en attente dans la boîte d'envoi (educonnect-tui outbox send). "
        "Envoi des courriels non configuré\u00a0: réglez EDUCONNECT_SMTP_URL et "
        "EDUCONNECT_MAIL_FROM."
    )
    assert [m.state for m in _outbox(cli_env)] == [OutboxState.PENDING] * 2
    stored = _accounts(cli_env)
    assert all(stored[i].state is AccountState.NOTIFIED for i in accounts.values())


def test_a_relay_down_leaves_them_waiting_with_the_reason_and_exit_0(
    cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("EDUCONNECT_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    monkeypatch.setenv("EDUCONNECT_MAIL_FROM", MAIL_FROM)
    _class_with_guardians(cli_env, ADDRESSES)
    code, out, err = run_cli(_notify("--channel", "auto", "--pdf", str(tmp_path / "l.pdf")))
    assert code == 0, err
    lines = out.splitlines()
    assert "Envoi des courriels\u00a0: 0 envoyé, 0 en échec, 2 en attente." in lines
    [reason] = [line for line in lines if line.startswith("Envoi interrompu\u00a0: ")]
    assert "127.0.0.1" in reason
    assert lines[-1] == (
        "Les courriels restent en attente\u00a0: « educonnect-tui outbox send » les "
        "enverra, passé le délai avant un nouvel essai."
    )
    messages = _outbox(cli_env)
    assert [m.state for m in messages] == [OutboxState.PENDING] * 2
    assert all(m.last_error and m.next_attempt_at for m in messages)


def test_an_address_the_relay_refuses_is_said_with_what_to_do(
    cli_env: Services, run_cli: RunCli, smtp: Inbox, tmp_path: Path
) -> None:
    _class_with_guardians(cli_env, ADDRESSES)
    smtp.refused.add("bruno@example.org")
    code, out, err = run_cli(_notify("--channel", "auto", "--pdf", str(tmp_path / "l.pdf")))
    assert code == 0, err
    assert out.splitlines()[-2:] == [
        "Envoi des courriels\u00a0: 1 envoyé, 1 en échec, 0 en attente.",
        "1 courriel en échec\u00a0: voyez « educonnect-tui outbox list --state echec »\u00a0; "
        "son destinataire n'a rien reçu, renotifiez-le sur papier.",
    ]
    code, out, err = run_cli(["outbox", "list", "--state", "echec"])
    assert code == 0 and "bruno@example.org" in out and "amel@example.org" not in out, err


def test_a_stop_asked_too_late_for_the_notify_still_holds_the_sending(
    cli_env: Services,
    run_cli: RunCli,
    smtp: Inbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _class_with_guardians(cli_env, ADDRESSES)
    real = notification.notify

    def stopped_at_the_end(*args: Any, **kwargs: Any) -> notification.NotifyResult:
        result = real(*args, **kwargs)
        kwargs["cancel"].set()  # Ctrl-C just after the commit
        return result

    monkeypatch.setattr(notification, "notify", stopped_at_the_end)
    code, out, err = run_cli(_notify("--channel", "auto", "--pdf", str(tmp_path / "l.pdf")))
    assert code == 0 and "Arrêt demandé trop tard" in err
    assert out.splitlines()[-1] == (
        "2 messages en attente dans la boîte d'envoi (educonnect-tui outbox send)."
    )
    assert not smtp.received
    assert [m.state for m in _outbox(cli_env)] == [OutboxState.PENDING] * 2


def test_a_reminder_by_email_carries_no_password_and_changes_no_hash(
    cli_env: Services, run_cli: RunCli, smtp: Inbox, tmp_path: Path
) -> None:
    accounts = _class_with_guardians(cli_env, ["amel@example.org", "bruno@example.org"])
    for account_id in accounts.values():
        factories.simulate_notification(cli_env, account_id, "abcd2345ef")
    before = {
        i: (a.temp_password_hash, a.password_hash, a.version) for i, a in _accounts(cli_env).items()
    }
    code, out, err = run_cli(_notify("--channel", "email", "--no-reset", "--state", "orange"))
    assert code == 0, err
    assert out.splitlines()[-1] == "Envoi des courriels\u00a0: 2 envoyés, 0 en échec, 0 en attente."
    assert sorted(str(m["To"]) for m in smtp.received) == ["amel@example.org", "bruno@example.org"]
    for message in smtp.received:
        text = _text(message)
        assert "Mot de passe provisoire" not in text and "abcd2345ef" not in text
        assert "Identifiant\u00a0: " in text
    after = {
        i: (a.temp_password_hash, a.password_hash, a.version) for i, a in _accounts(cli_env).items()
    }
    assert after == before


def test_no_password_reaches_the_outbox_list_the_audit_trail_or_the_log(
    cli_env: Services,
    run_cli: RunCli,
    smtp: Inbox,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    # The program's logger keeps to its own file; its records are heard here too.
    monkeypatch.setattr(logging.getLogger("educonnect_tui"), "handlers", [caplog.handler])
    _class_with_guardians(cli_env, ADDRESSES)
    code, _, err = run_cli(
        _notify("--channel", "auto", "--pdf", str(tmp_path / "l.pdf"), "--no-send")
    )
    assert code == 0, err
    outputs = []
    for form in ("table", "json", "csv"):
        code, out, err = run_cli(["outbox", "list", "--format", form])
        assert code == 0, err
        outputs.append(out)
    code, out, err = run_cli(["outbox", "send"])
    assert code == 0, err
    passwords = [p for m in smtp.received for p in PASSWORD.findall(_text(m))]
    assert len(passwords) == 2
    pages = "\n".join(page.extract_text() for page in PdfReader(tmp_path / "l.pdf").pages)
    passwords += re.findall(r"Mot de passe provisoire\s*:?\s*([a-z0-9]{10})", pages)
    assert len(passwords) == 4, pages
    code, audit_text, err = run_cli(["audit", "list", "--uai", UAI, "--format", "json"])
    assert code == 0, err
    with cli_env.sessions() as session:
        details = [repr(e.details) for e in session.scalars(select(AuditEvent))]
        addresses = list(session.scalars(select(Guardian.email)))
    log = cli_env.settings.output_dir.parent / "log"
    technical = log.read_text(encoding="utf-8") if log.exists() else ""
    # Every record of the program's own loggers, at any level (the test server's are not).
    technical += "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")
    )
    assert "mail.log" in {r.name for r in caplog.records}  # the capture did see records
    for password in passwords:
        for where in (*outputs, audit_text, *details, technical):
            assert password not in where
    assert "amel@example.org" in outputs[0] and addresses
    assert all("Identifiant" not in out for out in outputs)
