"""The whole (re)Notifier flow from the keyboard, checked in the database and the PDF."""

from __future__ import annotations

import io
import math
import os
import re
import signal
import stat
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pypdf import PdfReader
from rich.console import Console
from sqlalchemy import select, update
from textual.widgets import Button, Checkbox, Input, Label, RadioSet, Static

from educonnect_tui.app import EduConnectApp, create_app
from educonnect_tui.domain.accounts import notification
from educonnect_tui.domain.model.enums import AccountKind, AccountState, NotifyChannel, OutboxState
from educonnect_tui.domain.model.errors import DocumentError
from educonnect_tui.domain.model.states import MAX_FAILED_ATTEMPTS, NOTIFIED_BY_DEFAULT, Lockout
from educonnect_tui.domain.model.tables import (
    Account,
    AuditEvent,
    Division,
    GuardianLink,
    OutboxMessage,
    Pupil,
    Staff,
)
from educonnect_tui.domain.store.services import Services
from educonnect_tui.screens.detail import DetailScreen
from educonnect_tui.screens.error import ErrorScreen
from educonnect_tui.screens.guardians_notify import GuardiansPickScreen
from educonnect_tui.screens.home import HomeScreen
from educonnect_tui.screens.notify import NotifyConfirmScreen, NotifyProgressScreen
from educonnect_tui.widgets.marked_list import MarkedSelectionList
from tests import factories
from tests.conftest import MAIL_FROM
from tests.helpers import settle, sync
from tests.mail_server import Inbox, free_port
from tests.pilot.conftest import SmallSchool

AppFactory = Callable[[], EduConnectApp]


def _states(services: Services, ids: set[int]) -> Counter[AccountState]:
    with services.sessions() as session:
        return Counter(session.scalars(select(Account.state).where(Account.id.in_(ids))))


def _plain(widget: Static, width: int = 120) -> str:
    """What a Static shows, as text, whether it holds markup or Rich tables."""
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(widget.content)
    return out.getvalue()


def _flat(widget: Static) -> str:
    """What a Static shows on one line: wrapped lines joined, no-break spaces kept."""
    return re.sub(r"[ \n]+", " ", _plain(widget, 70)).strip()


def _documents(services: Services) -> list[Path]:
    folder = services.settings.output_dir / "notifications"
    return sorted(folder.glob("*")) if folder.exists() else []


