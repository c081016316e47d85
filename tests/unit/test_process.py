"""Process-wide settings belong to the entry point, not to an import or an App."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_importing_and_building_the_app_leave_the_process_alone() -> None:
    code = textwrap.dedent(
        """
        import gc, sys
        before = (gc.get_threshold(), sys.getswitchinterval(), gc.get_freeze_count())
        import educonnect_tui.cli, educonnect_tui.app
        from educonnect_tui.app import create_app
        from educonnect_tui.domain.store.services import Services
        from educonnect_tui.domain.store.settings import Settings
        create_app(Services.from_settings(Settings(database_url="sqlite://")))
        after = (gc.get_threshold(), sys.getswitchinterval(), gc.get_freeze_count())
        print(before == after)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "True", result.stderr


def test_loading_puts_the_collector_back() -> None:
    import gc

    from educonnect_tui import process

    before = gc.get_threshold()
    with process.loading():
        assert gc.get_threshold()[0] == 100_000
    assert gc.get_threshold() == before
