"""deploy/systemd: every command a unit runs is a real command of this version, the units
are hardened, and ``systemd-analyze verify`` accepts them where it exists."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from educonnect_tui.cli.arguments import build_parser
from tests.helpers import missing

UNITS = Path(__file__).parent.parent.parent / "deploy" / "systemd"
COMMAND = "/opt/educonnect/bin/educonnect-tui"
SERVICES = sorted(UNITS.glob("*.service"))
TIMERS = sorted(UNITS.glob("*.timer"))
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ReadWritePaths": "/var/lib/educonnect",
    "PrivateTmp": "yes",
    "ProtectHome": "yes",
    "UMask": "0077",
    "User": "educonnect",
    "CapabilityBoundingSet": "",
}


def settings_of(path: Path) -> dict[str, list[str]]:
    """``Key=value`` lines of a unit (systemd repeats keys: each kept), comments dropped."""
    found: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_the_expected_units_are_there() -> None:
    names = {p.name for p in [*SERVICES, *TIMERS]}
    assert names == {
        "educonnect-web.service",
        "educonnect-outbox.service", "educonnect-outbox.timer",
        "educonnect-purge.service", "educonnect-purge.timer",
        "educonnect-backup.service", "educonnect-backup.timer",
    }  # fmt: skip


@pytest.mark.parametrize("unit", SERVICES, ids=lambda p: p.name)
def test_every_exec_start_is_a_command_the_parser_accepts(unit: Path) -> None:
    commands = [
        value
        for key, values in settings_of(unit).items()
        if key.startswith("Exec")
        for value in values
    ]
    assert commands, unit
    for command in commands:
        argv = shlex.split(command)
        assert argv[0] == COMMAND, command
        try:
            args = build_parser().parse_args(argv[1:])
        except SystemExit as refused:
            pytest.fail(f"{unit.name}: « {command} » refusé par le parseur ({refused.code})")
        assert args.command == argv[1]


@pytest.mark.parametrize("unit", SERVICES, ids=lambda p: p.name)
def test_every_service_is_hardened(unit: Path) -> None:
    found = settings_of(unit)
    for key, value in HARDENING.items():
        assert value in found.get(key, []), f"{unit.name}: {key}={value}"
    assert found["Environment"] == ["EDUCONNECT_CONFIG=/etc/educonnect/config.toml"]


@pytest.mark.parametrize("timer", TIMERS, ids=lambda p: p.name)
def test_every_timer_has_its_service_and_catches_up(timer: Path) -> None:
    assert timer.with_suffix(".service").exists()
    found = settings_of(timer)
    assert found["Persistent"] == ["yes"] or found["Persistent"] == ["true"]
    assert found["OnCalendar"]


def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    """``verify`` checks that each command exists: the units are verified with the path of
    this checkout's ``educonnect-tui`` in place of /opt/educonnect's, nothing else changed."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        missing("SYSTEMD_ANALYZE", "systemd-analyze absent (paquet systemd)")
    real = shutil.which("educonnect-tui") or str(
        Path(__file__).parent.parent.parent / ".venv" / "bin" / "educonnect-tui"
    )
    assert Path(real).exists(), real
    for unit in [*SERVICES, *TIMERS]:
        (tmp_path / unit.name).write_text(unit.read_text().replace(COMMAND, real))
    done = subprocess.run(
        [analyze, "verify", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr
