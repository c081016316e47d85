"""(Re)notification: credentials and documents succeed or fail together."""

from __future__ import annotations

import csv
import datetime as dt
import errno
import io
import os
import re
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from educonnect_tui.domain.access import attempts
from educonnect_tui.domain.access.passwords import verify_password
from educonnect_tui.domain.accounts import helpdesk, notification
from educonnect_tui.domain.accounts.issuing import add_months
from educonnect_tui.domain.accounts.notification import NotifyRequest
from educonnect_tui.domain.accounts.selection import Selection
from educonnect_tui.domain.documents import files
from educonnect_tui.domain.model.enums import AccountKind, AccountState, ActivationMethod
from educonnect_tui.domain.model.errors import (
    Cancelled,
    ConcurrentModification,
    DocumentError,
    InvalidInput,
)
from educonnect_tui.domain.model.states import Event, Lockout, transition
from educonnect_tui.domain.model.tables import Account, AuditEvent
from educonnect_tui.domain.store import audit
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.helpers import RunCli

ACTOR = Actor(label="Mme la principale", source_address="10.0.0.5")
UAI = factories.DEFAULT_UAI


def _school(services: Services, sizes: dict[str, int]) -> dict[str, list[int]]:
    """Pupils in classes of the given sizes, each with one guardian; ids per class."""
    ids: dict[str, list[int]] = {}
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        for division, size in sizes.items():
            for i in range(size):
                pupil = factories.pupil(
                    session, school, first_name=f"Élève{i}", last_name="Lefèvre", division=division
                )
                factories.guardian(session, [pupil], first_name=f"Parent{i}", last_name="Lefèvre")
                ids.setdefault(division, []).append(pupil.id)
    return ids


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig")), delimiter=";"))


def _states(services: Services, ids: list[int]) -> set[AccountState]:
    with services.sessions() as session:
        return set(session.scalars(select(Account.state).where(Account.id.in_(ids))))


def _audit_count(services: Services) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_notify_pupils_of_classes_writes_slips_and_changes_states(
    services: Services, tmp_path: Path
) -> None:
    ids = _school(services, {"3E1": 9, "3E2": 3, "6E1": 4})
    pdf, csv_path = tmp_path / "docs" / "fiches.pdf", tmp_path / "docs" / "fiches.csv"
    pdf.parent.mkdir()
    phases: list[str] = []
    result = notification.notify(
        services,
        factories.operator(services, UAI, ACTOR),
        NotifyRequest(
            AccountKind.PUPIL, Selection(divisions=("3E1", "3E2")), pdf_path=pdf, csv_path=csv_path
        ),
        progress=lambda phase, done, total: phases.append(phase),
    )
    assert result.count == 12
    assert result.by_division == {"3E1": 9, "3E2": 3}
    assert result.files == (pdf, csv_path)
    assert {"hachage", "documents"} <= set(phases)
    for path in (pdf, csv_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Class list + 2 slip pages for 3E1, class list + 1 slip page for 3E2.
    assert len(PdfReader(pdf).pages) == 5
    assert _states(services, ids["3E1"] + ids["3E2"]) == {AccountState.NOTIFIED}
    assert _states(services, ids["6E1"]) == {AccountState.NOT_NOTIFIED}

    rows = _csv_rows(csv_path)
    assert len(rows) == 12
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    with services.sessions() as session:
        for row in rows:
            login = row["Identifiant"]
            password = row["Mot de passe provisoire"]
            account = session.scalar(select(Account).where(Account.login == login))
            assert account is not None
            assert verify_password(account.temp_password_hash, password)
            assert account.notification_count == 1
            assert account.temp_expires_at == services.clock() + dt.timedelta(days=90)
            assert login in text and password in text
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "notify"))
        assert event is not None and event.details["count"] == 12
        # The documents holding the passwords are named in the trail.
        assert event.details["paths"] == [str(pdf), str(csv_path)]
        assert event.actor_label == ACTOR.label and event.source_address == "10.0.0.5"


