"""The technical log: to the systemd journal when the service runs under systemd, else a file.

Under systemd (``JOURNAL_STREAM`` set), a process whose standard error is the journal
stream that variable names writes there, each line prefixed with its syslog priority
(``<3>``: journald reads it as the entry's level). A process that inherited the variable
but not the stream (a browser session, whose standard error ``serve`` keeps to itself),
or any process when ``EDUCONNECT_LOG_TO_JOURNAL`` is set (an SSH session), sends its
records to journald's own socket instead. Anywhere else, or without that socket, the
log is the file of ``EDUCONNECT_LOG_FILE`` (0600). The choice is made once per process,
by ``log_to``.

What is logged: the start of each command, every audited action once its transaction
has committed (``audited``: the action, who, from where, the school, how many accounts,
and the numbers of its details; never a text of them, which may name a pupil), and the
errors staff cannot act on (``db_errors``). Never a password, an OTP secret or the SMTP
URL: none of them is in an audit record, and engines hide SQL parameters.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import event
from sqlalchemy.orm import Session

from . import private

log = logging.getLogger("educonnect_tui")
# Without a handler, Python prints warnings and errors on stderr (its "last resort"):
# the terminal must only ever see the French sentence.
log.addHandler(logging.NullHandler())
log.propagate = False

JOURNAL_SOCKET = Path("/run/systemd/journal/socket")
IDENTIFIER = "educonnect-tui"

# Python's levels as syslog priorities (what journald files an entry under).
_PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))


def priority(levelno: int) -> int:
    for level, value in _PRIORITIES:
        if levelno >= level:
            return value
    return 7


def stderr_is_journal(environ: Mapping[str, str], stream: TextIO | None = None) -> bool:
    """Whether standard error is the journal stream ``JOURNAL_STREAM`` names (``dev:ino``).

    systemd documents this comparison: the variable is inherited by every child, the
    stream is not (a pipe, a terminal).
    """
    value = environ.get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        status = os.fstat((stream or sys.stderr).fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (status.st_dev, status.st_ino) == (int(device), int(inode))


class JournalStreamFormatter(logging.Formatter):
    """Each line of a record (a traceback's too) with the record's ``<priority>``."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in text.splitlines() or [""])


# What a datagram's message keeps of a longer one: well under the socket's usual
# buffer (``net.core.wmem_default``, 208 KiB on Linux).
DATAGRAM_MESSAGE_CHARS = 48_000


def cut(message: str, limit: int = DATAGRAM_MESSAGE_CHARS) -> str:
    """``message`` with its middle replaced by a mark saying how much was left out."""
    if len(message) <= limit:
        return message
    half = limit // 2
    left_out = len(message) - 2 * half
    return f"{message[:half]} […\u00a0tronqué\u00a0: {left_out} caractères…] {message[-half:]}"


class JournalSocketHandler(logging.Handler):
    """journald's native protocol: one datagram of ``FIELD=value`` lines per record.

    A value holding a newline (a traceback) is sent in the protocol's binary form: the
    field name, a newline, its length as 64-bit little-endian, the bytes.
    """

    def __init__(self, path: Path = JOURNAL_SOCKET) -> None:
        super().__init__()
        self.path = path
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    @staticmethod
    def _field(name: str, value: str) -> bytes:
        data = value.encode("utf-8", "replace")
        if b"\n" not in data:
            return name.encode() + b"=" + data + b"\n"
        return name.encode() + b"\n" + len(data).to_bytes(8, "little") + data + b"\n"

    def _datagram(self, message: str, record: logging.LogRecord) -> bytes:
        return b"".join(
            (
                self._field("MESSAGE", message),
                self._field("PRIORITY", str(priority(record.levelno))),
                self._field("SYSLOG_IDENTIFIER", IDENTIFIER),
                self._field("SYSLOG_PID", str(os.getpid())),
            )
        )

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            try:
                self.socket.sendto(self._datagram(message, record), str(self.path))
            except OSError as error:
                if error.errno != errno.EMSGSIZE:
                    raise
                # Larger than a datagram may be: the beginning and the end (a
                # traceback's last lines say what failed), the cut said in the entry.
                self.socket.sendto(self._datagram(cut(message), record), str(self.path))
        except Exception:
            # A log that cannot be written never fails the work, nor prints on the
            # terminal (``handleError`` would: a TUI's screen, a command's one line).
            pass

    def close(self) -> None:
        self.socket.close()
        super().close()


_handler: logging.Handler | None = None
_where: str | None = None


def _install(handler: logging.Handler, where: str) -> None:
    global _handler, _where
    if _handler is not None:
        log.removeHandler(_handler)
        _handler.close()
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    _handler, _where = handler, where


def destination() -> str | None:
    """Where the log goes now: ``journal``, ``journal-socket``, the file's path, or None."""
    return _where


def log_to(
    path: Path,
    environ: Mapping[str, str] = os.environ,
    *,
    journal_socket: Path = JOURNAL_SOCKET,
    journal: bool = False,
) -> None:
    """Send the technical log to the journal under systemd, else to ``path`` (0600, its
    missing folders 0700); once per process.

    ``journal`` (the setting ``log_to_journal``) sends it to journald's socket even
    without systemd's variable: an SSH session's TUI, which sshd starts with an
    environment of its own, then logs where the services do.

    A log that cannot be written is not worth failing a command for: the French
    sentence is still shown, only the details are lost.
    """
    if environ.get("JOURNAL_STREAM") or journal:
        if environ.get("JOURNAL_STREAM") and stderr_is_journal(environ):
            if _where != "journal":
                handler: logging.Handler = logging.StreamHandler(sys.stderr)
                handler.setFormatter(JournalStreamFormatter("%(message)s"))
                _install(handler, "journal")
            return
        if journal_socket.is_socket():
            if _where != f"journal-socket:{journal_socket}":
                handler = JournalSocketHandler(journal_socket)
                handler.setFormatter(logging.Formatter("%(message)s"))
                _install(handler, f"journal-socket:{journal_socket}")
            return
    target = str(path.absolute())
    if _where == target:
        return
    try:
        private.make_folders(path.parent)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, private.FILE_MODE))
        private.narrow(path)  # a log made 0644 by an earlier version, like the database
        handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    except OSError:
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    _install(handler, target)


