"""The services the CLI and the TUI share, built once from the settings and passed down."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..model.calendar import SchoolTime
from ..model.clock import Clock, utc_now
from . import db, keys
from .gateway import MessageGateway, OutboxGateway
from .settings import HashParams, Settings


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    hash_params: HashParams
    gateway: MessageGateway
    key_store: keys.KeyStore
    clock: Clock = field(default=utc_now)
    time: SchoolTime = field(default_factory=SchoolTime.named)
    # Told of every document once it exists for good (``Publication.settle``, an import's
    # report): the browser interface hands each one to the browser as a download.
    on_published: Callable[[tuple[Path, ...]], None] | None = None

    def published(self, paths: tuple[Path, ...]) -> None:
        """The documents just written for good; a failure to pass them on is not the
        document's: it exists on the server, as the screen says."""
        if self.on_published is None or not paths:
            return
        try:
            self.on_published(paths)
        except Exception as error:  # the interface's, after the commit: never undoes it
            from . import db_errors

            db_errors.translate(error)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        clock: Clock = utc_now,
        hash_params: HashParams | None = None,
    ) -> Services:
        """Build the services; ``hash_params`` may only be lowered by tests, never by settings."""
        engine = db.make_engine(settings.database_url)
        store = keys.KeyStore(settings.key_path)
        return cls(
            settings=settings,
            engine=engine,
            sessions=db.make_sessionmaker(engine, info=keys.session_info(store)),
            hash_params=hash_params or settings.hash_params,
            gateway=OutboxGateway(),
            key_store=store,
            clock=clock,
            time=settings.school_time,
        )

    def own_files(self) -> tuple[Path, ...]:
        """The files the service itself depends on: the database's (SQLite), the key file
        and the technical log. No document or export may ever replace one of them."""
        return (*db.database_files(self.engine), self.settings.key_path, self.settings.log_file)

    def today(self) -> dt.date:
        """The school's date now: delegations, statistics and expiry count these days."""
        return self.time.today(self.clock())

    def upgrade(self) -> None:
        """Migrate the schema, then make sure of the key file and seal any clear secret.

        A key file made before it stated the trail's unsigned records gets that statement
        now, from the trail as it is (``keys.Legacy``): from then on no unsigned record
        can be added, though one added before cannot be told from a real one.
        """
        db.upgrade(self.engine)
        self.check_keys()
        with self.sessions() as session:
            self.key_store.attest_legacy(session)

    def check_keys(self) -> None:
        """Open (or, for a database that has none yet, create) the key file; refuse to go
        on without it (``keys.KeyFileError``); seal the OTP secrets still in clear."""
        with self.sessions() as session, session.begin():
            self.key_store.ring(session)
            keys.seal_clear_secrets(session)
