"""One staff session of ``test_sessions``: the real app, headless, in a process of its own.

    python -m tests.concurrency.session_worker URL UAI LOGIN ROLE INDEX [ARG]

``browse`` and ``notify`` are the benchmark's sessions (``benchmarks/probe.py``
``session``), with the tests' cheap argon2id and short pauses; ``reset ACCOUNT_ID``
resets one account's password through the dépannage service from a worker thread of
the app, at the same instant as the other ``reset`` session (a barrier of files in
``EDUCONNECT_TEST_BARRIER``). The database, key file and output folder come from the
environment the test gives (``EDUCONNECT_*``).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks import probe
from tests.conftest import FAST_HASH

BARRIER_SECONDS = 20.0


def _barrier(folder: Path, index: int, parties: int) -> None:
    """Wait until ``parties`` sessions have reached this point (files in ``folder``)."""
    (folder / f"{index}.here").touch()
    deadline = time.monotonic() + BARRIER_SECONDS
    while len(list(folder.glob("*.here"))) < parties:
        if time.monotonic() > deadline:
            raise TimeoutError("l'autre session n'est jamais arrivée")
        time.sleep(0.001)


def reset(url: str, uai: str, login: str, index: int, account_id: int) -> None:
    from sqlalchemy import select

    from educonnect_tui.app import create_app
    from educonnect_tui.domain.access import sign_in as auth
    from educonnect_tui.domain.access.network import Connection, NetworkMode
    from educonnect_tui.domain.accounts import helpdesk
    from educonnect_tui.domain.model.enums import Module
    from educonnect_tui.domain.model.errors import DomainError
    from educonnect_tui.domain.model.tables import Staff
    from educonnect_tui.domain.store.services import Services
    from educonnect_tui.domain.store.settings import Settings
    from educonnect_tui.widgets.account_table import AccountTable

    services = Services.from_settings(Settings(database_url=url), hash_params=FAST_HASH)
    with services.sessions() as session, session.begin():
        staff = session.scalar(select(Staff).where(Staff.login == login))
        assert staff is not None
        person = auth.session_of(
            staff,
            connection=Connection(address=f"10.0.0.{10 + index}", via_ssh=True),
            module=Module.ADMINISTRATION,
            mode=NetworkMode.ADMIN,
            now=services.clock(),
        )
    signed_in = person.at(next(s for s in person.identity.schools if s.uai == uai))
    app = create_app(services, signed_in=signed_in)
    outcome: dict[str, Any] = {}

    def change() -> None:
        _barrier(Path(os.environ["EDUCONNECT_TEST_BARRIER"]), index, 2)
        try:
            result = helpdesk.reset_password(services, signed_in, account_id)
        except DomainError as error:  # the refusal staff would read
            outcome["refused"] = str(error)
        else:
            outcome["password"] = result.temp_password

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await probe._until(pilot, lambda: probe._shown(app, "#table-eleves"))
            assert app.screen.query_one("#table-eleves", AccountTable).total
            print(json.dumps({"event": "ready", "index": index}), flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
            worker = threading.Thread(target=change)
            worker.start()
            while worker.is_alive():
                await asyncio.sleep(0.01)

    asyncio.run(run())
    print(json.dumps({"event": "reset", **outcome}), flush=True)


def main() -> None:
    url, uai, login, role, index, *rest = sys.argv[1:]
    probe.THINK_SECONDS = 0.1
    if role == "reset":
        reset(url, uai, login, int(index), int(rest[0]))
    elif role == "notify":
        probe.session(url, uai, login, role, 10_000, index=int(index), hash_params=FAST_HASH,
                      division=rest[0])  # fmt: skip
    else:
        probe.session(url, uai, login, role, int(rest[0]), index=int(index), hash_params=FAST_HASH)


if __name__ == "__main__":
    main()
