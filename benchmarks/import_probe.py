"""Child process of the benchmark for a large SIECLE import: one JSON line on stdout.

``prepare URL FOLDER ROWS`` migrates a fresh database, creates a collège and writes two
pupil files of ROWS rows each (the second with other INEs) and a guardians file of ROWS
rows (one guardian for two pupils); ``first`` imports the first pupils file (every row
an addition), ``guardians`` the guardians file, ``again`` the first pupils file once
more (nothing changes), ``swap`` is a dry run of the second one (every pupil leaves and
their guardians' accounts are deactivated, as many pupils arrive). Each reports its
time and the peak resident memory of its own process (no Textual is loaded here, as in
``educonnect-tui import``). Run by ``benchmarks/run.py``.
"""

from __future__ import annotations

import json
import random
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

UAI = "0750655E"
_LAST = ("MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND")
_FIRST = ("Léa", "Noé", "Jade", "Louis", "Emma", "Gabriel", "Chloé", "Raphaël", "Aïssatou")


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_pupils(path: Path, rows: int, first_ine: int) -> None:
    """A SIECLE-like file of ``rows`` pupils in 6e to 3e (40 classes), names varied."""
    rng = random.Random(first_ine)
    with path.open("w", encoding="utf-8") as out:
        out.write("INE;Nom de famille;Prénom;Date de naissance;Division\n")
        for n in range(rows):
            last = f"{rng.choice(_LAST)}{chr(65 + n % 26)}{chr(65 + n // 26 % 26)}"
            born = f"{1 + n % 28:02d}/{1 + n % 12:02d}/2012"
            out.write(f"{first_ine + n:010d}A;{last};{rng.choice(_FIRST)};{born};")
            out.write(f"{6 - n % 4}E{n % 10 + 1}\n")


def write_guardians(path: Path, rows: int) -> None:
    """One row per link: guardian ``n // 2`` of the pupils ``n`` of ``write_pupils``."""
    with path.open("w", encoding="utf-8") as out:
        out.write(
            "Identifiant responsable;Civilité;Nom de famille;Prénom;Représentant légal;"
            "Courriel;INE élève\n"
        )
        for n in range(rows):
            key = n // 2
            last = f"{_LAST[key % len(_LAST)]}{chr(65 + key % 26)}{chr(65 + key // 26 % 26)}"
            out.write(f"R{key};Mme;{last};Anne;Oui;r{key}@exemple.fr;{n:010d}A\n")


def _services(url: str, folder: Path):  # type: ignore[no-untyped-def]
    from educonnect_tui.domain.store.services import Services
    from educonnect_tui.domain.store.settings import Settings

    settings = Settings(database_url=url, key_file=folder / "import.key", output_dir=folder)
    return Services.from_settings(settings)


def prepare(url: str, folder: Path, rows: int) -> None:
    from educonnect_tui.domain.model.enums import EstablishmentType
    from educonnect_tui.domain.store import db, establishments

    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    services = _services(url, folder)
    services.check_keys()
    with services.sessions() as session, session.begin():
        establishments.create(
            session,
            uai=UAI,
            name="Collège de mesure",
            type=EstablishmentType.COLLEGE,
            academie="Créteil",
            city="Créteil",
        )
    write_pupils(folder / "eleves.csv", rows, 0)
    write_pupils(folder / "eleves_autres.csv", rows, rows)
    write_guardians(folder / "responsables.csv", rows)


def run_import(what: str, url: str, folder: Path) -> dict[str, object]:
    from educonnect_tui.domain.access.caller import Operator
    from educonnect_tui.domain.siecle.guardians import import_guardians
    from educonnect_tui.domain.siecle.pupils import import_pupils

    services = _services(url, folder)
    operator = Operator.naming(services, UAI)
    started = time.perf_counter()
    if what == "guardians":
        report = import_guardians(services, operator, folder / "responsables.csv")
    else:
        path = folder / ("eleves_autres.csv" if what == "swap" else "eleves.csv")
        report = import_pupils(
            services, operator, path, dry_run=what == "swap", allow_departures=True
        )
    seconds = time.perf_counter() - started
    return {"event": what, "seconds": seconds, "peak_mb": _peak_mb(), **report.counts()}


def main(argv: Sequence[str] | None = None) -> None:
    what, url, folder, *rest = sys.argv[1:] if argv is None else argv
    if what == "prepare":
        prepare(url, Path(folder), int(rest[0]))
        print(json.dumps({"event": "prepare"}), flush=True)
    else:
        print(json.dumps(run_import(what, url, Path(folder))), flush=True)


if __name__ == "__main__":
    main()