# Details whose text says what was done without naming anyone: logged as they are.
_PLAIN_DETAILS = frozenset(
    {
        "kind",
        "channel",
        "module",
        "network_mode",
        "reason",
        "role",
        "what",
        "format",
        "flow",
        "backend",
        "revision",
    }
)
_PENDING = "educonnect_log_pending"


def _detail_words(details: Mapping[str, Any]) -> str:
    words = []
    for name, value in details.items():
        if isinstance(value, bool | int | float) or (
            name in _PLAIN_DETAILS and isinstance(value, str) and len(value) <= 80
        ):
            words.append(f"{name}={value}")
    return " ".join(words)


def audited(
    session: Session,
    action: str,
    *,
    actor: str,
    source: str,
    establishment_id: int | None,
    targets: int,
    details: Mapping[str, Any],
) -> None:
    """Log an audited action when (and only if) its transaction commits."""
    school = f" établissement={establishment_id}" if establishment_id is not None else ""
    extra = _detail_words(details)
    line = (
        f"{action} par {actor} depuis {source}{school} comptes={targets}"
        + (f" {extra}" if extra else "")
    ).replace("\n", " ")
    session.info.setdefault(_PENDING, []).append(line)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    for line in session.info.pop(_PENDING, ()):
        log.info("%s", line)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def started(command: str) -> None:
    """One line when a command starts: which one, its process, its real Unix user."""
    from ... import __version__

    try:
        import pwd

        user = pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):  # not Unix, or a uid without a name (a container)
        user = f"uid {os.getuid()}"
    log.info(
        "démarrage de « educonnect-tui %s » (version %s, pid %d, utilisateur %s)",
        command or "(interface)",
        __version__,
        os.getpid(),
        user,
    )
