#!/usr/bin/env python3
"""One-command set-up for developers and users: needs only Python 3.11+.

    python3 dev.py demo   # virtual environment, install, open the TUI on the demo school
    python3 dev.py test   # virtual environment, install with test tools, run every check

The virtual environment lives in .venv/ and is reinstalled when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def run(*command: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(c) for c in command), flush=True)
    completed = subprocess.run([str(c) for c in command], cwd=ROOT, env=env)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def ensure_venv(extra: str) -> None:
    """Create .venv and install the project (editable) unless it is already up to date."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        sys.exit("educonnect-tui demande Python 3.11 ou plus récent.")
    stamp = VENV / f".installed-{extra or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest and PYTHON.exists():
        return
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    target = f".[{extra}]" if extra else "."
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", target)
    stamp.write_text(digest)


def demo(args: list[str]) -> None:
    ensure_venv("")
    os.execv(str(BIN / "educonnect-tui"), [str(BIN / "educonnect-tui"), "demo", *args])


def test(args: list[str]) -> None:
    ensure_venv("test")
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    run(BIN / "mypy")
    run(BIN / "lint-imports")
    run(PYTHON, "-m", "pytest", *args)


def setup(_args: list[str]) -> None:
    """Only the environment (used by benchmarks/run.py from a fresh clone)."""
    ensure_venv("test")


def main() -> None:
    commands = {"demo": demo, "test": test, "setup": setup}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(f"usage : python3 dev.py {{{'|'.join(commands)}}} [arguments...]")
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
