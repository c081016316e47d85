"""The domain layer never imports Textual nor the demo, checked at run time too.

import-linter reads the source; this test imports every module of the domain, sub-packages
included, in a fresh interpreter and looks at what got loaded.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import educonnect_tui.domain


def test_importing_every_domain_module_loads_no_ui_and_no_demo() -> None:
    modules = [
        m.name
        for m in pkgutil.walk_packages(educonnect_tui.domain.__path__, "educonnect_tui.domain.")
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "outside = ('screens', 'widgets', 'app', 'demo')\n"
        "ui = ('textual', *('educonnect_tui.' + p for p in outside))\n"
        "bad = [m for m in sys.modules if m.startswith(ui)]\n"
        "print(bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
    assert len(modules) > 15
