"""(Re)notification by channel (paper, e-mail, auto) and reminders without a new password.

The e-mails are queued in the transaction of the passwords they announce, so either
both exist or neither; a reminder changes nothing of the account and carries no
password, on paper or in an e-mail.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from educonnect_tui.domain.access.passwords import verify_password
from educonnect_tui.domain.accounts import notification
from educonnect_tui.domain.accounts.notification import NotifyRequest
from educonnect_tui.domain.accounts.selection import Selection
from educonnect_tui.domain.mail import queue
from educonnect_tui.domain.mail.queue import Email
from educonnect_tui.domain.model.enums import AccountKind, AccountState, NotifyChannel
from educonnect_tui.domain.model.errors import Cancelled, InvalidInput
from educonnect_tui.domain.model.tables import Account, AuditEvent, AuditTarget, OutboxMessage
from educonnect_tui.domain.store import audit
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.services import Services
from tests import factories

ACTOR = Actor(label="Mme la principale", source_address="10.0.0.5")
UAI = factories.DEFAULT_UAI
GUARDIANS = AccountKind.GUARDIAN
PUPILS = AccountKind.PUPIL


def _class(services: Services, division: str, emails: list[str | None]) -> dict[str, int]:
    """One pupil per entry, each with a guardian whose SIECLE address is the entry."""
    logins: dict[str, int] = {}
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        for i, email in enumerate(emails):
            pupil = factories.pupil(
                session, school, first_name=f"Élève{i}", last_name="Morel", division=division
            )
            guardian = factories.guardian(
                session, [pupil], first_name=f"Parent{i}", last_name="Morel", email=email
            )
            logins[guardian.login] = guardian.id
    return logins


def _captured(monkeypatch: pytest.MonkeyPatch) -> list[Email]:
    """The e-mails ``notify`` queues, as built (the outbox row keeps the text body)."""
    sent: list[Email] = []
    real = queue.queue_email

    def spy(session: Any, email: Email, *, now: dt.datetime) -> None:
        sent.append(email)
        real(session, email, now=now)

    monkeypatch.setattr(notification, "queue_email", spy)
    return sent


def _outbox(services: Services) -> list[OutboxMessage]:
    with services.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _snapshot(services: Services) -> list[tuple[Any, ...]]:
    """Everything a notification may change on an account, byte for byte."""
    with services.sessions() as session:
        return [
            (
                a.temp_password_hash,
                a.password_hash,
                a.state,
                a.version,
                a.notified_at,
                a.notification_count,
                a.temp_expires_at,
                a.blocked_until,
            )
            for a in session.scalars(select(Account).order_by(Account.id))
        ]


def _has(text: str, login: str) -> bool:
    """Whether ``login`` is in ``text`` as a whole word (p.morel is not in p.morel2)."""
    return re.search(rf"(?<![\w.]){re.escape(login)}(?![\w.])", text) is not None


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def _notify(services: Services, request: NotifyRequest, **kwargs: Any) -> notification.NotifyResult:
    return notification.notify(
        services, factories.operator(services, UAI, ACTOR), request, **kwargs
    )


def test_auto_emails_the_guardians_with_an_address_and_prints_the_others(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logins = _class(services, "4E2", [" a@example.org ", None, "néant", "d@example.org"])
    by_id = {v: k for k, v in logins.items()}
    sent = _captured(monkeypatch)
    pdf, csv_path = tmp_path / "lettres.pdf", tmp_path / "lettres.csv"
    request = NotifyRequest(
        GUARDIANS,
        Selection(divisions=("4E2",)),
        pdf_path=pdf,
        csv_path=csv_path,
        channel=NotifyChannel.AUTO,
    )
    planned = notification.preview(services, factories.operator(services, UAI), request)
    assert (planned.total, planned.emailed, planned.on_paper, planned.needs_pdf) == (4, 2, 2, True)

    result = _notify(services, request)

    assert (result.count, result.emailed, result.on_paper) == (4, 2, 2)
    assert "2 par courriel (en attente d'envoi), 2 sur papier" in result.lines()
    assert result.files == (pdf, csv_path)
    assert len(PdfReader(pdf).pages) == 3  # the distribution list, then a letter each
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text("utf-8-sig")), delimiter=";"))
    paper = {row["Identifiant"]: row["Mot de passe provisoire"] for row in rows}
    mailed = {e.recipient: e for e in sent}
    assert set(mailed) == {"a@example.org", "d@example.org"}
    assert {by_id[e.account_id] for e in sent if e.account_id} | set(paper) == set(logins)
    assert not set(paper) & {by_id[e.account_id] for e in sent if e.account_id}
    text = _pdf_text(pdf)
    with services.sessions() as session:
        for email in sent:
            account = session.get_one(Account, email.account_id)
            password = re.search(r"Mot de passe provisoire\u00a0: (\S+)", email.text)
            assert password is not None
            assert verify_password(account.temp_password_hash, password.group(1))
            assert account.login in email.text and account.login in email.html
            assert password.group(1) in email.html
            assert not _has(text, account.login)  # an e-mailed account has no letter
            assert account.state is AccountState.NOTIFIED
        for login, password in paper.items():
            account = session.scalars(select(Account).where(Account.login == login)).one()
            assert verify_password(account.temp_password_hash, password)
            assert _has(text, login) and password in text
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "notify")))
    assert len(events) == 1  # one operation, one report
    assert events[0].details["channel"] == "auto"
    assert (events[0].details["emailed"], events[0].details["on_paper"]) == (2, 2)
    outbox = _outbox(services)
    assert sorted(m.recipient for m in outbox) == ["a@example.org", "d@example.org"]
    assert {m.body for m in outbox} == {e.text for e in sent}


def test_email_channel_queues_one_message_per_account_and_names_those_without_an_address(
    services: Services, tmp_path: Path
) -> None:
    logins = _class(services, "5E1", ["a@example.org", "b@example.org", None])
    missing = [login for login, i in logins.items() if i == max(logins.values())]
    before = _snapshot(services)
    request = NotifyRequest(GUARDIANS, Selection(), channel=NotifyChannel.EMAIL)
    planned = notification.preview(services, factories.operator(services, UAI), request)
    assert (planned.total, planned.emailed, planned.without_address) == (2, 2, 1)
    assert not planned.needs_pdf
    lines = notification.planned_lines(planned, GUARDIANS)
    assert "  canal courriel\u00a0: 2 par courriel (en attente d'envoi), 0 sur papier" in lines

    result = _notify(services, request)

    assert (result.count, result.emailed, result.files) == (2, 2, ())
    assert result.no_address == tuple(missing)
    assert any(
        line.endswith(f"sans adresse électronique enregistrée\u00a0: {missing[0]}")
        for line in result.lines()
    )
    outbox = _outbox(services)
    assert sorted(m.recipient for m in outbox) == ["a@example.org", "b@example.org"]
    after = _snapshot(services)
    assert after[-1] == before[-1]  # the one without an address is untouched
    assert not list(tmp_path.rglob("*.pdf"))


def test_email_channel_with_no_address_at_all_notifies_nobody(services: Services) -> None:
    _class(services, "5E1", [None, None])
    before = _snapshot(services)
    with pytest.raises(InvalidInput, match="sans adresse électronique"):
        _notify(services, NotifyRequest(GUARDIANS, Selection(), channel=NotifyChannel.EMAIL))
    assert _snapshot(services) == before and not _outbox(services)


def test_a_reminder_by_email_names_those_without_an_address_sans_rappel(
    services: Services,
) -> None:
    """« non notifié » is a state's name: a reminder's left-out accounts are « sans rappel »,
    in the dry run, the result and the refusal alike."""
    logins = _class(services, "5E1", ["a@example.org", None])
    missing = [login for login, i in logins.items() if i == max(logins.values())]
    request = NotifyRequest(GUARDIANS, Selection(), channel=NotifyChannel.EMAIL, reset=False)
    planned = notification.preview(services, factories.operator(services, UAI), request)
    lines = notification.planned_lines(planned, GUARDIANS)
    assert "  1 compte sans adresse électronique\u00a0: il n'aurait pas de rappel." in lines
    result = _notify(services, request)
    assert (
        f"1 compte sans rappel, sans adresse électronique enregistrée\u00a0: {missing[0]}"
        in result.lines()
    )
    assert notification.no_address_line(("g1", "g2")) == (
        "2 comptes non notifiés, sans adresse électronique enregistrée\u00a0: g1, g2"
    )


def test_a_reminder_by_email_with_no_address_at_all_says_no_reminder_was_sent(
    services: Services,
) -> None:
    _class(services, "5E1", [None])
    request = NotifyRequest(GUARDIANS, Selection(), channel=NotifyChannel.EMAIL, reset=False)
    with pytest.raises(InvalidInput, match=r"1 compte sans rappel.*Aucun rappel n'a été envoyé"):
        _notify(services, request)


def test_a_failure_before_the_commit_queues_no_message_and_changes_no_password(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    _class(services, "3E1", ["a@example.org", "b@example.org"])
    before = _snapshot(services)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        _notify(services, NotifyRequest(GUARDIANS, Selection(), channel=NotifyChannel.EMAIL))
    assert _snapshot(services) == before
    assert not _outbox(services)


def test_a_cancel_queues_nothing(services: Services) -> None:
    _class(services, "3E1", [f"p{i}@example.org" for i in range(6)])
    before = _snapshot(services)
    cancel = threading.Event()

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "hachage" and done >= 1:
            cancel.set()

    with pytest.raises(Cancelled):
        _notify(
            services,
            NotifyRequest(GUARDIANS, Selection(), channel=NotifyChannel.EMAIL),
            progress=progress,
            cancel=cancel,
        )
    assert _snapshot(services) == before and not _outbox(services)


def test_a_reminder_changes_nothing_and_never_carries_a_password(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logins = _class(services, "6E3", ["a@example.org", None, "c@example.org"])
    first_csv = tmp_path / "first.csv"
    _notify(
        services,
        NotifyRequest(GUARDIANS, Selection(), pdf_path=tmp_path / "first.pdf", csv_path=first_csv),
    )
    passwords = [
        row["Mot de passe provisoire"]
        for row in csv.DictReader(io.StringIO(first_csv.read_text("utf-8-sig")), delimiter=";")
    ]
    assert len(passwords) == 3
    with services.sessions() as session, session.begin():  # one is blocked: stays blocked
        account = session.get_one(Account, min(logins.values()))
        account.blocked_until = services.clock() + dt.timedelta(hours=1)
    before = _snapshot(services)
    sent = _captured(monkeypatch)
    pdf, csv_path = tmp_path / "rappel.pdf", tmp_path / "rappel.csv"
    request = NotifyRequest(
        GUARDIANS,
        Selection(states=(AccountState.NOTIFIED,)),
        pdf_path=pdf,
        csv_path=csv_path,
        channel=NotifyChannel.AUTO,
        reset=False,
    )
    planned = notification.preview(services, factories.operator(services, UAI), request)
    lines = notification.planned_lines(planned, GUARDIANS)
    assert "3 comptes représentants légaux recevraient un rappel\u00a0:" in lines
    assert not any("débloqué" in line for line in lines)

    result = _notify(services, request)

    assert _snapshot(services) == before  # hashes byte-identical, state, version, dates
    assert (result.count, result.emailed, result.on_paper, result.reset) == (3, 2, 1, False)
    assert "aucun mot de passe modifié" in result.headline()
    text = _pdf_text(pdf)
    assert len(sent) == 2
    bodies = [text, csv_path.read_text("utf-8-sig")] + [e.text + e.html for e in sent]
    for body in bodies:
        for password in passwords:
            assert password not in body
        assert "Mot de passe provisoire\u00a0:" not in body
    for email in sent:
        assert "Mot de passe oublié" in email.text and "FranceConnect" in email.text
        assert "Auto-inscription" in email.text
        assert email.subject.startswith("Rappel")
    assert "Mot de passe oublié" in text and "FranceConnect" in text
    with services.sessions() as session:
        paper_login = session.scalars(
            select(Account.login).where(Account.id.in_(logins.values()))
        ).all()
        assert sum(_has(text, login) for login in paper_login) == 1
        for email in sent:
            assert session.get_one(Account, email.account_id).login in email.text
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "notify_reminder")
        ).one()
        assert event.details["channel"] == "auto" and event.details["emailed"] == 2
        notifies = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "notify")
        )
        assert notifies == 1  # only the first, real notification


def test_a_pupil_is_emailed_only_at_a_confirmed_address(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        confirmed = factories.pupil(session, school, first_name="Léa", division="2A")
        confirmed.email = "lea@example.org"
        confirmed.email_confirmed_at = services.clock()
        pending = factories.pupil(session, school, first_name="Hugo", division="2A")
        pending.email = "hugo@example.org"  # never confirmed: may be mistyped
    sent = _captured(monkeypatch)
    pdf = tmp_path / "fiches.pdf"
    result = _notify(
        services,
        NotifyRequest(PUPILS, Selection(), pdf_path=pdf, channel=NotifyChannel.AUTO),
    )
    assert (result.emailed, result.on_paper) == (1, 1)
    assert [e.recipient for e in sent] == ["lea@example.org"]
    assert "Bonjour Léa," in sent[0].text
    assert "HUGO" not in sent[0].text and "Hugo" in _pdf_text(pdf)


def test_the_html_body_escapes_every_name_and_loads_nothing(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        child = factories.pupil(
            session, school, first_name="<i>Zoé</i>", last_name="<b>Zoé</b> & Cie", division="3E1"
        )
        factories.guardian(session, [child], email="famille@example.org")
    sent = _captured(monkeypatch)
    _notify(services, NotifyRequest(GUARDIANS, Selection(), channel=NotifyChannel.EMAIL))
    (email,) = sent
    assert "<B>ZOÉ</B> & CIE <i>Zoé</i>" in email.text
    assert "&lt;B&gt;ZOÉ&lt;/B&gt; &amp; CIE &lt;i&gt;Zoé&lt;/i&gt;" in email.html
    assert "<b>" not in email.html.lower()
    assert "<i>" not in email.html
    for external in ("src=", "<link", "<img", "url(", "<script"):
        assert external not in email.html.lower()


def test_a_pupils_reminder_on_paper_prints_no_password(services: Services, tmp_path: Path) -> None:
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        ids = [
            factories.pupil(session, school, first_name=f"Élève{i}", division="6E2").id
            for i in range(3)
        ]
    for account_id in ids:
        factories.simulate_notification(services, account_id, "zx9kq2wm7p")
    before = _snapshot(services)
    pdf, csv_path = tmp_path / "rappel.pdf", tmp_path / "rappel.csv"
    result = _notify(
        services, NotifyRequest(PUPILS, Selection(), pdf_path=pdf, csv_path=csv_path, reset=False)
    )
    assert (result.count, result.on_paper, result.reset) == (3, 3, False)
    assert _snapshot(services) == before
    text = _pdf_text(pdf)
    assert "zx9kq2wm7p" not in text and "zx9kq2wm7p" not in csv_path.read_text("utf-8-sig")
    assert "Mot de passe oublié" in text and "aucun mot de passe n'a été modifié" in text
    assert "Les mots de passe provisoires figurent" not in text
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text("utf-8-sig")), delimiter=";"))
    assert {row["Mot de passe provisoire"] for row in rows} == {""}
    assert all(_has(text, row["Identifiant"]) for row in rows)


def test_a_cancel_inside_the_transaction_rolls_the_queued_messages_back(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped at the last safe point, after the messages were added to the session."""
    _class(services, "3E1", ["a@example.org", "b@example.org"])
    before = _snapshot(services)
    sent = _captured(monkeypatch)
    cancel = threading.Event()

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "enregistrement":
            cancel.set()

    with pytest.raises(Cancelled):
        _notify(
            services,
            NotifyRequest(GUARDIANS, Selection(), channel=NotifyChannel.EMAIL),
            progress=progress,
            cancel=cancel,
        )
    assert len(sent) == 2  # queued in the session, then rolled back with the passwords
    assert _snapshot(services) == before and not _outbox(services)


