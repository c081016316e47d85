"""E-mail delivery through the outbox, against a real SMTP server (aiosmtpd), both backends."""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import select, update

from educonnect_tui.domain.mail import sender
from educonnect_tui.domain.mail.message import display_name
from educonnect_tui.domain.mail.queue import Email, queue_email
from educonnect_tui.domain.model.enums import Channel, OutboxState
from educonnect_tui.domain.model.tables import OutboxMessage
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.services import Services
from educonnect_tui.domain.store.settings import Settings, settings_problem
from educonnect_tui.domain.store.smtp_url import Security, parse_smtp_url
from tests import factories
from tests.certificates import self_signed
from tests.conftest import FAST_HASH, MAIL_FROM, FakeClock
from tests.mail_server import Inbox, free_port, running

SCHOOL = "Collège Jean Moulin"
OPERATOR = Actor(label="ligne de commande (test)", source_address="console")


def _queue(services: Services, *recipients: str, school: bool = True) -> list[int]:
    """One e-mail per recipient, in one transaction, as a notification queues them."""
    with services.sessions() as session, session.begin():
        establishment = factories.school(session) if school else None
        for recipient in recipients:
            queue_email(
                session,
                Email(
                    recipient=recipient,
                    subject="Vos identifiants EduConnect — élève Noé Lefèvre",
                    text=f"Bonjour,\n\nVotre identifiant\u00a0: n.lefevre ({recipient}).\n",
                    html=f"<p>Bonjour,</p><p>Votre identifiant\u00a0: <b>n.lefevre</b> "
                    f"({recipient}).</p>",
                    establishment_id=establishment.id if establishment else None,
                ),
                now=services.clock(),
            )
        session.flush()
        return list(session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))


def _row(services: Services, message_id: int) -> OutboxMessage:
    with services.sessions() as session:
        row = session.get(OutboxMessage, message_id)
        assert row is not None
        session.expunge(row)
        return row


def _with(services: Services, clock: FakeClock, **update: Any) -> Services:
    return Services.from_settings(
        services.settings.model_copy(update=update), clock=clock, hash_params=FAST_HASH
    )


# -- the settings ------------------------------------------------------------------------


