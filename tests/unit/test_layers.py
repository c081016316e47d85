"""The domain layer never imports Textual (DESIGN.md §4), checked at run time too."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import educonnect_tui.domain


def test_importing_every_domain_module_loads_no_ui() -> None:
    modules = [m.name for m in pkgutil.iter_modules(educonnect_tui.domain.__path__)]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module('educonnect_tui.domain.' + name)\n"
        "ui = ('textual', *('educonnect_tui.' + p for p in ('screens', 'widgets', 'app')))\n"
        "bad = [m for m in sys.modules if m.startswith(ui)]\n"
        "print(bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
    assert len(modules) > 15
