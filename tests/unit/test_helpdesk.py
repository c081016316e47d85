"""Dépannage in the domain: search, recall, reset, unblock — and who is refused."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from educonnect_tui.domain.access import passwords, permissions
from educonnect_tui.domain.access.network import NetworkMode
from educonnect_tui.domain.access.sign_in import SignedIn
from educonnect_tui.domain.accounts import activation, helpdesk
from educonnect_tui.domain.accounts.helpdesk_search import HelpdeskPage, HelpdeskRow, search
from educonnect_tui.domain.model.enums import (
    AccountKind,
    AccountState,
    Module,
    PupilStatus,
    StaffRole,
)
from educonnect_tui.domain.model.errors import (
    AuthenticationFailed,
    DocumentError,
    IllegalTransition,
    PermissionDenied,
)
from educonnect_tui.domain.model.states import MAX_FAILED_ATTEMPTS, Lockout
from educonnect_tui.domain.model.tables import (
    Account,
    AuditEvent,
    AuditTarget,
    Delegation,
    Division,
    Establishment,
)
from educonnect_tui.domain.store import audit
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.helpers import killed_run

UAI = factories.DEFAULT_UAI
BIRTH = dt.date(2012, 5, 14)


@dataclass(frozen=True)
class School:
    noe: int  # Noé Lefèvre, 3E2
    lea: int  # Léa Martin, 3E2
    hugo: int  # Hugo Martin, 5E1
    guardian: int  # Marie Lefèvre, Noé's mother
    noe_login: str


def _delegate(services: Services, agent_id: int, classes: tuple[str, ...]) -> None:
    principal = factories.staff_member(services, first_name="Paul", last_name="Chef")
    with services.sessions() as session, session.begin():
        school = session.scalars(select(Establishment).where(Establishment.uai == UAI)).one()
        session.add(
            Delegation(
                establishment_id=school.id,
                agent_id=agent_id,
                module=Module.DEPANNAGE,
                valid_from=dt.date(2026, 9, 1),
                valid_until=dt.date(2027, 7, 4),
                granted_by_id=principal.id,
                granted_at=services.clock(),
                divisions=list(session.scalars(select(Division).where(Division.name.in_(classes)))),
            )
        )


@pytest.fixture
def school(services: Services) -> School:
    with services.sessions() as session, session.begin():
        establishment = factories.school(session)
        noe = factories.pupil(
            session, establishment, first_name="Noé", last_name="Lefèvre", division="3E2"
        )
        lea = factories.pupil(
            session, establishment, first_name="Léa", last_name="Martin", division="3E2"
        )
        hugo = factories.pupil(
            session, establishment, first_name="Hugo", last_name="Martin", division="5E1"
        )
        mother = factories.guardian(session, [noe], first_name="Marie", last_name="Lefèvre")
        ids = School(noe.id, lea.id, hugo.id, mother.id, noe.login)
    for agent, classes in (("Nguyen", ()), ("Morel", ("3E2",))):
        member = factories.staff_member(
            services, first_name="Thomas", last_name=agent, role=StaffRole.AGENT, title="prof"
        )
        _delegate(services, member.id, classes)
    factories.staff_member(services, first_name="Hélène", last_name="Martin")
    return ids


def _session(services: Services, login: str, module: Module = Module.DEPANNAGE) -> SignedIn:
    mode = NetworkMode.OTP if module is Module.DEPANNAGE else NetworkMode.ADMIN
    return factories.signed_in(services, login, UAI, mode=mode, module=module)


def _names(page: HelpdeskPage) -> set[str]:
    return {row.name for row in page.rows}


def test_search_by_name_first_name_login_and_class_ignoring_accents(
    services: Services, school: School
) -> None:
    agent = _session(services, "t.nguyen")
    assert _names(search(services, agent, "lefevre")) == {"Noé Lefèvre"}
    assert _names(search(services, agent, "  LÉFÈVRE noe ")) == {"Noé Lefèvre"}
    assert _names(search(services, agent, "noé")) == {"Noé Lefèvre"}
    assert _names(search(services, agent, school.noe_login)) == {"Noé Lefèvre"}
    assert _names(search(services, agent, "3e2")) == {"Noé Lefèvre", "Léa Martin"}
    assert _names(search(services, agent, "3E2 martin")) == {"Léa Martin"}
    assert _names(search(services, agent, "martin")) == {"Léa Martin", "Hugo Martin"}
    assert search(services, agent, "  ").rows == []
    assert len(search(services, agent, "martin", limit=1).rows) == 1
    row = search(services, agent, "hugo").rows[0]
    assert (row.kind, row.state, row.division, row.blocked) == (
        AccountKind.PUPIL,
        AccountState.NOT_NOTIFIED,
        "5E1",
        False,
    )


def test_guardians_only_from_the_administration_module(services: Services, school: School) -> None:
    agent = _session(services, "t.nguyen")
    assert _names(search(services, agent, "lefevre")) == {"Noé Lefèvre"}
    principal = _session(services, "h.martin", Module.ADMINISTRATION)
    page = search(services, principal, "lefevre")
    assert _names(page) == {"Noé Lefèvre", "Mme Marie Lefèvre"}
    guardian = next(r for r in page.rows if r.kind is AccountKind.GUARDIAN)
    assert guardian.division == "3E2"
    # A guardian is found by their child's class too.
    assert "Mme Marie Lefèvre" in _names(search(services, principal, "3e2 marie"))


def test_a_guardian_is_found_by_the_classes_of_children_enrolled_here_only(
    services: Services, school: School
) -> None:
    with services.sessions() as session, session.begin():
        establishment = session.scalars(select(Establishment).where(Establishment.uai == UAI)).one()
        enrolled = factories.pupil(
            session, establishment, first_name="Tom", last_name="Roux", division="5E1"
        )
        left = factories.pupil(
            session,
            establishment,
            first_name="Zoé",
            last_name="Roux",
            division="4E1",
            status=PupilStatus.LEFT,
        )
        factories.guardian(session, [enrolled, left], first_name="Anne", last_name="Roux")
    principal = _session(services, "h.martin", Module.ADMINISTRATION)
    guardian = next(
        r for r in search(services, principal, "anne").rows if r.kind is AccountKind.GUARDIAN
    )
    assert guardian.division == "5E1"
    assert "Mme Anne Roux" in _names(search(services, principal, "5e1 roux"))
    assert "Mme Anne Roux" not in _names(search(services, principal, "4e1 roux"))


def test_depannage_agent_is_refused_a_guardian_and_notifying(
    services: Services, school: School
) -> None:
    agent = _session(services, "t.nguyen")
    with pytest.raises(PermissionDenied):
        helpdesk.reset_password(services, agent, school.guardian)
    with pytest.raises(PermissionDenied):
        helpdesk.recall_login(services, agent, school.guardian)
    with pytest.raises(PermissionDenied):
        helpdesk.unblock(services, agent, school.guardian)
    with pytest.raises(PermissionDenied):
        permissions.require(services, agent, permissions.Action.NOTIFY, kind=AccountKind.PUPIL)
    assert factories.account(services, school.guardian).temp_password_hash is None


def test_agent_limited_to_a_class_is_refused_other_pupils(
    services: Services, school: School
) -> None:
    agent = _session(services, "t.morel")
    assert _names(search(services, agent, "martin")) == {"Léa Martin"}
    with pytest.raises(PermissionDenied, match="hors des classes"):
        helpdesk.reset_password(services, agent, school.hugo)
    assert helpdesk.recall_login(services, agent, school.lea).startswith("l.martin")


def test_recall_login_is_audited(services: Services, school: School) -> None:
    agent = _session(services, "t.nguyen")
    assert helpdesk.recall_login(services, agent, school.noe) == school.noe_login
    with services.sessions() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None and event.action == "recall_login"


def test_reset_gives_a_new_password_once_and_the_old_ones_stop(
    services: Services, school: School
) -> None:
    factories.simulate_notification(services, school.noe, "ancienpass")
    new_password = "Nouveau-Mot2passe"
    activation.activate_pupil(services, school.noe_login, "ancienpass", BIRTH, new_password)
    assert factories.account(services, school.noe).state is AccountState.ACTIVATED

    result = helpdesk.reset_password(services, _session(services, "t.nguyen"), school.noe)

    account = factories.account(services, school.noe)
    assert account.state is AccountState.NOTIFIED
    assert account.password_hash is None and account.activated_at is None
    assert passwords.verify_password(account.temp_password_hash, result.temp_password)
    assert not passwords.verify_password(account.temp_password_hash, "ancienpass")
    assert set(result.temp_password) <= set(passwords.TEMP_PASSWORD_ALPHABET)
    assert result.expires_at == services.clock() + dt.timedelta(days=90)
    assert account.temp_expires_at == result.expires_at
    assert result.temp_password not in repr(result)
    with pytest.raises(AuthenticationFailed):
        activation.sign_in(services, school.noe_login, new_password)
    with services.sessions() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None and event.action == "reset_password"
        assert result.temp_password not in str(event.details)
    # The owner activates again with the new password.
    activation.activate_pupil(
        services, school.noe_login, result.temp_password, BIRTH, "Encore-Un2Autre"
    )


def test_reset_writes_a_private_slip_with_the_login(
    services: Services, school: School, tmp_path: Path
) -> None:
    slip = tmp_path / "depannage" / "fiche.pdf"
    slip.parent.mkdir()
    result = helpdesk.reset_password(
        services, _session(services, "t.nguyen"), school.noe, slip_path=slip
    )
    assert result.slip == slip
    assert slip.stat().st_mode & 0o777 == 0o600
    pages = PdfReader(slip).pages
    assert len(pages) == 1  # the slip alone, no one-pupil class list
    text = pages[0].extract_text()
    assert school.noe_login in text and result.temp_password in text
    with services.sessions() as session:
        event = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "reset_password")
            .order_by(AuditEvent.id.desc())
        ).first()
    assert event is not None and event.details["path"] == str(slip)


def test_slip_after_the_fact_only_while_the_password_still_works(
    services: Services, school: School, tmp_path: Path
) -> None:
    agent = _session(services, "t.nguyen")
    first = helpdesk.reset_password(services, agent, school.noe)
    left = killed_run(services, tmp_path)
    written = helpdesk.write_slip(services, agent, first, tmp_path / "a.pdf")
    assert written.path.stat().st_mode & 0o777 == 0o600
    # A killed run's document in that folder is removed, and the slip's message says so.
    assert written.swept == (left,) and not left.exists()
    helpdesk.reset_password(services, agent, school.noe)
    with pytest.raises(Exception, match="remplacé"):
        helpdesk.write_slip(services, agent, first, tmp_path / "b.pdf")
    assert not (tmp_path / "b.pdf").exists()


def test_a_slip_printed_after_the_reset_is_audited(
    services: Services, school: School, tmp_path: Path
) -> None:
    """A document holding a valid password is handed out: the trail says when and by whom."""
    agent = _session(services, "t.nguyen")
    result = helpdesk.reset_password(services, agent, school.noe)
    helpdesk.write_slip(services, agent, result, tmp_path / "a.pdf")
    with services.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action != "export").order_by(AuditEvent.id.desc())
        ).first()
        assert event is not None and event.action == "slip_written"
        targets = session.scalars(
            select(AuditTarget.account_id).where(AuditTarget.event_id == event.id)
        ).all()
    assert targets == [school.noe] and "(t.nguyen)" in event.actor_label
    assert event.details["path"] == str(tmp_path / "a.pdf")
    assert len(PdfReader(tmp_path / "a.pdf").pages) == 1
    assert result.temp_password not in str(event.details)
    assert audit.action_label("slip_written") != "slip written"


def test_unblock_lifts_a_block_and_refuses_when_not_blocked(
    services: Services, school: School
) -> None:
    now = services.clock()
    with services.sessions() as session, session.begin():
        account = session.get_one(Account, school.lea)
        for _ in range(MAX_FAILED_ATTEMPTS):
            Lockout.record_failure(account, now)
    agent = _session(services, "t.morel")
    row = search(services, agent, "lea").rows[0]
    assert row.blocked and row.blocked_until is not None and row.blocked_until > now

    assert helpdesk.unblock(services, agent, school.lea) == row.blocked_until
    account = factories.account(services, school.lea)
    assert account.blocked_until is None and account.failed_attempts == 0
    with pytest.raises(IllegalTransition, match="pas bloqué"):
        helpdesk.unblock(services, agent, school.lea)


def test_a_deactivated_account_is_not_reset(services: Services, school: School) -> None:
    from educonnect_tui.domain.model.states import Event, transition

    with services.sessions() as session, session.begin():
        account = session.get_one(Account, school.hugo)
        account.state = transition(account.kind, account.state, Event.DEACTIVATE)
    principal = _session(services, "h.martin", Module.ADMINISTRATION)
    with pytest.raises(IllegalTransition):
        helpdesk.reset_password(services, principal, school.hugo)


def test_results_come_in_the_french_order_of_names(services: Services, school: School) -> None:
    with services.sessions() as session, session.begin():
        establishment = session.scalars(select(Establishment).where(Establishment.uai == UAI)).one()
        for last, first in (("Martin-Dupont", "Anne"), ("Émilie", "Ana"), ("Eric", "Ana"),
                            ("Aït Ahmed", "Ana"), ("Arnaud", "Ana")):  # fmt: skip
            factories.pupil(session, establishment, first_name=first, last_name=last,
                            division="3E2")  # fmt: skip
    agent = _session(services, "t.nguyen")
    assert [row.name for row in search(services, agent, "3e2").rows] == [
        "Ana Aït Ahmed",
        "Ana Arnaud",
        "Ana Émilie",
        "Ana Eric",
        "Noé Lefèvre",
        "Léa Martin",
        "Anne Martin-Dupont",
    ]


def test_search_finds_names_in_arabic_chinese_and_cyrillic(
    services: Services, school: School
) -> None:
    with services.sessions() as session, session.begin():
        establishment = session.scalars(select(Establishment).where(Establishment.uai == UAI)).one()
        for last, first in (("بن علي", "مُحَمَّد"), ("王", "小明"), ("Иванова", "Мария")):
            factories.pupil(
                session, establishment, first_name=first, last_name=last, division="3E2"
            )
    agent = _session(services, "t.nguyen")
    assert _names(search(services, agent, "محمد")) == {"مُحَمَّد بن علي"}
    assert _names(search(services, agent, "小明")) == {"小明 王"}
    assert _names(search(services, agent, "иванова")) == {"Мария Иванова"}


def test_a_reset_whose_slip_would_print_a_name_with_a_hole_changes_nothing(
    services: Services, school: School, tmp_path: Path
) -> None:
    with services.sessions() as session, session.begin():
        establishment = session.scalars(select(Establishment).where(Establishment.uai == UAI)).one()
        odd = factories.pupil(session, establishment, first_name="Jea\ue000ne", division="3E2")
        odd_id, before = odd.id, odd.temp_password_hash
    agent = _session(services, "t.nguyen")
    slip = tmp_path / "fiche.pdf"
    with pytest.raises(DocumentError, match=r"U\+E000.*Aucun mot de passe n'a été modifié"):
        helpdesk.reset_password(services, agent, odd_id, slip_path=slip)
    assert factories.account(services, odd_id).temp_password_hash == before
    assert not slip.exists()
    # Without a slip the reset works; printing its slip afterwards is refused the same way.
    result = helpdesk.reset_password(services, agent, odd_id)
    with pytest.raises(DocumentError, match="mot de passe affiché reste valable"):
        helpdesk.write_slip(services, agent, result, slip)
    assert not slip.exists()


def _all_pages(services: Services, caller: SignedIn, text: str, limit: int) -> list[HelpdeskRow]:
    """Every row of a search, one page after another, as the dépannage list scrolls."""
    rows: list[HelpdeskRow] = []
    page = search(services, caller, text, limit=limit)
    rows += page.rows
    while page.after is not None:
        assert len(page.rows) == limit
        page = search(services, caller, text, limit=limit, after=page.after)
        rows += page.rows
    return rows


def test_a_class_search_pages_through_the_whole_class(services: Services, school: School) -> None:
    with services.sessions() as session, session.begin():
        establishment = session.scalars(select(Establishment).where(Establishment.uai == UAI)).one()
        for n in range(24):
            factories.pupil(session, establishment, first_name=f"Élève{n:02d}",
                            last_name="Classe", division="3E2")  # fmt: skip
    agent = _session(services, "t.nguyen")
    first = search(services, agent, "3e2", limit=10)
    assert (len(first.rows), first.total) == (10, 26)
    whole = _all_pages(services, agent, "3e2", limit=10)
    assert len(whole) == 26 == len({row.account_id for row in whole})
    assert [r.account_id for r in whole] == [
        r.account_id for r in search(services, agent, "3e2", limit=100).rows
    ]
    assert search(services, agent, "3e2", limit=100).after is None
    assert {r.division for r in whole} == {"3E2"}


def test_pages_keep_the_order_when_a_pupil_and_a_guardian_share_a_name(
    services: Services, school: School
) -> None:
    """Keyset pages: a guardian after the pupil of the same name, nobody twice or lost."""
    with services.sessions() as session, session.begin():
        establishment = session.scalars(select(Establishment).where(Establishment.uai == UAI)).one()
        children = [
            factories.pupil(session, establishment, first_name="Léa", last_name="Martin",
                            division="3E2")
            for _ in range(2)
        ]  # fmt: skip
        for child in children:
            factories.guardian(session, [child], first_name="Léa", last_name="Martin")
    principal = _session(services, "h.martin", Module.ADMINISTRATION)
    whole = search(services, principal, "martin", limit=100)
    assert whole.total == len(whole.rows) == 6  # Léa ×3, Hugo (pupils), Léa ×2 (mothers)
    for size in (1, 2, 4):
        paged = _all_pages(services, principal, "martin", limit=size)
        assert [r.account_id for r in paged] == [r.account_id for r in whole.rows]


def test_nothing_found_names_the_scope_and_nothing_outside_it(
    services: Services, school: School
) -> None:
    """The same answer whether the word matches a pupil of another class or nobody."""
    agent = _session(services, "t.morel")  # 3E2 only; Hugo Martin is in 5E1
    elsewhere = search(services, agent, "hugo")
    nowhere = search(services, agent, "zzyzx")
    assert elsewhere == nowhere
    assert (elsewhere.rows, elsewhere.total, elsewhere.classes) == ([], 0, ("3E2",))
    assert search(services, agent, "5e1") == nowhere
    assert search(services, agent, "lea").classes == ("3E2",)
    # The whole school: no classes to name.
    assert search(services, _session(services, "t.nguyen"), "zzyzx").classes is None


def test_a_scope_of_several_classes_is_named_in_the_school_order(services: Services) -> None:
    with services.sessions() as session, session.begin():
        establishment = factories.school(session)
        for division in ("3E3", "6E1", "3E2"):
            factories.pupil(session, establishment, division=division)
    member = factories.staff_member(
        services, first_name="Anne", last_name="Morel", role=StaffRole.AGENT, title="prof"
    )
    _delegate(services, member.id, ("3E3", "6E1", "3E2"))
    page = search(services, _session(services, "a.morel"), "zzyzx")
    assert page.classes == ("6E1", "3E2", "3E3")


def test_rows_carry_the_pupils_birth_date_for_the_identity_check(
    services: Services, school: School, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = _session(services, "t.nguyen")
    (noe,) = search(services, agent, "lefevre").rows
    assert noe.birth_date == BIRTH
    principal = _session(services, "h.martin", Module.ADMINISTRATION)
    rows = search(services, principal, "lefevre").rows
    mother = next(r for r in rows if r.kind is AccountKind.GUARDIAN)
    assert mother.birth_date is None
    # Staff who may not open an account's detail are not shown the date either.
    actions = dict(permissions.MODULE_ACTIONS)
    actions[Module.DEPANNAGE] = actions[Module.DEPANNAGE] - {permissions.Action.VIEW_DETAIL}
    monkeypatch.setattr(permissions, "MODULE_ACTIONS", actions)
    (hidden,) = search(services, agent, "lefevre").rows
    assert hidden.birth_date is None


def _exports(services: Services) -> list[tuple[AuditEvent, list[int]]]:
    with services.sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)
        ).all()
        return [
            (
                event,
                list(
                    session.scalars(
                        select(AuditTarget.account_id).where(AuditTarget.event_id == event.id)
                    )
                ),
            )
            for event in events
        ]


def test_a_slip_at_reset_and_one_printed_afterwards_are_each_audited_as_an_export(
    services: Services, school: School, tmp_path: Path
) -> None:
    """`audit list --action export` lists every document holding a password."""
    agent = _session(services, "t.nguyen")
    slip = tmp_path / "fiche.pdf"
    result = helpdesk.reset_password(services, agent, school.noe, slip_path=slip)
    helpdesk.reset_password(services, agent, school.lea)  # no slip: no export
    later = helpdesk.reset_password(services, agent, school.hugo)
    helpdesk.write_slip(services, agent, later, tmp_path / "apres.pdf")
    exports = _exports(services)
    assert [targets for _, targets in exports] == [[school.noe], [school.hugo]]
    for (event, _), path in zip(exports, (slip, tmp_path / "apres.pdf"), strict=True):
        assert event.details["what"] == "fiche de dépannage (mot de passe)"
        assert event.details["paths"] == [str(path)] and event.details["count"] == 1
        assert "(t.nguyen)" in event.actor_label
        assert result.temp_password not in str(event.details)
    with services.sessions() as session:
        reset = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "reset_password")
        ).first()
    # Recorded in the transaction of the reset: the same lot of files.
    assert reset is not None and reset.details["lot"] == exports[0][0].details["lot"]