def test_smtp_urls_are_read_with_their_security_and_default_ports() -> None:
    plain = parse_smtp_url("smtp://relais.ac-paris.fr")
    assert (plain.security, plain.port, plain.user) == (Security.PLAIN, 25, None)
    starttls = parse_smtp_url("smtp+starttls://ce.0750655e:p%40ss%3Aw0rd@smtp.ac-paris.fr")
    assert (starttls.security, starttls.port) == (Security.STARTTLS, 587)
    assert (starttls.user, starttls.password) == ("ce.0750655e", "p@ss:w0rd")
    assert parse_smtp_url("smtps://smtp.ac-paris.fr:2465").port == 2465


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://smtp.ac-paris.fr", "schéma « http » inconnu"),
        ("smtps://", "hôte manquant"),
        ("smtp://relais:99999", "URL illisible"),
        ("smtp://relais/boite?x=1", "rien n'est attendu après hôte:port"),
        ("smtp://ce:Secr3t-Pw@relais:25", "identifiants sur une connexion non chiffrée"),
    ],
)
def test_a_bad_smtp_url_is_refused_in_french_without_its_password(url: str, words: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(smtp_url=url)
    line = settings_problem(dict(refused.value.errors()[0]))
    assert line.startswith("réglage EDUCONNECT_SMTP_URL invalide\u00a0: ")
    assert words in line
    assert "Secr3t" not in line and "Secr3t" not in str(refused.value)


def test_the_smtp_password_never_shows_in_a_repr_or_a_string() -> None:
    settings = Settings(smtp_url="smtps://ce:Secr3t-Pw@smtp.ac-paris.fr", mail_from=MAIL_FROM)
    server = settings.smtp
    assert server is not None and server.password == "Secr3t-Pw"
    for shown in (repr(settings), str(settings), repr(server), str(server), server.where):
        assert "Secr3t" not in shown
    assert "Secr3t" not in str(settings.model_dump())


@pytest.mark.parametrize("address", ["Bob <bob@ac-paris.fr>", "bob", "bob@localhost", "a@b@c.fr"])
def test_the_senders_address_must_be_one_address(address: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(mail_from=address)
    assert "n'est pas une adresse électronique" in settings_problem(dict(refused.value.errors()[0]))


def test_the_display_name_names_the_school() -> None:
    assert display_name("{school} — EduConnect", "Collège  Jean Moulin") == (
        "Collège Jean Moulin — EduConnect"
    )
    assert display_name("{school} — EduConnect", None) == "EduConnect"
    with pytest.raises(ValidationError):
        Settings(mail_from_name="{ecole} — EduConnect")


def test_nothing_is_sent_without_a_relay(services: Services) -> None:
    _queue(services, "famille@example.fr")
    with pytest.raises(sender.MailNotConfigured, match="EDUCONNECT_SMTP_URL et EDUCONNECT_MAIL"):
        sender.deliver_due(services)
    assert _row(services, 1).state is OutboxState.PENDING


# -- delivery ----------------------------------------------------------------------------


def test_a_message_arrives_with_its_headers_text_and_html(
    mail_services: Services, smtp_inbox: Inbox
) -> None:
    ids = _queue(mail_services, "émilie.martin@example.fr", "famille@example.fr")
    report = sender.deliver_due(mail_services)
    assert (report.sent, report.failed, report.pending) == (2, 0, 0)
    assert report.lines() == ["2 envoyés, 0 en échec, 0 en attente."]
    assert len(smtp_inbox.received) == 2
    first = smtp_inbox.received[0]
    row = _row(mail_services, ids[0])
    assert first["From"].addresses[0].display_name == f"{SCHOOL} — EduConnect"
    assert first["From"].addresses[0].addr_spec == MAIL_FROM
    assert str(first["To"]) == "émilie.martin@example.fr"
    assert str(first["Subject"]) == "Vos identifiants EduConnect — élève Noé Lefèvre"
    assert str(first["Message-ID"]) == row.message_id
    assert email.utils.parsedate_to_datetime(str(first["Date"])) == row.created_at
    assert first.get_content_type() == "multipart/alternative"
    text = first.get_body(("plain",))
    html = first.get_body(("html",))
    assert text is not None and html is not None
    assert "Votre identifiant\u00a0: n.lefevre" in text.get_content()
    assert "<b>n.lefevre</b>" in html.get_content()
    assert text.get_content_charset() == "utf-8"
    assert smtp_inbox.envelopes[0] == (MAIL_FROM, ["émilie.martin@example.fr"])
    assert row.state is OutboxState.SENT and row.sent_at == mail_services.clock()
    assert row.attempts == 1 and row.last_error is None


def test_a_refused_address_fails_and_the_others_are_sent(
    mail_services: Services, smtp_inbox: Inbox
) -> None:
    smtp_inbox.refused.add("inconnu@example.fr")
    ids = _queue(mail_services, "a@example.fr", "inconnu@example.fr", "b@example.fr")
    report = sender.deliver_due(mail_services)
    assert (report.sent, report.failed, report.pending) == (2, 1, 0)
    assert report.lines()[0] == "2 envoyés, 1 en échec, 0 en attente."
    refused = _row(mail_services, ids[1])
    assert refused.state is OutboxState.FAILED
    assert refused.last_error is not None
    assert refused.last_error.startswith("adresse refusée par le serveur\u00a0: 550 5.1.1")
    assert [_row(mail_services, i).state for i in (ids[0], ids[2])] == [OutboxState.SENT] * 2
    assert sorted(to for _, (to,) in smtp_inbox.envelopes) == ["a@example.fr", "b@example.fr"]
    # A permanent failure is not retried.
    sender.deliver_due(mail_services)
    assert len(smtp_inbox.received) == 2


def test_a_connection_dropped_before_the_data_is_retried_later_then_sent_once(
    mail_services: Services, smtp_inbox: Inbox, clock: FakeClock
) -> None:
    smtp_inbox.drop_at_rcpt = 1
    ids = _queue(mail_services, "a@example.fr", "b@example.fr")
    report = sender.deliver_due(mail_services)
    # The second message gets a new connection in the same run.
    assert (report.sent, report.failed, report.pending) == (1, 0, 1)
    dropped = _row(mail_services, ids[0])
    assert dropped.state is OutboxState.PENDING and dropped.attempts == 1
    assert dropped.last_error == "connexion interrompue par le serveur"
    assert dropped.next_attempt_at == clock.now + dt.timedelta(seconds=300)
    # Not due yet: nothing happens.
    assert sender.deliver_due(mail_services).sent == 0
    clock.advance(seconds=300)
    assert sender.deliver_due(mail_services).sent == 1
    assert sorted(to for _, (to,) in smtp_inbox.envelopes) == ["a@example.fr", "b@example.fr"]
    again = _row(mail_services, ids[0])
    assert again.state is OutboxState.SENT and again.attempts == 2
    assert smtp_inbox.received[1]["Message-ID"] == dropped.message_id


@contextlib.contextmanager
def _raw_server(answer: Callable[[socket.socket], None]) -> Iterator[int]:
    """A TCP server on a free port: each connection is handed to ``answer``."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(connection)
            answer(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def _unreachable(services: Services, clock: FakeClock, url: str) -> str:
    relay = _with(services, clock, smtp_url=SecretStr(url), smtp_timeout_seconds=1)
    _queue(relay, "a@example.fr", school=False)
    report = sender.deliver_due(relay)
    assert report.nothing_could_be_sent and report.unreachable is not None
    return report.unreachable


def test_a_relay_that_accepts_and_never_answers_is_a_timeout_not_a_closed_connection(
    mail_services: Services, clock: FakeClock
) -> None:
    with _raw_server(lambda connection: None) as port:  # accepted, then silence
        said = _unreachable(mail_services, clock, f"smtp://127.0.0.1:{port}")
    assert "injoignable" in said and "le serveur n'a pas répondu en 1\u00a0s" in said
    assert "fermée" not in said
    with _raw_server(lambda connection: connection.close()) as port:
        said = _unreachable(mail_services, clock, f"smtp://127.0.0.1:{port}")
    assert "connexion fermée par le serveur" in said


def test_tls_on_a_port_that_does_not_speak_it_is_said_in_french(
    mail_services: Services, clock: FakeClock
) -> None:
    with _raw_server(lambda connection: connection.sendall(b"220 relais ESMTP\r\n")) as port:
        said = _unreachable(mail_services, clock, f"smtps://127.0.0.1:{port}")
    assert "le serveur ne parle pas TLS sur ce port (WRONG_VERSION_NUMBER)" in said


def test_a_server_that_is_down_leaves_the_messages_waiting_with_a_back_off(
    mail_services: Services, clock: FakeClock
) -> None:
    down = _with(
        mail_services,
        clock,
        smtp_url=SecretStr(f"smtp://127.0.0.1:{free_port()}"),
        mail_max_attempts=3,
        mail_retry_seconds=60,
    )
    ids = _queue(down, "a@example.fr", "b@example.fr")
    report = sender.deliver_due(down)
    assert report.nothing_could_be_sent and (report.sent, report.pending) == (0, 2)
    assert report.unreachable is not None and "injoignable" in report.unreachable
    assert "connexion refusée" in report.unreachable
    first = _row(down, ids[0])
    assert (first.state, first.attempts) == (OutboxState.PENDING, 1)
    assert first.next_attempt_at == clock.now + dt.timedelta(seconds=60)
    clock.advance(seconds=60)
    sender.deliver_due(down)
    second = _row(down, ids[0])
    assert second.attempts == 2
    assert second.next_attempt_at == clock.now + dt.timedelta(seconds=120)
    clock.advance(seconds=120)
    last = sender.deliver_due(down)
    assert (last.failed, last.pending) == (2, 0)
    failed = _row(down, ids[1])
    assert failed.state is OutboxState.FAILED and failed.attempts == 3
    assert failed.last_error is not None
    assert failed.last_error.startswith("3 tentatives sans succès\u00a0: serveur SMTP 127.0.0.1")
    down.engine.dispose()


def test_running_the_sender_twice_sends_each_message_once(
    mail_services: Services, smtp_inbox: Inbox, clock: FakeClock
) -> None:
    _queue(mail_services, *(f"p{i}@example.fr" for i in range(45)))
    first = sender.deliver_due(mail_services, batch_size=7)
    clock.advance(days=1)
    second = sender.deliver_due(mail_services, batch_size=7)
    assert (first.sent, second.sent) == (45, 0)
    assert len(smtp_inbox.received) == len(set(smtp_inbox.message_ids())) == 45


def test_a_crash_after_the_smtp_transaction_is_never_resent_blindly(
    mail_services: Services, smtp_inbox: Inbox, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _queue(mail_services, "a@example.fr")

    def killed(*args: object, **kwargs: object) -> None:
        raise SystemExit("kill -9")  # the server has the message, the row says nothing yet

    with monkeypatch.context() as patched:
        patched.setattr(sender, "_finish", killed)
        with pytest.raises(SystemExit):
            sender.deliver_due(mail_services)
    assert len(smtp_inbox.received) == 1
    assert _row(mail_services, ids[0]).state is OutboxState.SENDING
    # A moment later another run may still be on it: left alone.
    clock.advance(minutes=5)
    assert sender.deliver_due(mail_services).sent == 0
    assert _row(mail_services, ids[0]).state is OutboxState.SENDING
    # Past the sending timeout: « incertain », listed, not sent again.
    clock.advance(minutes=15)
    report = sender.deliver_due(mail_services)
    assert (report.sent, report.uncertain) == (0, 1)
    assert "1 envoi incertain" in report.lines()[1]
    assert [q.id for q in sender.list_queue(mail_services, states=[OutboxState.UNCERTAIN])] == ids
    clock.advance(days=60)
    sender.deliver_due(mail_services)
    assert len(smtp_inbox.received) == 1
    # Sent again only when an operator asks.
    assert sender.settle_uncertain(mail_services, OPERATOR, ids, resend=True) == ids
    assert sender.deliver_due(mail_services).sent == 1
    assert smtp_inbox.message_ids() == [_row(mail_services, ids[0]).message_id] * 2


def test_a_connection_lost_after_the_data_makes_the_delivery_uncertain(
    mail_services: Services, smtp_inbox: Inbox, clock: FakeClock
) -> None:
    smtp_inbox.drop_after_data = 1
    ids = _queue(mail_services, "a@example.fr", "b@example.fr")
    report = sender.deliver_due(mail_services)
    assert (report.sent, report.uncertain) == (1, 1)
    assert _row(mail_services, ids[0]).state is OutboxState.UNCERTAIN
    assert "il a pu être remis" in (_row(mail_services, ids[0]).last_error or "")
    clock.advance(days=1)
    sender.deliver_due(mail_services)
    assert len(smtp_inbox.received) == 2  # the server did take it; never a second time
    assert sender.settle_uncertain(mail_services, OPERATOR, ids[:1], resend=False) == ids[:1]
    abandoned = _row(mail_services, ids[0])
    assert abandoned.state is OutboxState.FAILED
    with pytest.raises(Exception, match="non « incertain »"):
        sender.settle_uncertain(mail_services, OPERATOR, ids, resend=True)


def test_a_claim_takes_one_batch_and_marks_it_sending(mail_services: Services) -> None:
    """PostgreSQL ran an UPDATE's ``IN (… LIMIT 3 FOR UPDATE SKIP LOCKED)`` once per row
    and took every pending message: the batch is read first, then updated."""
    ids = _queue(mail_services, *(f"p{i}@example.fr" for i in range(10)))
    batch = sender._claim(mail_services, 3)
    assert [m.id for m in batch] == ids[:3]
    states = [_row(mail_services, i).state for i in ids]
    assert states == [OutboxState.SENDING] * 3 + [OutboxState.PENDING] * 7
    assert [m.attempts for m in batch] == [1, 1, 1]


def test_two_senders_at_once_never_send_a_message_twice(
    mail_services: Services, smtp_inbox: Inbox, clock: FakeClock
) -> None:
    _queue(mail_services, *(f"p{i}@example.fr" for i in range(60)))
    senders = [_with(mail_services, clock) for _ in range(2)]
    start = threading.Barrier(2)
    reports: list[sender.DeliveryReport] = []
    errors: list[BaseException] = []

    def run(services: Services) -> None:
        start.wait()
        try:
            reports.append(sender.deliver_due(services, batch_size=3))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(s,)) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for services in senders:
        services.engine.dispose()
    assert errors == []
    assert sum(r.sent for r in reports) == 60
    assert len(smtp_inbox.received) == len(set(smtp_inbox.message_ids())) == 60


def test_the_gateways_codes_are_delivered_and_sms_stay(
    mail_services: Services, smtp_inbox: Inbox
) -> None:
    with mail_services.sessions() as session, session.begin():
        mail_services.gateway.send(
            session,
            Channel.EMAIL,
            "parent@example.fr",
            "EduConnect\u00a0: code",
            "Code 123456",
            now=mail_services.clock(),
        )
        mail_services.gateway.send(
            session,
            Channel.SMS,
            "+33612345678",
            "EduConnect\u00a0: code",
            "Code 654321",
            now=mail_services.clock(),
        )
    report = sender.deliver_due(mail_services)
    assert (report.sent, report.pending) == (1, 0)
    (message,) = smtp_inbox.received
    assert message["From"].addresses[0].display_name == "EduConnect"
    assert message.get_content_type() == "text/plain"
    assert "Code 123456" in message.get_content()
    sms = _row(mail_services, 2)
    assert sms.channel is Channel.SMS and sms.state is OutboxState.PENDING and sms.sent_at is None
    assert [q.recipient for q in sender.list_queue(mail_services)] == ["parent@example.fr"]


def test_finished_bodies_are_purged_after_the_retention(
    mail_services: Services, smtp_inbox: Inbox, clock: FakeClock
) -> None:
    smtp_inbox.refused.add("inconnu@example.fr")
    ids = _queue(mail_services, "a@example.fr", "inconnu@example.fr", "c@example.fr")
    with mail_services.sessions() as session, session.begin():  # one left waiting
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[2])
            .values(next_attempt_at=clock.now + dt.timedelta(days=365))
        )
    assert sender.deliver_due(mail_services).purged == 0
    clock.advance(days=29)
    assert sender.purge(mail_services) == 0
    assert "n.lefevre" in _row(mail_services, ids[0]).body
    clock.advance(days=1)
    assert sender.purge(mail_services) == 2
    for purged in (_row(mail_services, ids[0]), _row(mail_services, ids[1])):
        assert (purged.body, purged.html, purged.purged_at) == ("", None, clock.now)
        assert purged.recipient and purged.subject and purged.message_id
    waiting = _row(mail_services, ids[2])
    assert waiting.purged_at is None and "n.lefevre" in waiting.body
    assert sender.purge(mail_services) == 0


def test_retention_zero_purges_at_the_end_of_the_run(
    mail_services: Services, smtp_inbox: Inbox, clock: FakeClock
) -> None:
    at_once = _with(mail_services, clock, outbox_retention_days=0)
    ids = _queue(at_once, "a@example.fr")
    report = sender.deliver_due(at_once)
    assert (report.sent, report.purged) == (1, 1)
    assert "1 message purgé" in report.lines()[-1]
    assert _row(at_once, ids[0]).body == ""
    at_once.engine.dispose()


# -- STARTTLS and login ------------------------------------------------------------------


@pytest.mark.parametrize("password", ["Secr3t-Pw", "faux"])
def test_starttls_then_login(
    mail_services: Services, clock: FakeClock, tmp_path: Path, password: str
) -> None:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins: list[bytes] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append(data.login)
        return AuthResult(success=data.login == b"ce" and data.password == b"Secr3t-Pw")

    with running(
        Inbox(),
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    ) as inbox:
        secure = _with(
            mail_services,
            clock,
            smtp_url=SecretStr(f"smtp+starttls://ce:{password}@127.0.0.1:{inbox.port}"),
        )
        _queue(secure, "a@example.fr")
        client_tls = ssl.create_default_context(cafile=str(cert))
        report = sender.deliver_due(secure, tls_context=client_tls)
        secure.engine.dispose()
    assert logins == [b"ce"]
    if password == "faux":
        assert report.nothing_could_be_sent
        assert report.unreachable is not None
        assert report.unreachable.startswith("authentification refusée par le serveur SMTP")
        assert "faux" not in report.unreachable and inbox.received == []
    else:
        assert report.sent == 1 and len(inbox.received) == 1


@pytest.mark.postgres
def test_on_postgresql_a_sender_skips_the_rows_another_one_holds(
    postgres_schema: str, tmp_path: Path, smtp_inbox: Inbox, clock: FakeClock
) -> None:
    """The claim's sub-select locks what it takes and passes over what is locked (SKIP
    LOCKED): a sender never waits for another's batch, nor takes it."""
    from tests.conftest import _truncate

    _truncate(postgres_schema)
    settings = Settings(
        database_url=postgres_schema,
        key_file=tmp_path / "k.key",
        smtp_url=f"smtp://127.0.0.1:{smtp_inbox.port}",
        mail_from=MAIL_FROM,
    )
    services = Services.from_settings(settings, clock=clock, hash_params=FAST_HASH)
    ids = _queue(services, "a@example.fr", "b@example.fr", "c@example.fr")
    with services.sessions() as other, other.begin():
        other.scalars(
            select(OutboxMessage.id).where(OutboxMessage.id == ids[0]).with_for_update()
        ).all()
        report = sender.deliver_due(services)
        assert report.sent == 2
    assert sorted(to for _, (to,) in smtp_inbox.envelopes) == ["b@example.fr", "c@example.fr"]
    assert sender.deliver_due(services).sent == 1
    assert len(smtp_inbox.received) == 3
    services.engine.dispose()


def test_an_interrupted_run_gives_back_the_messages_it_had_not_sent(
    mail_services: Services, smtp_inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during the second message's connection: the first is sent, the others of
    the batch are « en attente » again, their attempt not counted — none « incertain »."""
    ids = _queue(mail_services, "a@example.fr", "b@example.fr", "c@example.fr")
    original = sender.Relay.send
    calls = []

    def interrupted(self: sender.Relay, *args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        original(self, *args, **kwargs)

    monkeypatch.setattr(sender.Relay, "send", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sender.deliver_due(mail_services)
    rows = [_row(mail_services, i) for i in ids]
    assert [r.state for r in rows] == [OutboxState.SENT, OutboxState.PENDING, OutboxState.PENDING]
    assert [r.attempts for r in rows] == [1, 0, 0]
    monkeypatch.setattr(sender.Relay, "send", original)
    assert sender.deliver_due(mail_services).sent == 2
    assert len(smtp_inbox.received) == 3


def test_a_header_with_a_line_break_is_refused_not_injected(
    mail_services: Services, smtp_inbox: Inbox
) -> None:
    ids = _queue(mail_services, "a@example.fr\r\nBcc: espion@example.org", "b@example.fr")
    report = sender.deliver_due(mail_services)
    assert (report.sent, report.failed) == (1, 1)
    refused = _row(mail_services, ids[0])
    assert refused.state is OutboxState.FAILED
    assert (refused.last_error or "").startswith("message impossible à composer\u00a0: ")
    assert [to for _, (to,) in smtp_inbox.envelopes] == ["b@example.fr"]


def test_migration_0010_makes_queued_emails_deliverable(empty_database: str) -> None:
    """E-mails queued before delivery existed get a Message-ID and wait « en attente »;
    SMS stay as they were; the migration goes back down."""
    from sqlalchemy import text

    from educonnect_tui.domain.store import db

    engine = db.make_engine(empty_database)
    db.upgrade(engine, "0009")
    with engine.begin() as connection:
        for channel in ("email", "email", "sms"):
            connection.execute(
                text(
                    "INSERT INTO outbox_message (created_at, channel, recipient, subject, body)"
                    " VALUES ('2026-09-01 08:00:00', :c, 'x', 'Code', 'Code 123456')"
                ),
                {"c": channel},
            )
    db.upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT channel, state, attempts, message_id, state_since FROM outbox_message "
                "ORDER BY id"
            )
        ).all()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("email", "en_attente", 0),
        ("email", "en_attente", 0),
        ("sms", "en_attente", 0),
    ]
    ids = [r[3] for r in rows]
    assert ids[0] != ids[1] and all(i.endswith("@educonnect-tui>") for i in ids[:2])
    assert ids[2] is None and all(r[4] is not None for r in rows)
    from alembic import command

    with engine.begin() as connection:
        config = db._alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, "0009")
    assert db.current_revision(engine) == "0009"
    engine.dispose()
