"""The real ``serve`` process and its sessions' processes, over websockets (no browser):
another site's page is refused, the cap holds, and no session outlives its server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from educonnect_tui.domain.store.settings import KEY_FILE_NAME
from tests.mail_server import free_port

WAIT = 15.0


@pytest.fixture
def environment(sqlite_url: str, tmp_path: Path) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("EDUCONNECT_", "SSH_"))}
    return {
        **kept,
        "EDUCONNECT_CONFIG": "/nonexistent/config.toml",
        "EDUCONNECT_DATABASE_URL": sqlite_url,
        "EDUCONNECT_KEY_FILE": str(tmp_path / KEY_FILE_NAME),
        "EDUCONNECT_LOG_FILE": str(tmp_path / "educonnect.log"),
        "EDUCONNECT_OUTPUT_DIR": str(tmp_path),
    }


@contextlib.contextmanager
def serve(
    environment: dict[str, str], *arguments: str
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "educonnect_tui", "serve", "--port", str(port), *arguments],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + WAIT
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None and time.monotonic() < deadline, "serve n'a pas démarré"
            time.sleep(0.1)
        yield server, port
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in found.split()]


def _gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{p}").exists() for p in pids):
            return True
        time.sleep(0.1)
    return False


async def _first_output(ws: aiohttp.ClientWebSocketResponse) -> bytes:
    message = await asyncio.wait_for(ws.receive(), WAIT)
    return message.data if isinstance(message.data, bytes) else b""


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_no_session_outlives_its_server(environment: dict[str, str], how: signal.Signals) -> None:
    with serve(environment) as (server, port):

        async def run() -> list[int]:
            async with aiohttp.ClientSession() as client:
                ws = await client.ws_connect(f"http://127.0.0.1:{port}/ws")
                assert await _first_output(ws)  # the session's process is drawing
                sessions = _children(server.pid)
                assert len(sessions) == 1
                server.send_signal(how)
                server.wait(timeout=WAIT)
                return sessions

        sessions = asyncio.run(run())
        # Killed outright, serve cannot tell them: they see their input end, as a hang-up.
        assert _gone_within(sessions, 10), "une session a survécu à serve"


def test_another_sites_page_cannot_open_a_session(environment: dict[str, str]) -> None:
    with serve(environment) as (server, port):

        async def run() -> None:
            async with aiohttp.ClientSession() as client:
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await client.ws_connect(
                        f"http://127.0.0.1:{port}/ws", headers={"Origin": "https://evil.example"}
                    )
                assert refused.value.status == 403
                assert _children(server.pid) == []
                own = await client.ws_connect(
                    f"http://127.0.0.1:{port}/ws", headers={"Origin": f"http://127.0.0.1:{port}"}
                )
                assert await _first_output(own)
                await own.close()

        asyncio.run(run())


def test_sessions_beyond_the_cap_are_told_and_closed(environment: dict[str, str]) -> None:
    with serve(environment, "--max-sessions", "1") as (server, port):

        async def run() -> None:
            async with aiohttp.ClientSession() as client:
                first = await client.ws_connect(f"http://127.0.0.1:{port}/ws")
                assert await _first_output(first)
                second = await client.ws_connect(f"http://127.0.0.1:{port}/ws")
                told = await _first_output(second)
                assert b"Trop de sessions ouvertes" in told
                closing = await asyncio.wait_for(second.receive(), WAIT)
                assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
                assert len(_children(server.pid)) == 1
                await first.close()

        asyncio.run(run())


PUBLIC = "https://educonnect.example.fr"


@contextlib.contextmanager
def serve_on_socket(environment: dict[str, str], path: Path) -> Iterator[subprocess.Popen[bytes]]:
    command = ["serve", "--socket", str(path), "--public-url", PUBLIC]
    server = subprocess.Popen(
        [sys.executable, "-m", "educonnect_tui", *command],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + WAIT
        while True:
            with socket.socket(socket.AF_UNIX) as probe:
                if probe.connect_ex(str(path)) == 0:
                    break
            assert server.poll() is None and time.monotonic() < deadline, "serve n'a pas démarré"
            time.sleep(0.1)
        yield server
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_sessions_through_the_unix_socket(environment: dict[str, str], tmp_path: Path) -> None:
    """A session opens through the socket (the proxy's way in); SIGTERM removes the
    socket; after a kill -9 the file left behind is taken over by the next serve."""
    path = tmp_path / "web.sock"

    async def one_session() -> None:
        connector = aiohttp.UnixConnector(path=str(path))
        async with aiohttp.ClientSession(connector=connector) as client:
            ws = await client.ws_connect("http://educonnect/ws", headers={"Origin": PUBLIC})
            assert await _first_output(ws)
            await ws.close()

    with serve_on_socket(environment, path) as server:
        assert os.lstat(path).st_mode & 0o777 == 0o660
        asyncio.run(one_session())
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=WAIT)
    assert not path.exists()

    with serve_on_socket(environment, path) as server:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=WAIT)
    assert stat.S_ISSOCK(os.lstat(path).st_mode)  # left behind, nothing listening
    with serve_on_socket(environment, path):
        asyncio.run(one_session())
