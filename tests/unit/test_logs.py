"""The technical log's destination (journal stream, journald's socket, a file) and what
an audited action puts in it."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from educonnect_tui.domain.store import audit, logs
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.services import Services


@pytest.fixture(autouse=True)
def _back_to_a_file(tmp_path: Path) -> Iterator[None]:
    yield
    logs.log_to(tmp_path / "fin.log", {})


def test_stderr_is_the_journal_only_when_it_is_the_stream_named(tmp_path: Path) -> None:
    with (tmp_path / "stream").open("w") as stream:
        info = os.fstat(stream.fileno())
        named = {"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"}
        assert logs.stderr_is_journal(named, stream)
        assert not logs.stderr_is_journal({"JOURNAL_STREAM": "1:2"}, stream)
        assert not logs.stderr_is_journal({"JOURNAL_STREAM": "n'importe quoi"}, stream)
        assert not logs.stderr_is_journal({}, stream)


def test_under_systemd_each_line_goes_to_stderr_with_its_priority(tmp_path: Path) -> None:
    """A real child whose stderr is a file standing for the journal stream: journald reads
    ``<3>`` as an error, ``<6>`` as information, on every line of a traceback too."""
    stderr = tmp_path / "journal"
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from educonnect_tui.domain.store import logs\n"
        "st = os.fstat(2)\n"
        "os.environ['JOURNAL_STREAM'] = f'{st.st_dev}:{st.st_ino}'\n"
        f"logs.log_to(Path({str(tmp_path / 'never.log')!r}))\n"
        "print(logs.destination())\n"
        "logs.log.info('bonjour')\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError:\n    logs.log.exception('raté')\n"
    )
    with stderr.open("w") as err:
        done = subprocess.run(
            [sys.executable, "-c", script], stderr=err, stdout=subprocess.PIPE, text=True
        )
    assert done.returncode == 0 and done.stdout.strip() == "journal"
    lines = stderr.read_text().splitlines()
    assert lines[0] == "<6>bonjour"
    assert lines[1] == "<3>raté"
    assert all(line.startswith("<3>") for line in lines[1:]) and "ZeroDivisionError" in lines[-1]
    assert not (tmp_path / "never.log").exists()


def test_a_child_without_the_stream_writes_to_journalds_socket(tmp_path: Path) -> None:
    """A browser session's process inherits JOURNAL_STREAM but not the stream: its records
    reach journald's native socket (here a socket of the test), one datagram each."""
    path = tmp_path / "socket"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(5)
    try:
        logs.log_to(tmp_path / "never.log", {"JOURNAL_STREAM": "1:2"}, journal_socket=path)
        assert logs.destination() == f"journal-socket:{path}"
        logs.log.warning("base occupée")
        first = server.recv(65536)
        try:
            raise ValueError("ligne 1\nligne 2")
        except ValueError:
            logs.log.exception("erreur inattendue")
        second = server.recv(65536)
    finally:
        server.close()
    assert b"MESSAGE=base occup\xc3\xa9e\n" in first
    assert b"PRIORITY=4\n" in first and b"SYSLOG_IDENTIFIER=educonnect-tui\n" in first
    # A message of several lines: its name, a newline, its length (64-bit LE), the bytes.
    assert second.startswith(b"MESSAGE\n")
    size = int.from_bytes(second[8:16], "little")
    message = second[16 : 16 + size].decode()
    assert message.startswith("erreur inattendue\n") and "ligne 2" in message
    assert b"PRIORITY=3\n" in second[16 + size :]
    assert not (tmp_path / "never.log").exists()


def test_without_systemd_the_log_is_the_private_file(tmp_path: Path) -> None:
    target = tmp_path / "logs" / "educonnect.log"
    logs.log_to(target, {"JOURNAL_STREAM": "1:2"}, journal_socket=tmp_path / "absent")
    assert logs.destination() == str(target)
    logs.log.info("une ligne")
    for handler in logs.log.handlers:
        handler.flush()
    assert target.stat().st_mode & 0o777 == 0o600
    assert "INFO une ligne" in target.read_text()