def _exports(services: Services) -> list[tuple[dict[str, Any], set[int], str]]:
    """Each ``export`` record: its details, its targets, and the lot of its transaction."""
    with services.sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)
        ).all()
        return [
            (
                dict(event.details),
                set(
                    session.scalars(
                        select(AuditTarget.account_id).where(AuditTarget.event_id == event.id)
                    )
                ),
                str(event.details.get("lot")),
            )
            for event in events
        ]


def test_the_documents_holding_passwords_are_audited_as_an_export(
    services: Services, tmp_path: Path
) -> None:
    """`audit list --action export` names every file holding a password, and whose."""
    logins = _class(services, "4E2", ["a@example.org", None, None])
    pdf, csv_path = tmp_path / "lettres.pdf", tmp_path / "lettres.csv"
    request = NotifyRequest(
        GUARDIANS, Selection(), pdf_path=pdf, csv_path=csv_path, channel=NotifyChannel.AUTO
    )
    _notify(services, request)
    ((details, targets, lot),) = _exports(services)
    assert details["what"] == "lettres et fiches de notification (mots de passe)"
    assert details["paths"] == [str(pdf), str(csv_path)]
    assert details["count"] == 2
    # Whose passwords the documents hold: the e-mailed guardian is not in them.
    paper = {i for login, i in logins.items() if _has(_pdf_text(pdf), login)}
    assert targets == paper and len(paper) == 2
    with services.sessions() as session:
        notify = session.scalars(select(AuditEvent).where(AuditEvent.action == "notify")).one()
    assert notify.details["lot"] == lot  # one transaction, one lot of files


def test_an_all_email_notification_writes_no_document_and_records_no_export(
    services: Services,
) -> None:
    _class(services, "5E1", ["a@example.org", "b@example.org"])
    _notify(services, NotifyRequest(GUARDIANS, Selection(), channel=NotifyChannel.EMAIL))
    assert _exports(services) == []


def test_a_reminder_on_paper_is_audited_as_an_export_without_passwords(
    services: Services, tmp_path: Path
) -> None:
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        ids = {factories.pupil(session, school, division="6E2").id for _ in range(2)}
    for account_id in ids:
        factories.simulate_notification(services, account_id, "zx9kq2wm7p")
    pdf = tmp_path / "rappel.pdf"
    _notify(services, NotifyRequest(PUPILS, Selection(), pdf_path=pdf, reset=False))
    ((details, targets, _lot),) = _exports(services)
    assert details["what"] == "lettres et fiches de rappel (sans mot de passe)"
    assert (details["paths"], details["count"], targets) == ([str(pdf)], 2, ids)
