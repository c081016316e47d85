"""The ``educonnect-tui`` command line, over the same services as the TUI.

Every failure the user can cause ends with one French line on stderr and exit code 2,
never a traceback; nothing is half-written because each service is all-or-nothing.
This module stays light: the commands (and SQLAlchemy, Textual...) are imported by
``main`` while the process is tuned for loading them (``educonnect_tui.process``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .. import process


def main(argv: Sequence[str] | None = None) -> int:
    with process.loading():
        from ..domain.store import db_errors
        from . import accounts, audit, context, staff
        from .arguments import build_parser, fail
        from .terminal import escaped_stdout

    commands = {
        "audit": audit.cmd_audit,
        "demo": accounts.cmd_demo,
        "db": accounts.cmd_db,
        "import": accounts.cmd_import,
        "notify": accounts.cmd_notify,
        "stats": accounts.cmd_stats,
        "search": accounts.cmd_search,
        "staff": staff.cmd_staff,
        "activate": accounts.cmd_activate,
        "delegate": staff.cmd_delegate,
    }
    args = build_parser().parse_args(argv)
    try:
        if args.command is None:
            return accounts.open_tui(context.open_services())
        with escaped_stdout():
            return commands[args.command](args)
    except KeyboardInterrupt:
        print("Interrompu : rien n'a été modifié.", file=sys.stderr)
        return 130
    except Exception as error:  # every failure ends as one French line (db_errors)
        fail(str(db_errors.translate(error)))


if __name__ == "__main__":
    sys.exit(main())
