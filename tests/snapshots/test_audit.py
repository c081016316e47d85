"""Snapshots of the audit screen at 80×24 and 120×40, on the deterministic demo.

A few events are recorded at the demo's fixed clock before the app starts; the
verification (v) result is part of the picture. Entrée on the notification opens it:
its details and its five accounts.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from educonnect_tui.app import EduConnectApp
from educonnect_tui.demo import college as demo
from educonnect_tui.domain.model.enums import AccountKind
from educonnect_tui.domain.model.tables import Account, Establishment
from educonnect_tui.domain.store import audit
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.services import Services
from tests.helpers import settle
from tests.snapshots.conftest import SIZES


def _events(services: Services) -> None:
    actor = Actor(label="Philippe Marchand (p.marchand)", source_address="10.0.0.5")
    with services.sessions() as session, session.begin():
        college = session.scalars(
            select(Establishment.id).where(Establishment.uai == demo.COLLEGE_UAI)
        ).one()
        accounts = session.scalars(
            select(Account.id)
            .where(Account.kind == AccountKind.PUPIL)
            .order_by(Account.login)
            .limit(5)
        ).all()
        now = services.clock()
        for action, targets, details in (
            ("sign_in", (), {"network_mode": "otp", "module": "depannage", "schools": 1}),
            ("notify", accounts, {"kind": "eleve", "count": len(accounts), "lot": "3f9a1c"}),
            ("reset_password", accounts[:1], {"kind": "eleve", "module": "administration"}),
            ("export", (), {"what": "statistiques", "formats": ["csv", "pdf"]}),
        ):
            audit.record(
                session,
                actor,
                action,
                now=now,
                establishment_id=college,
                targets=targets,
                details=details,
            )


@pytest.mark.parametrize("size", SIZES)
def test_audit_screen(  # type: ignore[no-untyped-def]
    snap_compare, principal_app: Callable[[], EduConnectApp], demo_services: Services, size
) -> None:
    _events(demo_services)

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_audit_event(  # type: ignore[no-untyped-def]
    snap_compare, principal_app: Callable[[], EduConnectApp], demo_services: Services, size
) -> None:
    _events(demo_services)

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)


LONG_FOLDER = "/srv/partages/secretariat/Documents/EduConnect/2026-2027/notifications"


def _notification_with_long_paths(services: Services) -> None:
    actor = Actor(label="Philippe Marchand (p.marchand)", source_address="10.0.0.5")
    stem = f"{LONG_FOLDER}/notification_eleves_{demo.COLLEGE_UAI}_20261116_185401"
    with services.sessions() as session, session.begin():
        college = session.scalars(
            select(Establishment.id).where(Establishment.uai == demo.COLLEGE_UAI)
        ).one()
        accounts = session.scalars(
            select(Account.id).where(Account.kind == AccountKind.PUPIL).order_by(Account.login)
        ).all()[:3]
        audit.record(
            session,
            actor,
            "notify",
            now=services.clock(),
            establishment_id=college,
            targets=accounts,
            details={
                "kind": "eleve",
                "count": 3,
                "by_division": {"3E2": 3},
                "lot": "3f9a1c",
                "paths": [f"{stem}.pdf", f"{stem}.csv"],
                "channel": "auto",
                "emailed": 1,
                "on_paper": 2,
                "no_address": 0,
            },
        )


@pytest.mark.parametrize("size", SIZES)
def test_audit_event_of_a_notification_shows_every_detail(  # type: ignore[no-untyped-def]
    snap_compare, principal_app: Callable[[], EduConnectApp], demo_services: Services, size
) -> None:
    """Both long paths whole (one a line, cut at the folders), then the channel's counts."""
    _notification_with_long_paths(demo_services)

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)
