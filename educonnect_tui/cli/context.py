"""What every command needs first: the services from the settings, a migrated database."""

from __future__ import annotations

from pydantic import ValidationError

from ..domain.store.services import Services
from ..domain.store.settings import Settings
from .arguments import fail


def open_services() -> Services:
    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).upper()
        fail(f"réglage EDUCONNECT_{where} invalide : {first['msg']}")
    return Services.from_settings(settings)


def require_schema(services: Services) -> None:
    from ..domain.store import db

    revision = db.current_revision(services.engine)
    if revision is None:
        fail(
            "base de données non initialisée : lancez « educonnect-tui db upgrade » "
            "ou « educonnect-tui demo »."
        )
    if revision != db.HEAD_REVISION:
        fail(
            f"base de données à mettre à jour (révision {revision}, attendue "
            f"{db.HEAD_REVISION}) : lancez « educonnect-tui db upgrade »."
        )
    # The key file, before anything is read or written: refused without it
    # (keys.KeyFileError, one French line).
    services.check_keys()