async def _filter_3e_red_and_yellow(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("c", *["down"] * 18, "space", "e", "space", "down", "space", "escape")
    await settle(pilot)


@sync
async def test_notify_3e_red_and_yellow_pupils(
    principal_app: AppFactory, demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _filter_3e_red_and_yellow(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        await pilot.press("a")
        await settle(pilot)
        chosen = set(home.selected[AccountKind.PUPIL])
        assert len(chosen) == home.table.total and chosen
        before = _states(demo_services, chosen)
        assert set(before) <= {AccountState.NOT_NOTIFIED, AccountState.NOTIFIED}

        await pilot.press("n")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, NotifyConfirmScreen)
        text = str(confirm.query_one("#notify-summary", Static).render())
        assert f"{len(chosen)} comptes" in text and "fiches à découper" in text
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)

        after = _states(demo_services, chosen)
        assert after == Counter({AccountState.NOTIFIED: len(chosen)})
        assert not home.selected[AccountKind.PUPIL]
        pdf, csv_path = (
            [p for p in _documents(demo_services) if p.suffix == ".pdf"],
            [p for p in _documents(demo_services) if p.suffix == ".csv"],
        )
        assert len(pdf) == 1 and len(csv_path) == 1
        assert stat.S_IMODE(pdf[0].stat().st_mode) == 0o600

        with demo_services.sessions() as session:
            per_class = Counter(
                session.scalars(
                    select(Division.name)
                    .join(Pupil, Pupil.division_id == Division.id)
                    .join(Account, Account.pupil_id == Pupil.id)
                    .where(Account.id.in_(chosen))
                )
            )
            logins = set(session.scalars(select(Account.login).where(Account.id.in_(chosen))))
        reader = PdfReader(pdf[0])
        expected_pages = sum(1 + math.ceil(n / 8) for n in per_class.values())
        assert len(reader.pages) == expected_pages
        text = "\n".join(page.extract_text() for page in reader.pages)
        assert all(login in text for login in logins)
        # Every slip carries its identifier once; the class lists name them again.
        assert all(text.count(login) >= 2 for login in logins)


@sync
async def test_r_notifies_exactly_that_pupils_guardians_and_detail_shows_history(
    principal_app: AppFactory, demo_services: Services
) -> None:
    """`r` proposes the pupil's legal representatives not yet activated; an activated one
    is listed greyed, cannot be ticked, and keeps their own password."""
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        row = home.table.current_row
        assert row is not None
        with demo_services.sessions() as session:
            pupil_id = session.scalar(select(Account.pupil_id).where(Account.id == row.account_id))
            states = dict(
                session.execute(
                    select(Account.id, Account.state)
                    .join(GuardianLink, GuardianLink.guardian_id == Account.guardian_id)
                    .where(GuardianLink.pupil_id == pupil_id, GuardianLink.legal_guardian)
                ).all()
            )
        guardians = {i for i, s in states.items() if s in NOTIFIED_BY_DEFAULT}
        others = set(states) - guardians
        assert guardians and others  # the demo's first pupil: one parent already activated
        await pilot.press("r")
        await settle(pilot)
        pick = app.screen
        assert isinstance(pick, GuardiansPickScreen) and pick.rows is not None
        choices = pick.query_one("#guardians-pick-list", MarkedSelectionList)
        options = [choices.get_option_at_index(i) for i in range(choices.option_count)]
        assert {int(o.value) for o in options} == set(states)
        assert {int(o.value) for o in options if o.disabled} == others
        assert set(pick.chosen) == guardians
        # Space on a greyed line ticks nothing: the highlight skips it.
        for _ in options:
            await pilot.press("down", "space")
        await pilot.press("space")
        assert set(pick.chosen) <= guardians
        for option in options:
            if not option.disabled and option.value not in choices.selected:
                choices.select(option.value)
        assert set(pick.chosen) == guardians
        summary = _plain(pick.query_one("#guardians-pick-summary", Static))
        assert "non activés" in summary and "grisé" in summary
        await pilot.press("n")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, NotifyConfirmScreen)
        assert confirm.request.selection.account_ids == tuple(sorted(guardians))
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert _states(demo_services, guardians) == Counter({AccountState.NOTIFIED: len(guardians)})
        assert _states(demo_services, others) == Counter(states[i] for i in others)
        [pdf] = [p for p in _documents(demo_services) if p.suffix == ".pdf"]
        # The class's distribution list, then one letter per guardian.
        pages = PdfReader(pdf).pages
        assert len(pages) == 1 + len(guardians)
        assert "Liste de distribution" in (pages[0].extract_text() or "")

        # The guardian's detail shows the notification in its history.
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", *row.last_name.split()[0].lower(), "enter")
        await pilot.pause(0.3)
        await settle(pilot)
        table = home.table
        for index in range(table.total or 0):
            candidate = table.row_at(index)
            if candidate is not None and candidate.account_id in guardians:
                table.cursor = index
                break
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen) and detail.detail is not None
        assert detail.detail.account_id in guardians
        history = _plain(detail.query_one("#detail-history", Static))
        assert "(re)notification" in history and "Philippe Marchand" in history
        assert "16/11/2026 à 10:30" in history  # 09:30 UTC, in French local time
        assert detail.detail.login in _plain(detail.query_one("#detail-title", Static))
        # A guardian has no guardians: the key is not offered at all.
        assert detail.check_action("notify_guardians", ()) is False
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)


# -- a small school of known size (tests/pilot/conftest.py) -------------------------------


async def _open_confirm(pilot, *keys: str) -> NotifyConfirmScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press(*keys, "n")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, NotifyConfirmScreen)
    return screen


@sync
async def test_nothing_to_notify_says_so_instead_of_asking(
    small_app: AppFactory, small_school: SmallSchool
) -> None:
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        # Only the activated accounts shown: there are none.
        await settle(pilot)
        await pilot.press("e", "down", "down", "space", "escape")
        confirm = await _open_confirm(pilot)
        text = _plain(confirm.query_one("#notify-summary", Static), 70)
        assert "Aucun compte à notifier parmi les comptes affichés" in text
        assert not confirm.query_one("#notify-go", Button).display
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    assert _documents(small_school.services) == []