def test_renotifying_invalidates_the_previous_password(services: Services, tmp_path: Path) -> None:
    _school(services, {"5E1": 2})
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for path in (first, second):
        notification.notify(
            services,
            factories.operator(services, UAI, ACTOR),
            NotifyRequest(
                AccountKind.PUPIL, Selection(), pdf_path=path.with_suffix(".pdf"), csv_path=path
            ),
        )
    old = {r["Identifiant"]: r["Mot de passe provisoire"] for r in _csv_rows(first)}
    new = {r["Identifiant"]: r["Mot de passe provisoire"] for r in _csv_rows(second)}
    with services.sessions() as session:
        for login, password in old.items():
            account = session.scalar(select(Account).where(Account.login == login))
            assert account is not None and account.notification_count == 2
            assert not verify_password(account.temp_password_hash, password)
            assert verify_password(account.temp_password_hash, new[login])


def test_default_selection_is_red_and_yellow_and_never_deactivated(
    services: Services, tmp_path: Path
) -> None:
    ids = _school(services, {"4E1": 3})
    activated, left, untouched = ids["4E1"]
    with services.sessions() as session, session.begin():
        a = session.get_one(Account, activated)
        a.state = transition(a.kind, a.state, Event.NOTIFY)
        a.state = transition(
            a.kind, a.state, Event.ACTIVATE, ActivationMethod.TEMPORARY_CREDENTIALS
        )
        d = session.get_one(Account, left)
        d.state = transition(d.kind, d.state, Event.DEACTIVATE)
    result = notification.notify(
        services,
        factories.operator(services, UAI, ACTOR),
        NotifyRequest(AccountKind.PUPIL, Selection(), pdf_path=tmp_path / "x.pdf"),
    )
    assert result.count == 1
    assert _states(services, [untouched]) == {AccountState.NOTIFIED}
    assert _states(services, [activated]) == {AccountState.ACTIVATED}
    # Asking for désactivé explicitly still notifies nobody.
    with pytest.raises(InvalidInput, match="désactivé ne peut pas"):
        notification.notify(
            services,
            factories.operator(services, UAI, ACTOR),
            NotifyRequest(
                AccountKind.PUPIL,
                Selection(states=(AccountState.DEACTIVATED,)),
                pdf_path=tmp_path / "y.pdf",
            ),
        )


def test_guardian_letters_valid_three_months(services: Services, tmp_path: Path) -> None:
    _school(services, {"6E2": 3, "6E3": 2})
    pdf = tmp_path / "lettres.pdf"
    result = notification.notify(
        services,
        factories.operator(services, UAI, ACTOR),
        NotifyRequest(AccountKind.GUARDIAN, Selection(divisions=("6E2",)), pdf_path=pdf),
    )
    assert result.count == 3
    # The class's distribution list (their children's class), then its three letters.
    pages = PdfReader(pdf).pages
    assert len(pages) == 1 + 3
    assert "Classe 6E2" in pages[0].extract_text() and "Remise" in pages[0].extract_text()
    with services.sessions() as session:
        expiries = set(
            session.scalars(
                select(Account.temp_expires_at).where(Account.state == AccountState.NOTIFIED)
            )
        )
    assert expiries == {dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)}


def _nothing_changed(services: Services, ids: list[int], folder: Path, audits: int) -> None:
    assert _states(services, ids) == {AccountState.NOT_NOTIFIED}
    assert _audit_count(services) == audits
    assert not folder.exists() or list(folder.iterdir()) == []


def test_unwritable_document_changes_no_password(services: Services, tmp_path: Path) -> None:
    ids = _school(services, {"3E3": 4})["3E3"]
    docs = tmp_path / "docs"
    docs.mkdir()
    blocker = docs / "out"
    blocker.write_text("a file where a folder is needed")
    with pytest.raises(InvalidInput, match="n'est pas un dossier"):
        notification.notify(
            services,
            factories.operator(services, UAI, ACTOR),
            NotifyRequest(
                AccountKind.PUPIL,
                Selection(),
                pdf_path=tmp_path / "ok.pdf",
                csv_path=blocker / "x.csv",
            ),
        )
    _nothing_changed(services, ids, tmp_path / "none", 0)
    assert [p.name for p in docs.iterdir()] == ["out"]


