"""``backup``, ``restore`` and ``doctor``: keeping a server's database and checking it.

``doctor`` opens no database that does not exist and writes nothing, so it still
answers when the settings or the database are what is wrong; it is the one command,
with ``audit verify``, that leaves no event in the trail.
"""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from ..domain.model import french
from ..domain.store.audit import Actor
from . import context
from .arguments import fail
from .context import require_schema

EXIT_PROBLEM = 1


def cmd_backup(args: argparse.Namespace) -> int:
    from ..domain.documents.files import OutputExists
    from ..domain.operations import backup

    if (args.file is None) == (args.folder is None):
        fail("indiquez soit FICHIER, soit --folder DOSSIER (voir « educonnect-tui backup --help »)")
    if args.keep is not None and args.folder is None:
        fail("--keep ne s'emploie qu'avec --folder")
    services = context.open_services()
    require_schema(services)
    try:
        done = backup.backup(
            services, args.file, Actor.command_line(), folder=args.folder, keep=args.keep
        )
    except OutputExists:
        fail(
            f"le fichier « {args.file} » existe déjà\u00a0: une sauvegarde ne remplace jamais "
            "un fichier\u00a0; choisissez un nouveau nom (par exemple daté)."
        )
    print(
        f"Sauvegarde {done.backend} écrite dans {done.path} "
        f"({french.count(done.size, 'octet')}, 0600, révision {done.revision}). "
        f"Le fichier de clés {services.settings.key_path} n'y est pas\u00a0: "
        "gardez-en une copie à part."
    )
    if args.keep is not None:
        removed = french.count(
            len(done.pruned), "ancienne sauvegarde effacée", "anciennes sauvegardes effacées"
        )
        kept = (
            "la plus récente est gardée"
            if args.keep == 1
            else (f"les {args.keep} plus récentes sont gardées")
        )
        print(f"{removed} ({kept}).")
        for path, reason in done.spared:
            print(
                f"« {path.name} » laissé dans {path.parent}\u00a0: n'est pas une sauvegarde "
                f"d'educonnect-tui à effacer ({reason}).",
                file=sys.stderr,
            )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from ..domain.operations import backup
    from ..domain.reports import journal

    services = context.open_services(create=True)
    done = backup.restore(services, args.file, Actor.command_line())
    report = journal.verify_everywhere(services)
    print(
        f"Base {done.backend} restaurée depuis {done.source} (révision {done.revision}, "
        f"{french.count(done.events, 'enregistrement')} du journal avant la restauration)."
    )
    print(f"Journal d'audit\u00a0: {report.message()}")
    from ..domain.store import db

    if done.revision != db.HEAD_REVISION:
        print("Lancez « educonnect-tui db upgrade » pour mettre le schéma à jour.")
    return 0 if report.ok else EXIT_PROBLEM


def cmd_doctor(args: argparse.Namespace) -> int:
    from ..domain.operations import health
    from ..domain.store.settings import Settings, settings_problem

    try:
        settings = Settings()
    except ValidationError as error:
        problem = settings_problem(dict(error.errors()[0]))
        print(f"✗ Réglages\u00a0: {problem} → corrigez ce réglage (environnement ou config.toml)")
        return EXIT_PROBLEM
    checks = health.run(settings, smtp=args.smtp)
    for check in checks:
        print(check.line())
    bad = sum(not c.ok for c in checks)
    if bad:
        print(f"{french.count(bad, 'problème trouvé', 'problèmes trouvés')}.")
        return EXIT_PROBLEM
    print("Tout est en ordre.")
    return 0