@sync
async def test_enter_on_the_focused_cancel_button_cancels(
    small_app: AppFactory, small_school: SmallSchool
) -> None:
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        confirm = await _open_confirm(pilot)
        assert "3 comptes" in _plain(confirm.query_one("#notify-summary", Static), 70)
        await pilot.press("tab")
        assert app.focused is confirm.query_one("#notify-no", Button)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    assert _states(small_school.services, set(small_school.pupils)) == Counter(
        {AccountState.NOT_NOTIFIED: 3}
    )
    assert _documents(small_school.services) == []


@sync
async def test_enter_typed_before_the_count_is_shown_does_nothing(
    small_app: AppFactory, small_school: SmallSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    real_count = notification.preview

    def slow_count(*args: Any, **kwargs: Any) -> Any:
        gate.wait(10)
        return real_count(*args, **kwargs)

    monkeypatch.setattr(notification, "preview", slow_count)
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n", "enter")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, NotifyConfirmScreen) and confirm.total is None
        gate.set()
        await settle(pilot)
        assert confirm.total == 3 and confirm.is_current
        await pilot.press("escape")
        await settle(pilot)
    assert _documents(small_school.services) == []


@sync
async def test_a_failing_job_closes_the_progress_and_shows_the_error(
    small_app: AppFactory, small_school: SmallSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures: list[BaseException] = [
        DocumentError("Impossible d'enregistrer le fichier\u00a0: disque plein"),
        RuntimeError("boom"),
    ]

    def failing_notify(*args: Any, **kwargs: Any) -> Any:
        raise failures.pop(0)

    monkeypatch.setattr(notification, "notify", failing_notify)
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        # An unforeseen error's own text goes to the technical log, not to the screen.
        for expected in ("disque plein", "Erreur inattendue\u00a0: l'opération n'a pas abouti"):
            await _open_confirm(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ErrorScreen)
            assert expected in app.screen.message and "boom" not in app.screen.message
            assert not any(isinstance(s, NotifyProgressScreen) for s in app.screen_stack)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, HomeScreen)
    assert _states(small_school.services, set(small_school.pupils)) == Counter(
        {AccountState.NOT_NOTIFIED: 3}
    )


@sync
async def test_two_notifications_in_the_same_second_keep_both_documents(
    small_app: AppFactory, small_school: SmallSchool
) -> None:
    services = small_school.services
    app = small_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(2):
            # space ticks the row and moves down: the second round ticks the next pupil.
            await _open_confirm(pilot, "space")
            await pilot.press("enter")
            await settle(pilot)
            await settle(pilot)
            assert isinstance(app.screen, HomeScreen)
        messages = [n.message for n in app._notifications]
    pdfs = [p for p in _documents(services) if p.suffix == ".pdf"]
    assert len(pdfs) == 2  # the clock did not move: the second name got a suffix
    with services.sessions() as session:
        logins = session.scalars(
            select(Account.login).where(Account.id.in_(small_school.pupils[:2]))
        ).all()
    texts = ["".join(p.extract_text() for p in PdfReader(pdf).pages) for pdf in pdfs]
    assert sorted(sum(login in text for text in texts) for login in logins) == [1, 1]
    assert _states(services, set(small_school.pupils)) == Counter(
        {AccountState.NOTIFIED: 2, AccountState.NOT_NOTIFIED: 1}
    )
    # The toast names the folder once and each file.
    assert any(pdfs[1].name in m and str(pdfs[1].parent) in m for m in messages)


@sync
async def test_n_in_the_detail_notifies_that_account_only(
    small_app: AppFactory, small_school: SmallSchool
) -> None:
    services = small_school.services
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen) and detail.detail is not None
        assert detail.detail.account_id == small_school.pupils[1]
        assert "aucune action" in _plain(detail.query_one("#detail-history", Static), 78)
        assert detail.check_action("unblock", ()) is None  # greyed: not blocked
        await pilot.press("n")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, NotifyConfirmScreen)
        assert "1 compte" in _plain(confirm.query_one("#notify-summary", Static), 70)
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert detail.is_current
        assert detail.detail.state is AccountState.NOTIFIED
        account = _plain(detail.query_one("#detail-account", Static), 78)
        assert "notifié, non activé" in account and "1, la dernière le" in account
        assert "(re)notification" in _plain(detail.query_one("#detail-history", Static), 78)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    assert _states(services, set(small_school.pupils)) == Counter(
        {AccountState.NOTIFIED: 1, AccountState.NOT_NOTIFIED: 2}
    )
    assert _states(services, {small_school.pupils[1]}) == Counter({AccountState.NOTIFIED: 1})