def test_an_audited_action_is_logged_once_committed_never_when_rolled_back(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caught: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            caught.append(record.getMessage())

    keep = Keep()
    logs.log.addHandler(keep)
    logs.log.setLevel(logging.INFO)
    actor = Actor(label="a.martin", source_address="203.0.113.9")
    try:
        with services.sessions() as session, session.begin():
            audit.record(session, actor, "outbox_purge", now=services.clock(),
                         details={"purged": 4, "retention_days": 30})  # fmt: skip
            assert caught == []  # not before the commit
        assert caught == [
            "outbox_purge par a.martin depuis 203.0.113.9 comptes=0 purged=4 retention_days=30"
        ]
        with pytest.raises(RuntimeError), services.sessions() as session, session.begin():
            audit.record(session, actor, "search", now=services.clock(),
                         details={"text": "BOUZID Bilal", "results": 2})  # fmt: skip
            raise RuntimeError
        assert len(caught) == 1
        with services.sessions() as session, session.begin():
            audit.record(session, actor, "search", now=services.clock(),
                         details={"text": "BOUZID Bilal", "results": 2})  # fmt: skip
        # Numbers, never the texts: a search names the pupil searched for.
        assert caught[-1] == "search par a.martin depuis 203.0.113.9 comptes=0 results=2"
    finally:
        logs.log.removeHandler(keep)


def test_the_setting_sends_an_ssh_sessions_log_to_journalds_socket(tmp_path: Path) -> None:
    """sshd starts a session without systemd's variable: ``log_to_journal`` still sends
    its log to journald's socket when there is one, else to the file."""
    path = tmp_path / "socket"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(5)
    try:
        logs.log_to(tmp_path / "a.log", {}, journal_socket=path)
        assert logs.destination() == str(tmp_path / "a.log")
        logs.log_to(tmp_path / "a.log", {}, journal_socket=path, journal=True)
        assert logs.destination() == f"journal-socket:{path}"
        logs.log.info("connexion")
        assert b"MESSAGE=connexion\n" in server.recv(65536)
    finally:
        server.close()
    logs.log_to(tmp_path / "b.log", {}, journal_socket=tmp_path / "absent", journal=True)
    assert logs.destination() == str(tmp_path / "b.log")


def test_every_logger_of_the_package_writes_where_the_log_goes() -> None:
    """A logger outside ``educonnect_tui`` would reach no handler (its information lost,
    its warnings on the terminal): each one the code makes is a child of it."""
    import re

    package = Path(logs.__file__).parents[2]
    names = set()
    for source in package.rglob("*.py"):
        names |= set(re.findall(r"getLogger\(\"([^\"]*)\"\)", source.read_text("utf-8")))
    assert names and all(n == "educonnect_tui" or n.startswith("educonnect_tui.") for n in names)


def test_a_journal_that_went_away_loses_the_line_and_prints_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "socket"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    logs.log_to(tmp_path / "a.log", {"JOURNAL_STREAM": "1:2"}, journal_socket=path)
    server.close()
    path.unlink()
    logs.log.error("perdue")
    assert capsys.readouterr() == ("", "")


def test_a_record_too_big_for_one_datagram_arrives_cut_with_a_mark(tmp_path: Path) -> None:
    """A datagram larger than the socket's buffer is refused (EMSGSIZE): the record is
    sent again with its middle cut out and said so, rather than lost without a trace."""
    path = tmp_path / "socket"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    server.settimeout(5)
    try:
        logs.log_to(tmp_path / "never.log", {"JOURNAL_STREAM": "1:2"}, journal_socket=path)
        logs.log.error("début " + "x" * 4_000_000 + " fin")
        got = server.recv(1 << 20)
    finally:
        server.close()
    assert got.startswith(b"MESSAGE")
    assert b"d\xc3\xa9but xxx" in got and b"xxx fin" in got
    assert "[…\u00a0tronqué".encode() in got and b"PRIORITY=3\n" in got
    assert len(got) < 200_000
