"""The wheel carries everything the app needs: styles, migrations, fonts, the web page.

Builds the wheel, installs it into a fresh virtual environment (no editable checkout on
the path) and, from there, migrates a database, creates the demo, notifies a class
(which needs the bundled fonts) and starts the TUI headless (which needs the styles).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

from educonnect_tui.domain.documents import glyphs
from educonnect_tui.domain.store import db

ROOT = Path(__file__).resolve().parent.parent

HEADLESS = textwrap.dedent(
    """
    import asyncio, sys
    from educonnect_tui.app import CSS_FILE, create_app
    from educonnect_tui.domain.store.services import Services
    from educonnect_tui.domain.store.settings import Settings

    async def main() -> None:
        services = Services.from_settings(Settings())
        app = create_app(services)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert CSS_FILE.is_file(), CSS_FILE
            assert "educonnect_tui" in str(CSS_FILE) and "site-packages" in str(CSS_FILE)
            print("écran\u00a0:", type(app.screen).__name__)

    asyncio.run(main())
    """
)


@pytest.mark.slow
def test_wheel_installs_and_runs_in_a_fresh_environment(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(ROOT)],
        check=True,
    )
    [wheel] = dist.glob("educonnect_tui-*.whl")
    shipped = {Path(name).name for name in zipfile.ZipFile(wheel).namelist()}
    fonts = set(glyphs.PRIMARY.values()) | {
        f for files in glyphs.FALLBACKS.values() for f in files if f is not None
    }
    assert fonts | {"LICENSE", "LICENSE-OFL.txt", "LICENSE-Apache.txt"} <= shipped
    # The browser page of ``serve`` (web.py), in French and without another site's font.
    assert "app_index.html" in shipped
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", str(wheel)], check=True)

    work = tmp_path / "work"
    work.mkdir()
    env = {
        "PATH": f"{env_dir / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "EDUCONNECT_DATABASE_URL": f"sqlite:///{tmp_path / 'wheel.db'}",
        "EDUCONNECT_ARGON2_MEMORY_KIB": "19456",
    }

    def run(*args: str | Path) -> str:
        result = subprocess.run(
            [str(a) for a in args], cwd=work, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    cli = env_dir / "bin" / "educonnect-tui"
    assert f"révision {db.HEAD_REVISION}" in run(cli, "db", "upgrade")
    assert "Collège Jean Moulin" in run(cli, "demo", "--no-open")
    # Activated pupils: many slips. Renotifying them must be counted first (--dry-run).
    selected = ("--uai", "0941234F", "--kind", "pupils", "--class", "6E1", "--state", "active")
    planned = run(cli, "notify", *selected, "--dry-run")
    counted = re.search(r"--activated (\d+)", planned)
    assert counted is not None, planned
    out = run(cli, "notify", *selected, "--activated", counted[1], "--pdf", work / "fiches.pdf")
    assert "notifié" in out and (work / "fiches.pdf").stat().st_size > 10_000
    assert "écran\u00a0:" in run(python, "-c", HEADLESS)
    # Nothing came from the checkout: the package is the installed one.
    location = run(python, "-c", "import educonnect_tui; print(educonnect_tui.__file__)")
    assert "site-packages" in location and str(ROOT) not in location
    assert os.environ.get("VIRTUAL_ENV") != str(env_dir)
