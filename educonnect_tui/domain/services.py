"""The services the CLI and the TUI share, built once from the settings and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from . import db
from .clock import Clock, utc_now
from .gateway import MessageGateway, OutboxGateway
from .passwords import HashParams
from .settings import Settings


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    hash_params: HashParams
    gateway: MessageGateway
    clock: Clock = field(default=utc_now)

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
        return cls(
            settings=settings,
            engine=engine,
            sessions=db.make_sessionmaker(engine),
            hash_params=hash_params
            or HashParams(
                time_cost=settings.argon2_time_cost,
                memory_kib=settings.argon2_memory_kib,
                parallelism=settings.argon2_parallelism,
            ),
            gateway=OutboxGateway(),
            clock=clock,
        )

    def upgrade(self) -> None:
        db.upgrade(self.engine)
