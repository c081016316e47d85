"""The ``educonnect-tui`` command line, over the same services as the TUI.

Every failure the user can cause ends with one French line on stderr and exit code 2,
never a traceback; nothing is half-written because each service is all-or-nothing.
This module stays light: the commands (and SQLAlchemy, Textual...) are imported by
``main`` while the process is tuned for loading them (``educonnect_tui.process``).
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator, Sequence
from types import FrameType

from .. import process

# What a closed SSH link (SIGHUP) or a ``kill`` (SIGTERM) sends: handled like Ctrl-C.
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Stopped(KeyboardInterrupt):
    """Ctrl-C's exception, remembering which signal stopped the command."""

    def __init__(self, signum: int) -> None:
        super().__init__()
        self.signum = signum


def exit_code(signum: int) -> int:
    """What a shell reports for a command a signal stopped: 130 Ctrl-C, 143 kill, 129 hang-up."""
    return 128 + signum


def _as_ctrl_c(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def _hang_up_and_term_as_ctrl_c() -> Iterator[None]:
    """For the command's duration only (tests call ``main`` in their own process)."""
    previous = {number: signal.signal(number, _as_ctrl_c) for number in STOP_SIGNALS[1:]}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def command_words(args: object) -> str:
    """« outbox send », « import siecle »: the command and its action, no argument."""
    names = vars(args)
    words = [names.get("command")]
    words += [value for key, value in names.items() if key.endswith("_command")]
    words += [names.get(key) for key in ("what", "flow")]
    return " ".join(str(word) for word in words if isinstance(word, str))


def main(argv: Sequence[str] | None = None) -> int:
    with process.loading():
        from ..domain.documents.files import OutputExists
        from ..domain.model.errors import sentences
        from ..domain.store import db_errors
        from . import accounts, audit, context, operations, outbox, schools, serve, staff
        from .arguments import build_parser, fail
        from .terminal import escaped_stdout

    commands = {
        "audit": audit.cmd_audit,
        "demo": accounts.cmd_demo,
        "db": accounts.cmd_db,
        "import": accounts.cmd_import,
        "notify": accounts.cmd_notify,
        "accounts": accounts.cmd_accounts,
        "stats": accounts.cmd_stats,
        "search": accounts.cmd_search,
        "guardians": accounts.cmd_guardians,
        "init": staff.cmd_init,
        "staff": staff.cmd_staff,
        "school": schools.cmd_school,
        "activate": accounts.cmd_activate,
        "delegate": staff.cmd_delegate,
        "outbox": outbox.cmd_outbox,
        "backup": operations.cmd_backup,
        "restore": operations.cmd_restore,
        "doctor": operations.cmd_doctor,
        "serve": serve.cmd_serve,
    }
    args = build_parser().parse_args(argv)
    context.command = command_words(args)
    try:
        with _hang_up_and_term_as_ctrl_c():
            if args.command is None:
                return accounts.open_tui(context.open_services())
            with escaped_stdout():
                return commands[args.command](args)
    except OutputExists as error:
        fail(sentences(str(error), "Ajoutez --overwrite pour le remplacer."))
    except KeyboardInterrupt as stop:
        print(
            "Interrompu\u00a0: ce qui n'était pas encore enregistré ne l'a pas été "
            "(rien n'est écrit à moitié).",
            file=sys.stderr,
        )
        return exit_code(stop.signum if isinstance(stop, Stopped) else signal.SIGINT)
    except Exception as error:  # every failure ends as one French line (db_errors)
        fail(str(db_errors.translate(error)))


if __name__ == "__main__":
    sys.exit(main())