def test_failure_in_the_transaction_publishes_no_document(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _school(services, {"3E3": 4})["3E3"]

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", broken)
    folder = tmp_path / "docs"
    folder.mkdir()
    with pytest.raises(RuntimeError):
        notification.notify(
            services,
            factories.operator(services, UAI, ACTOR),
            NotifyRequest(AccountKind.PUPIL, Selection(), pdf_path=folder / "f.pdf"),
        )
    _nothing_changed(services, ids, folder, 0)


def test_cancel_leaves_nothing_half_done(services: Services, tmp_path: Path) -> None:
    ids = _school(services, {"5E2": 20})["5E2"]
    cancel = threading.Event()

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "hachage" and done >= 1:
            cancel.set()

    folder = tmp_path / "docs"
    folder.mkdir()
    with pytest.raises(Cancelled):
        notification.notify(
            services,
            factories.operator(services, UAI, ACTOR),
            NotifyRequest(AccountKind.PUPIL, Selection(), pdf_path=folder / "f.pdf"),
            progress=progress,
            cancel=cancel,
        )
    _nothing_changed(services, ids, folder, 0)


def test_a_reset_meanwhile_leaves_that_account_out_and_notifies_the_others(
    services: Services, tmp_path: Path
) -> None:
    """A helpdesk reset committed between the notification's read and its transaction."""
    ids = _school(services, {"4E2": 10})["4E2"]
    operator = factories.operator(services, UAI, ACTOR)
    reset: list[helpdesk.ResetResult] = []

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "hachage" and not reset:
            reset.append(helpdesk.reset_password(services, operator, ids[0]))

    folder = tmp_path / "docs"
    folder.mkdir()
    pdf, csv_path = folder / "f.pdf", folder / "f.csv"
    result = notification.notify(
        services,
        operator,
        NotifyRequest(AccountKind.PUPIL, Selection(), pdf_path=pdf, csv_path=csv_path),
        progress=progress,
    )
    (done,) = reset
    assert result.count == 9 and result.by_division == {"4E2": 9}
    assert result.left_out == (done.login,)
    assert any(done.login in line and "laissé" in line for line in result.lines())
    # The documents hold the nine others, never the reset account.
    rows = _csv_rows(csv_path)
    assert len(rows) == 9 and done.login not in {r["Identifiant"] for r in rows}
    text = "\n".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert not re.search(rf"{re.escape(done.login)}\b", text) and "Élève0" not in text
    assert "Élève1" in text
    with services.sessions() as session:
        account = session.get_one(Account, ids[0])
        assert verify_password(account.temp_password_hash, done.temp_password)
        for row in rows:
            other = session.scalar(select(Account).where(Account.login == row["Identifiant"]))
            assert other is not None
            assert verify_password(other.temp_password_hash, row["Mot de passe provisoire"])
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "notify"))
        assert event is not None and event.details["count"] == 9
    assert sorted(p.name for p in folder.iterdir()) == ["f.csv", "f.pdf"]


def test_every_account_changed_meanwhile_notifies_nobody(
    services: Services, tmp_path: Path
) -> None:
    ids = _school(services, {"4E2": 3})["4E2"]
    touched = False

    def progress(phase: str, done: int, total: int) -> None:
        nonlocal touched
        if not touched:
            touched = True
            with services.sessions() as session, session.begin():
                for account_id in ids:
                    session.get_one(Account, account_id).failed_attempts = 1

    folder = tmp_path / "docs"
    folder.mkdir()
    with pytest.raises(ConcurrentModification, match="modifiés"):
        notification.notify(
            services,
            factories.operator(services, UAI, ACTOR),
            NotifyRequest(AccountKind.PUPIL, Selection(), pdf_path=folder / "f.pdf"),
            progress=progress,
        )
    _nothing_changed(services, ids, folder, 0)


def test_add_months_clamps_to_month_end() -> None:
    day = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    assert add_months(day, 3) == dt.datetime(2027, 2, 28, tzinfo=dt.UTC)
    assert add_months(day, 14) == dt.datetime(2028, 1, 30, tzinfo=dt.UTC)


