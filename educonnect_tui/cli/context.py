"""What every command needs first: the services from the settings, a migrated database."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError

from ..domain.store import db_errors, logs
from ..domain.store.services import Services
from ..domain.store.settings import Settings, settings_problem
from .arguments import fail

# The command being run (« notify », « outbox send »), as ``main`` parsed it: named in
# the log's start line. Never its arguments, which could name a pupil.
command = ""


def open_services(*, create: bool = False) -> Services:
    """The services, on a database that exists unless the command is one that makes it.

    SQLite creates a missing file (and ``make_engine`` its folders) at the first
    connection: a mistyped path or a command run before ``db upgrade`` would leave an
    empty database behind, which the next command would take for a real one. Only
    ``demo``, ``init`` and ``db upgrade`` (``create``) may make it.
    """
    from ..domain.store import db

    try:
        settings = Settings()
    except ValidationError as error:
        fail(settings_problem(dict(error.errors()[0])))
    db_errors.log_to(settings.log_file, journal=settings.log_to_journal)
    logs.started(command)
    missing = db.sqlite_file(settings.database_url)
    if not create and missing is not None and not missing.exists():
        fail(
            f"base de données {missing} introuvable\u00a0: lancez « educonnect-tui db upgrade » "
            "pour la créer, ou « educonnect-tui demo »."
        )
    return Services.from_settings(settings)


def require_schema(services: Services) -> None:
    from ..domain.store import db

    revision = db.current_revision(services.engine)
    if revision is None:
        fail(
            "base de données non initialisée\u00a0: lancez « educonnect-tui db upgrade » "
            "ou « educonnect-tui demo »."
        )
    if revision != db.HEAD_REVISION:
        fail(
            f"base de données à mettre à jour (révision {revision}, attendue "
            f"{db.HEAD_REVISION})\u00a0: lancez « educonnect-tui db upgrade »."
        )
    # The key file, before anything is read or written: refused without it
    # (keys.KeyFileError, one French line).
    services.check_keys()


def record(
    services: Services,
    action: str,
    *,
    establishment_id: int | None = None,
    targets: Iterable[int] = (),
    details: dict[str, object] | None = None,
) -> None:
    """Audit a command that writes no event of its own (a read, an owner's flow).

    The command line needs no sign-in: whoever can reach the database can read every
    school's accounts, so each use is in the trail with its Unix user and SSH address.
    """
    from ..domain.store import audit
    from ..domain.store.audit import Actor

    with services.sessions() as session, session.begin():
        audit.record(
            session,
            Actor.command_line(),
            action,
            now=services.clock(),
            establishment_id=establishment_id,
            targets=targets,
            details=details,
        )