@sync
async def test_cancel_during_the_job_changes_nothing(
    small_app: AppFactory, small_school: SmallSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = small_school.services
    # Hold the job after its first account until the user has pressed escape, so the
    # test does not depend on how fast the machine hashes.
    gate = threading.Event()
    real_notify = notification.notify

    def held_notify(*args: Any, **kwargs: Any) -> Any:
        progress = kwargs["progress"]

        def gated(phase: str, done: int, total: int) -> None:
            progress(phase, done, total)
            gate.wait(10)

        kwargs["progress"] = gated
        return real_notify(*args, **kwargs)

    monkeypatch.setattr(notification, "notify", held_notify)
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        shown = set(home.listing.ids(home.queries[AccountKind.PUPIL]))
        before = _states(services, shown)
        with services.sessions() as session:
            versions = session.execute(
                select(Account.id, Account.version).where(Account.id.in_(shown))
            ).all()
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause(0.2)
        progress = app.screen
        assert isinstance(progress, NotifyProgressScreen)
        await pilot.press("escape")
        assert progress.cancel_event.is_set()
        assert "Annulation" in str(progress.query_one("#progress-phase", Static).render())
        gate.set()
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert _states(services, shown) == before
        with services.sessions() as session:
            assert (
                versions
                == session.execute(
                    select(Account.id, Account.version).where(Account.id.in_(shown))
                ).all()
            )
        assert _documents(services) == []
        assert any("annulée" in n.message for n in app._notifications)


@sync
async def test_sigterm_or_hangup_during_the_job_cancels_it_then_quits(
    small_app: AppFactory, small_school: SmallSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``run_app`` does on SIGTERM or SIGHUP (a dropped SSH link): like escape, then quit."""
    services = small_school.services
    gate = threading.Event()
    real_notify = notification.notify
    jobs: list[threading.Thread] = []

    def held_notify(*args: Any, **kwargs: Any) -> Any:
        jobs.append(threading.current_thread())
        progress = kwargs["progress"]

        def gated(phase: str, done: int, total: int) -> None:
            progress(phase, done, total)
            gate.wait(10)

        kwargs["progress"] = gated
        return real_notify(*args, **kwargs)

    monkeypatch.setattr(notification, "notify", held_notify)
    app = small_app()
    app.stops_on_signals = True  # as run_app sets it
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        shown = set(home.listing.ids(home.queries[AccountKind.PUPIL]))
        before = _states(services, shown)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause(0.2)
        progress = app.screen
        assert isinstance(progress, NotifyProgressScreen)
        os.kill(os.getpid(), signal.SIGHUP)
        await pilot.pause(0.1)
        assert progress.cancel_event.is_set()
        gate.set()
        await pilot.pause(0.2)
    assert app.return_code == 128 + signal.SIGHUP
    for job in jobs:
        job.join(10)
    assert _states(services, shown) == before
    assert _documents(services) == []


@sync
async def test_an_output_folder_that_cannot_be_made_is_said_and_the_app_lives(
    principal_app: AppFactory, demo_services: Services
) -> None:
    """The folder is made when the dialog opens: a failure there is one French message."""
    blocker = demo_services.settings.output_dir
    blocker.rmdir()
    blocker.write_text("un fichier, pas un dossier")
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert app.is_running
        assert isinstance(app.screen, ErrorScreen)
        assert "Impossible de créer le dossier" in app.screen.message
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


@sync
async def test_a_document_name_taken_meanwhile_says_what_to_do_in_the_tui(
    principal_app: AppFactory, demo_services: Services
) -> None:
    """The TUI chose the name itself: its message says nothing was notified, and to rerun."""
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, NotifyConfirmScreen)
        pdf, _ = confirm.paths
        pdf.write_text("écrit entre-temps")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        message = app.screen.message
        assert "existe déjà" in message and "Aucun mot de passe n'a été modifié." in message
        assert "un autre nom sera choisi" in message and "choisissez" not in message
    assert pdf.read_text() == "écrit entre-temps"


@sync
async def test_the_confirmation_counts_the_blocked_accounts_it_will_unblock(
    small_app: AppFactory, small_school: SmallSchool
) -> None:
    services = small_school.services
    with services.sessions() as session, session.begin():
        for account_id in small_school.pupils[:2]:
            account = session.get_one(Account, account_id)
            for _ in range(MAX_FAILED_ATTEMPTS):
                Lockout.record_failure(account, services.clock())
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        confirm = await _open_confirm(pilot)
        text = " ".join(_plain(confirm.query_one("#notify-summary", Static), 70).split())
        assert "3 comptes" in text
        assert "dont 2 bloqués, qui seront débloqués." in text
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    with services.sessions() as session:
        accounts = session.scalars(select(Account).where(Account.id.in_(small_school.pupils)))
        assert [a.blocked_until for a in accounts] == [None] * 3


# -- channels and reminders, from the keyboard ------------------------------------------


def _give_addresses(services: Services, guardian_ids: tuple[int, ...]) -> None:
    with services.sessions() as session, session.begin():
        for i, account_id in enumerate(guardian_ids):
            account = session.get_one(Account, account_id)
            assert account.guardian is not None
            account.guardian.email = f"parent{i}@example.org"


def _outbox(services: Services) -> list[OutboxMessage]:
    with services.sessions() as session:
        return list(session.scalars(select(OutboxMessage)))


@sync
async def test_email_channel_chosen_with_the_arrows_queues_the_messages_and_writes_no_pdf(
    small_app: AppFactory, small_school: SmallSchool
) -> None:
    services = small_school.services
    _give_addresses(services, small_school.guardians[:2])
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        confirm = await _open_confirm(pilot, "2")
        summary = confirm.query_one("#notify-summary", Static)
        assert "Papier\u00a0: 3" in _plain(summary, 70)
        await pilot.press("shift+tab")  # from « Notifier » back to the channel choice
        assert app.focused is confirm.query_one("#notify-channel", RadioSet)
        await pilot.press("down", "space")
        await settle(pilot)
        text = _plain(summary, 70)
        assert confirm.channel is NotifyChannel.EMAIL and confirm.total == 2
        assert "Courriel\u00a0: 2, en attente d'envoi" in text
        assert "1 compte sans adresse électronique\u00a0: non notifié." in text
        assert "Aucun document papier." in text
        await pilot.press("tab")
        assert app.focused is confirm.query_one("#notify-go", Button)
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        await app.workers.wait_for_complete()
        await settle(pilot)
        [told] = [n for n in app._notifications if n.title == "Courriels"]
        assert told.severity == "warning"
        assert told.message == (
            "2 messages en attente dans la boîte d'envoi (educonnect-tui outbox send). "
            "Envoi des courriels non configuré\u00a0: réglez EDUCONNECT_SMTP_URL et "
            "EDUCONNECT_MAIL_FROM."
        )
    assert sorted(m.recipient for m in _outbox(services)) == [
        "parent0@example.org",
        "parent1@example.org",
    ]
    assert {m.state for m in _outbox(services)} == {OutboxState.PENDING}
    assert _states(services, set(small_school.guardians[:2])) == Counter({AccountState.NOTIFIED: 2})
    assert _states(services, {small_school.guardians[2]}) == Counter({AccountState.NOT_NOTIFIED: 1})
    assert not [p for p in _documents(services) if p.suffix == ".pdf"]


def _relayed_app(services: Services, inbox: Inbox) -> tuple[Services, EduConnectApp]:
    """The small school's app, its e-mails going through ``inbox``'s server."""
    relayed = Services.from_settings(
        services.settings.model_copy(
            update={
                "smtp_url": SecretStr(f"smtp://127.0.0.1:{inbox.port}"),
                "mail_from": MAIL_FROM,
                "smtp_timeout_seconds": 5,
            }
        ),
        clock=services.clock,
        hash_params=services.hash_params,
    )
    with relayed.sessions() as session:
        login = session.scalars(select(Staff.login)).one()
    session_ = factories.signed_in(relayed, login, factories.DEFAULT_UAI)
    return relayed, create_app(relayed, signed_in=session_)


@sync
async def test_with_a_relay_the_emails_chosen_in_the_tui_are_sent_right_after(
    small_school: SmallSchool, smtp_inbox: Inbox
) -> None:
    services = small_school.services
    _give_addresses(services, small_school.guardians[:2])
    relayed, app = _relayed_app(services, smtp_inbox)
    async with app.run_test(size=(80, 24)) as pilot:
        confirm = await _open_confirm(pilot, "2")
        await pilot.press("shift+tab", "down", "space")
        await settle(pilot)
        assert confirm.channel is NotifyChannel.EMAIL and confirm.total == 2
        await pilot.press("tab", "enter")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        [told] = [n for n in app._notifications if n.title == "Courriels"]
        assert told.message == "Envoi des courriels\u00a0: 2 envoyés, 0 en échec, 0 en attente."
        assert told.severity == "information"
        shown = "\n".join(n.message for n in app._notifications)
    relayed.engine.dispose()
    assert sorted(str(m["To"]) for m in smtp_inbox.received) == [
        "parent0@example.org",
        "parent1@example.org",
    ]
    assert {m.state for m in _outbox(services)} == {OutboxState.SENT}
    for message in smtp_inbox.received:
        body = message.get_body(("plain",))
        assert body is not None
        password = body.get_content().split("Mot de passe provisoire\u00a0: ")[1].split()[0]
        assert password not in shown  # the toasts never show a password
    with services.sessions() as session:
        actions = list(session.scalars(select(AuditEvent.action)))
    assert "outbox_send" in actions


@sync
async def test_a_relay_down_leaves_the_emails_waiting_and_the_toast_says_why(
    small_school: SmallSchool,
) -> None:
    services = small_school.services
    _give_addresses(services, small_school.guardians[:2])
    relayed, app = _relayed_app(services, Inbox(port=free_port()))  # nothing listens
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_confirm(pilot, "2")
        await pilot.press("shift+tab", "down", "space")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)  # no error modal: nothing failed
        [told] = [n for n in app._notifications if n.title == "Courriels"]
        lines = told.message.splitlines()
        assert told.severity == "warning"
        assert lines[0] == "Envoi des courriels\u00a0: 0 envoyé, 0 en échec, 2 en attente."
        assert lines[1].startswith("Envoi interrompu\u00a0: serveur SMTP 127.0.0.1:")
        assert "outbox send" in lines[2]
    relayed.engine.dispose()
    assert {m.state for m in _outbox(services)} == {OutboxState.PENDING}


@sync
async def test_a_cancel_too_late_for_the_notification_holds_the_emails_back(
    small_school: SmallSchool, smtp_inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = small_school.services
    _give_addresses(services, small_school.guardians[:2])
    real_notify = notification.notify

    def cancelled_after_the_commit(*args: Any, **kwargs: Any) -> Any:
        result = real_notify(*args, **kwargs)
        kwargs["cancel"].set()  # Échap pressed just after the commit
        return result

    monkeypatch.setattr(notification, "notify", cancelled_after_the_commit)
    relayed, app = _relayed_app(services, smtp_inbox)
    async with app.run_test(size=(80, 24)) as pilot:
        confirm = await _open_confirm(pilot, "2")
        await pilot.press("shift+tab", "down", "space")
        await settle(pilot)
        assert confirm.channel is NotifyChannel.EMAIL
        await pilot.press("tab", "enter")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        [told] = [n for n in app._notifications if n.title == "Courriels"]
        assert told.message == (
            "2 messages en attente dans la boîte d'envoi (educonnect-tui outbox send)."
        )
        assert any("Annulation trop tard" in n.message for n in app._notifications)
    relayed.engine.dispose()
    assert not smtp_inbox.received
    assert {m.state for m in _outbox(services)} == {OutboxState.PENDING}


@sync
async def test_unticking_the_reset_sends_a_reminder_that_changes_no_password(
    small_app: AppFactory, small_school: SmallSchool
) -> None:
    services = small_school.services
    for account_id in small_school.pupils:
        factories.simulate_notification(services, account_id, "abcd2345ef")
    with services.sessions() as session:
        before = [
            (a.temp_password_hash, a.state, a.version, a.notified_at)
            for a in session.scalars(select(Account).order_by(Account.id))
        ]
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        confirm = await _open_confirm(pilot)
        await pilot.press("shift+tab", "shift+tab")
        assert app.focused is confirm.query_one("#notify-reset", Checkbox)
        await pilot.press("space")
        await settle(pilot)
        assert confirm.reset is False and confirm.total == 3
        assert "aucun mot de passe ne sera modifié" in _plain(
            confirm.query_one("#notify-summary", Static), 70
        )
        go = confirm.query_one("#notify-go", Button)
        assert str(go.label) == "Rappeler"
        await pilot.press("tab", "tab")
        assert app.focused is go
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    with services.sessions() as session:
        after = [
            (a.temp_password_hash, a.state, a.version, a.notified_at)
            for a in session.scalars(select(Account).order_by(Account.id))
        ]
        actions = list(session.scalars(select(AuditEvent.action)))
    assert after == before
    assert "notify_reminder" in actions and "notify" not in actions
    [pdf] = [p for p in _documents(services) if p.suffix == ".pdf"]
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "abcd2345ef" not in text and "Mot de passe oublié" in text


# -- activated accounts: their number typed in, as --activated N on the command line -----


def _activate(services: Services, account_ids: tuple[int, ...]) -> None:
    with services.sessions() as session, session.begin():
        session.execute(
            update(Account)
            .where(Account.id.in_(account_ids))
            .values(state=AccountState.ACTIVATED, activated_at=services.clock())
        )


def _prompt(confirm: NotifyConfirmScreen) -> str | None:
    """The number asked for, as said beside its field; None when none is asked."""
    prompt = confirm.query_one("#notify-typed-prompt", Label)
    return str(prompt.render()) if prompt.display else None


def _only_activated(*tab: str) -> tuple[str, ...]:
    """The keys that show only the « ✓ activé » accounts (of the tab typed first)."""
    return (*tab, "e", "down", "down", "space", "escape")


@sync
async def test_activated_accounts_are_renotified_only_once_their_number_is_typed(
    small_app: AppFactory, small_school: SmallSchool
) -> None:
    services = small_school.services
    _activate(services, small_school.pupils[:2])
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        confirm = await _open_confirm(pilot, *_only_activated())
        text = _flat(confirm.query_one("#notify-summary", Static))
        assert "⚠ 2 déjà activés\u00a0: ils devront être réactivés." in text
        assert _prompt(confirm) == "Tapez 2 pour confirmer\u00a0:"
        go = confirm.query_one("#notify-go", Button)
        typed = confirm.query_one("#notify-typed", Input)
        assert go.disabled and app.focused is typed and typed.display
        await pilot.press("enter")  # nothing typed: nothing done
        await settle(pilot)
        assert confirm.is_current and go.disabled
        await pilot.press("3", "enter")  # not the number
        await settle(pilot)
        assert confirm.is_current and go.disabled
        await pilot.press("backspace", "2")
        assert not go.disabled
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    assert _states(services, set(small_school.pupils[:2])) == Counter({AccountState.NOTIFIED: 2})


@sync
async def test_an_activated_account_from_its_detail_needs_its_number_typed(
    small_app: AppFactory, small_school: SmallSchool
) -> None:
    services = small_school.services
    _activate(services, (small_school.pupils[1],))
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        await pilot.press("n")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, NotifyConfirmScreen)
        assert _prompt(confirm) == "Tapez 1 pour confirmer\u00a0:"
        await pilot.press("enter")
        await settle(pilot)
        assert confirm.is_current
        await pilot.press("1", "enter")
        await settle(pilot)
        await settle(pilot)
        assert detail.is_current
    assert _states(services, {small_school.pupils[1]}) == Counter({AccountState.NOTIFIED: 1})


@sync
async def test_the_typed_number_must_be_the_count_of_the_current_choice(
    small_app: AppFactory, small_school: SmallSchool
) -> None:
    """A recount (channel, reset) judges what was typed against the new count; a
    reminder replaces no password and asks for no number."""
    services = small_school.services
    _activate(services, small_school.guardians[:2])
    _give_addresses(services, small_school.guardians[:1])
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        confirm = await _open_confirm(pilot, *_only_activated("2"))
        go = confirm.query_one("#notify-go", Button)
        typed = confirm.query_one("#notify-typed", Input)
        await pilot.press("2")
        assert not go.disabled
        # E-mail: one activated account has an address, one number to type.
        confirm.query_one("#notify-channel", RadioSet).focus()
        await pilot.press("down", "space")
        await settle(pilot)
        assert confirm.channel is NotifyChannel.EMAIL and confirm.total == 1
        assert _prompt(confirm) == "Tapez 1 pour confirmer\u00a0:"
        assert go.disabled
        await pilot.press("enter")
        await settle(pilot)
        assert confirm.is_current
        # A reminder: nothing to type.
        confirm.query_one("#notify-reset", Checkbox).focus()
        await pilot.press("space")
        await settle(pilot)
        assert confirm.reset is False and not go.disabled and not typed.display
        assert _prompt(confirm) is None
        # Ticked again: the number is asked again, and 2 is still not 1.
        await pilot.press("space")
        await settle(pilot)
        assert confirm.reset is True and go.disabled and typed.display
        typed.focus()
        await pilot.press("backspace", "1")
        assert not go.disabled
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    assert _states(services, {small_school.guardians[0]}) == Counter({AccountState.NOTIFIED: 1})
    assert _states(services, {small_school.guardians[1]}) == Counter({AccountState.ACTIVATED: 1})


@sync
async def test_a_number_typed_before_the_count_is_shown_confirms_nothing(
    small_app: AppFactory, small_school: SmallSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = small_school.services
    _activate(services, small_school.pupils[:2])
    gate = threading.Event()
    real_count = notification.preview

    def slow_count(*args: Any, **kwargs: Any) -> Any:
        gate.wait(10)
        return real_count(*args, **kwargs)

    monkeypatch.setattr(notification, "preview", slow_count)
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*_only_activated())
        await settle(pilot)
        await pilot.press("n", "2", "enter")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, NotifyConfirmScreen) and confirm.total is None
        gate.set()
        await settle(pilot)
        assert confirm.total == 2 and confirm.is_current
        assert confirm.query_one("#notify-typed", Input).value == ""
        assert confirm.query_one("#notify-go", Button).disabled
        await pilot.press("escape")
        await settle(pilot)
    assert _states(services, set(small_school.pupils[:2])) == Counter({AccountState.ACTIVATED: 2})


@sync
async def test_enter_on_the_channel_or_the_reset_box_notifies_without_toggling_it(
    small_app: AppFactory, small_school: SmallSchool
) -> None:
    services = small_school.services
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        confirm = await _open_confirm(pilot)
        await pilot.press("shift+tab")
        assert app.focused is confirm.query_one("#notify-channel", RadioSet)
        await pilot.press("down", "enter")  # the highlight moves; only space chooses
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        confirm = await _open_confirm(pilot)
        confirm.query_one("#notify-reset", Checkbox).focus()
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    with services.sessions() as session:
        actions = list(session.scalars(select(AuditEvent.action)))
    assert actions.count("notify") == 2 and "notify_reminder" not in actions
    pdfs = [p for p in _documents(services) if p.suffix == ".pdf"]
    assert len(pdfs) == 2  # on paper both times: the channel stayed « Courrier papier »


@sync
async def test_with_a_relay_the_confirmation_says_the_emails_go_right_after(
    small_school: SmallSchool, smtp_inbox: Inbox
) -> None:
    services = small_school.services
    _give_addresses(services, small_school.guardians[:2])
    relayed, app = _relayed_app(services, smtp_inbox)
    async with app.run_test(size=(80, 24)) as pilot:
        confirm = await _open_confirm(pilot, "2")
        await pilot.press("shift+tab", "down", "space")
        await settle(pilot)
        text = _flat(confirm.query_one("#notify-summary", Static))
        assert "Courriel\u00a0: 2, envoyés juste après la notification." in text
        assert "outbox send" not in text and "en attente" not in text
        await pilot.press("escape")
        await settle(pilot)
    relayed.engine.dispose()


@sync
async def test_nothing_to_notify_on_the_email_channel_says_why_in_sentences(
    small_app: AppFactory, small_school: SmallSchool
) -> None:
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        confirm = await _open_confirm(pilot, "2")
        await pilot.press("shift+tab", "down", "space")
        await settle(pilot)
        text = _flat(confirm.query_one("#notify-summary", Static))
        assert confirm.total == 0
        assert text == (
            "Aucun compte à notifier parmi les comptes affichés. 3 comptes n'ont pas "
            "d'adresse électronique\u00a0: choisissez « Courrier papier » ou « Automatique » "
            "pour leur écrire sur papier."
        )


@sync
async def test_a_reminder_by_email_says_who_gets_no_reminder(
    small_app: AppFactory, small_school: SmallSchool
) -> None:
    services = small_school.services
    _give_addresses(services, small_school.guardians[:2])
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        confirm = await _open_confirm(pilot, "2")
        await pilot.press("shift+tab", "down", "space", "shift+tab", "space")
        await settle(pilot)
        assert confirm.reset is False and confirm.channel is NotifyChannel.EMAIL
        text = _flat(confirm.query_one("#notify-summary", Static))
        assert "1 compte sans adresse électronique\u00a0: sans rappel." in text
        assert "électronique\u00a0: non notifié" not in text  # the state's name, not this
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        shown = "\n".join(n.message for n in app._notifications)
    assert "1 compte sans rappel, sans adresse électronique enregistrée" in shown
    assert "compte non notifié" not in shown
