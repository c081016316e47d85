"""The same scenario on a server in UTC and one in Auckland: the same French times everywhere.

A notification at 06:21 UTC on 12 January is 07:21 in Paris (19:21 in Auckland, 06:21 in
UTC), and a block until 06:58 UTC ends at 07:58 in Paris. The scenario runs in a child
process whose ``TZ`` is the server's zone, and reads the times back where a person reads
them: the account's detail screen, the dépannage list, its pop-up and its unblock
confirmation, the statistics and journal screens, the class list PDF, and the command
line's audit listing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = textwrap.dedent(
    """
    import asyncio, contextlib, datetime as dt, html, io, json, re, sys
    from pathlib import Path

    from pypdf import PdfReader

    from educonnect_tui.app import create_app
    from educonnect_tui.cli import context, main
    from educonnect_tui.domain.accounts.notification import NotifyRequest, notify
    from educonnect_tui.domain.accounts.selection import Selection
    from educonnect_tui.domain.model.enums import AccountKind
    from educonnect_tui.domain.model.tables import Account
    from educonnect_tui.domain.store.services import Services
    from educonnect_tui.domain.store.settings import Settings
    from educonnect_tui.screens.audit import AuditScreen
    from educonnect_tui.screens.detail import DetailScreen
    from educonnect_tui.screens.helpdesk import HelpdeskScreen
    from educonnect_tui.screens.stats import StatsScreen
    from tests import factories
    from tests.conftest import FAST_HASH, FakeClock
    from tests.helpers import settle

    folder = Path(sys.argv[1])
    services = Services.from_settings(
        Settings(database_url=f"sqlite:///{folder / 'zone.db'}", output_dir=folder),
        clock=FakeClock(dt.datetime(2026, 1, 12, 6, 21, tzinfo=dt.UTC)),
        hash_params=FAST_HASH,
    )
    services.upgrade()
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        pupil_id = factories.pupil(session, school, division="6E1").id
    factories.staff_member(services)
    head = factories.signed_in(services, "h.martin", factories.DEFAULT_UAI)
    pdf = folder / "fiches.pdf"
    notify(services, head, NotifyRequest(AccountKind.PUPIL, Selection(), pdf_path=pdf))
    first_page = PdfReader(pdf).pages[0].extract_text()
    out = {"pdf": re.search(r"éditée le [0-9/]+ à [0-9:]+", first_page).group(0)}
    block_end = dt.datetime(2026, 1, 12, 6, 58, tzinfo=dt.UTC)
    with services.sessions() as session, session.begin():
        session.get(Account, pupil_id).blocked_until = block_end

    def found(app, pattern):
        svg = app.export_screenshot()
        text = html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\\xa0", " ")
        return re.search(pattern, text).group(0)

    async def screens() -> None:
        app = create_app(services, signed_in=head)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            app.push_screen(DetailScreen(services, head, pupil_id))
            await settle(pilot)
            out["screen"] = found(app, r"la dernière le [0-9/]+ à [0-9:]+")
            out["detail block"] = found(app, r"jusqu'au [0-9/]+ à [0-9:]+")
            app.pop_screen()
            app.push_screen(HelpdeskScreen(services, head))
            await settle(pilot)
            await pilot.press(*"6e1")
            await pilot.pause(0.3)
            await settle(pilot)
            out["list"] = found(app, r"jusqu'à [0-9:]+")
            await pilot.press("enter")
            await settle(pilot)
            out["pop-up"] = found(app, r"Bloqué jusqu'au [0-9/]+ à [0-9:]+")
            await pilot.press("u")
            await settle(pilot)
            out["confirmation"] = found(app, r"Bloqué jusqu'au [0-9/]+ à [0-9:]+")
            await pilot.press("escape", "escape", "escape")
            await settle(pilot)
            app.push_screen(StatsScreen(services, head))
            await settle(pilot)
            out["stats"] = found(app, r"[0-9/]+ [0-9:]+ \\(en direct\\)")
            app.pop_screen()
            app.push_screen(AuditScreen(services, head))
            await settle(pilot)
            out["journal"] = found(app, r"[0-9]{2}/[0-9]{2}/[0-9]{4} [0-9]{2}:[0-9]{2}")

    asyncio.run(screens())
    context.open_services = lambda: services
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        main(["audit", "list", "--uai", factories.DEFAULT_UAI, "--action", "notify"])
    out["cli"] = re.search(r"[0-9]{2}/[0-9]{2}/[0-9]{4} à [0-9:]+", printed.getvalue()).group(0)
    print(json.dumps(out))
    """
)


def _run_in_zone(zone: str, folder: Path) -> dict[str, str]:
    folder.mkdir()
    env = {**os.environ, "TZ": zone, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", SCENARIO, str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    shown: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    return shown


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland"])
def test_the_server_zone_changes_no_time_a_person_reads(zone: str, tmp_path: Path) -> None:
    shown = _run_in_zone(zone, tmp_path / "zone")
    assert shown == {
        "pdf": "éditée le 12/01/2026 à 07:21",
        "screen": "la dernière le 12/01/2026 à 07:21",
        "detail block": "jusqu'au 12/01/2026 à 07:58",
        "list": "jusqu'à 07:58",
        "pop-up": "Bloqué jusqu'au 12/01/2026 à 07:58",
        "confirmation": "Bloqué jusqu'au 12/01/2026 à 07:58",
        "stats": "12/01/2026 07:21 (en direct)",
        "journal": "12/01/2026 07:21",
        "cli": "12/01/2026 à 07:21",
    }