def test_a_document_failing_to_publish_removes_the_ones_already_published(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills between the PDF's publication and the CSV's: neither remains."""
    ids = _school(services, {"3E3": 4})["3E3"]
    real_link = files.os.link
    calls: list[str] = []

    def link(source: str, target: str) -> None:
        if Path(target).parent == folder:
            calls.append(target)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_link(source, target)

    folder = tmp_path / "docs"
    folder.mkdir()
    monkeypatch.setattr(files.os, "link", link)
    with pytest.raises(DocumentError, match=r"disque est plein.*Aucun mot de passe n'a été"):
        notification.notify(
            services,
            factories.operator(services, UAI, ACTOR),
            NotifyRequest(
                AccountKind.PUPIL, Selection(), pdf_path=folder / "f.pdf", csv_path=folder / "f.csv"
            ),
        )
    assert len(calls) == 2
    _nothing_changed(services, ids, folder, 0)


def test_a_failing_commit_removes_the_published_documents(
    services: Services, tmp_path: Path
) -> None:
    ids = _school(services, {"3E3": 4})["3E3"]
    folder = tmp_path / "docs"
    folder.mkdir()
    seen: list[list[str]] = []

    def refuse(session: Session) -> None:
        if (folder / "f.pdf").exists():
            seen.append(sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")))
            raise RuntimeError("the server went away during the commit")

    event.listen(Session, "before_commit", refuse)
    try:
        with pytest.raises(RuntimeError, match="went away"):
            notification.notify(
                services,
                factories.operator(services, UAI, ACTOR),
                NotifyRequest(
                    AccountKind.PUPIL,
                    Selection(),
                    pdf_path=folder / "f.pdf",
                    csv_path=folder / "f.csv",
                ),
            )
    finally:
        event.remove(Session, "before_commit", refuse)
    # Both were published, complete, before the commit was attempted.
    assert seen == [["f.csv", "f.pdf"]]
    _nothing_changed(services, ids, folder, 0)


@pytest.mark.parametrize(
    ("code", "cause"),
    [(errno.EPERM, "opération non permise"), (errno.EROFS, "le disque est en lecture seule")],
)
def test_a_folder_frozen_mid_run_names_the_document_and_says_no_password_changed(
    cli_env: Services,
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    cause: str,
) -> None:
    """The folder becomes immutable (chattr +i) or read-only once the documents are
    staged: nothing can be created, renamed or removed there any more, not even the
    staged files. The one line names the document asked for, never a hidden staged
    file, in whole sentences, and says that the old passwords still work."""
    ids = _school(cli_env, {"3E3": 4})["3E3"]
    folder = tmp_path / "docs"
    folder.mkdir()
    frozen = threading.Event()

    def inside(path: object) -> bool:
        return frozen.is_set() and Path(os.fsdecode(path)).parent == folder  # type: ignore[arg-type]

    def refused(path: object) -> OSError:
        return OSError(code, os.strerror(code), os.fsdecode(path))  # type: ignore[arg-type]

    real_open, real_link, real_rename = files.os.open, files.os.link, files.os.rename
    real_replace, real_unlink = files.os.replace, files.os.unlink

    def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT and inside(path):
            raise refused(path)
        return real_open(path, flags, *args, **kwargs)

    def two(real: Any) -> Any:
        def call(source: Any, target: Any, *args: Any, **kwargs: Any) -> None:
            if inside(source) or inside(target):
                raise refused(source)
            real(source, target, *args, **kwargs)

        return call

    def unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        if inside(path):
            raise refused(path)
        real_unlink(path, *args, **kwargs)

    real_publish = files.Publication.publish

    def publish(self: files.Publication) -> tuple[Path, ...]:
        frozen.set()
        return real_publish(self)

    monkeypatch.setattr(files.Publication, "publish", publish)
    for name, fake in (
        ("open", open_),
        ("link", two(real_link)),
        ("rename", two(real_rename)),
        ("replace", two(real_replace)),
        ("unlink", unlink),
    ):
        monkeypatch.setattr(files.os, name, fake)
    pdf = folder / "g.pdf"
    status, _, err = run_cli(
        [
            "notify",
            "--uai",
            UAI,
            "--kind",
            "pupils",
            "--pdf",
            str(pdf),
            "--csv",
            str(folder / "g.csv"),
        ]
    )
    monkeypatch.undo()
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    assert f"{pdf}\u00a0: {cause}. Aucun mot de passe n'a été modifié." in err
    assert ".g.pdf." not in err  # the staged file is never what the message names
    assert not pdf.exists() and not (folder / "g.csv").exists()
    assert _states(cli_env, ids) == {AccountState.NOT_NOTIFIED}
    assert _audit_count(cli_env) == 0


def test_renotifying_a_blocked_account_unblocks_it_and_the_count_says_so(
    services: Services, tmp_path: Path
) -> None:
    """A (re)notification is a fresh start: the account's and its addresses' blocks go."""
    blocked, other = _school(services, {"5E1": 2})["5E1"]
    now = services.clock()
    source = "192.0.2.7"
    with services.sessions() as session, session.begin():
        account = session.get_one(Account, blocked)
        login = account.login
        for _ in range(5):
            Lockout.record_failure(account, now)
        account.failed_attempts = 2
        gate = attempts.gate(session, attempts.OWNER, login, account, source, now)
        for _ in range(5):
            attempts.record_failure(session, gate, now)
    assert factories.pair_failures(services, "owner", login, source) == 0
    operator = factories.operator(services, UAI, ACTOR)
    request = NotifyRequest(AccountKind.PUPIL, Selection(), pdf_path=tmp_path / "x.pdf")
    preview = notification.preview(services, operator, request)
    assert preview.total == 2 and preview.blocked == 1
    assert preview.by_state == {AccountState.NOT_NOTIFIED: 2}
    notification.notify(services, operator, request)
    with services.sessions() as session:
        account = session.get_one(Account, blocked)
        assert not Lockout.is_blocked(account, now)
        assert (account.failed_attempts, account.block_count) == (0, 0)
        assert account.blocked_until is None
    assert factories.pair_failures(services, "owner", login, source) is None
    assert notification.preview(services, operator, request).blocked == 0
    assert _states(services, [blocked, other]) == {AccountState.NOTIFIED}


def test_a_reset_replaces_no_more_personal_passwords_than_confirmed(
    services: Services, tmp_path: Path
) -> None:
    ids = _school(services, {"4E1": 3})
    with services.sessions() as session, session.begin():
        for account_id in ids["4E1"][:2]:
            account = session.get_one(Account, account_id)
            account.state, account.password_hash = AccountState.ACTIVATED, "$argon2id$personnel"
    every_state = Selection(states=(AccountState.ACTIVATED, AccountState.NOT_NOTIFIED))
    operator = factories.operator(services, UAI, ACTOR)
    before = _audit_count(services)
    for confirmed in (0, 1):
        with pytest.raises(InvalidInput, match=r"2 comptes déjà activés.*confirmez leur nombre"):
            notification.notify(
                services,
                operator,
                NotifyRequest(
                    AccountKind.PUPIL,
                    every_state,
                    pdf_path=tmp_path / f"f{confirmed}.pdf",
                    activated_confirmed=confirmed,
                ),
            )
    assert _states(services, ids["4E1"][:2]) == {AccountState.ACTIVATED}
    assert _audit_count(services) == before
    assert not list(tmp_path.glob("f*.pdf"))
    result = notification.notify(
        services,
        operator,
        NotifyRequest(
            AccountKind.PUPIL, every_state, pdf_path=tmp_path / "f.pdf", activated_confirmed=2
        ),
    )
    assert result.count == 3
    with services.sessions() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "notify"))
    # The trail tells personal passwords replaced from temporary ones re-issued.
    assert event is not None and event.details["activated_replaced"] == 2
    # A reminder replaces nothing: nothing to confirm.
    reminder = NotifyRequest(
        AccountKind.PUPIL,
        Selection(states=(AccountState.NOTIFIED,)),
        pdf_path=tmp_path / "r.pdf",
        reset=False,
    )
    assert notification.notify(services, operator, reminder).count == 3


def test_the_count_says_the_desactive_accounts_it_leaves_out(services: Services) -> None:
    ids = _school(services, {"4E1": 3})
    with services.sessions() as session, session.begin():
        session.get_one(Account, ids["4E1"][0]).state = AccountState.DEACTIVATED
    shown = Selection(states=(AccountState.NOT_NOTIFIED, AccountState.DEACTIVATED))
    planned = notification.preview(
        services, factories.operator(services, UAI, ACTOR), NotifyRequest(AccountKind.PUPIL, shown)
    )
    assert (planned.total, planned.deactivated) == (2, 1)
    line = "1 compte désactivé de la sélection n'est jamais notifié."
    assert "  " + line in notification.planned_lines(planned, AccountKind.PUPIL)
    default = notification.preview(
        services,
        factories.operator(services, UAI, ACTOR),
        NotifyRequest(AccountKind.PUPIL, Selection()),
    )
    assert default.deactivated == 0  # not shown by default, nothing to say
