"""The SIECLE XML import measured: a generated pair of exports into a fresh database.

    python -m benchmarks.siecle_xml PUPILS GUARDIANS [--backend sqlite|postgresql]

Run in a fresh interpreter by ``benchmarks/run.py --siecle-xml`` (so the peak memory is
the import's own): writes the two zipped exports (ISO-8859-15, the way SIECLE does),
creates a school in an empty database, imports both files, imports them again (which
changes nothing), and prints one JSON line: seconds of each import, rows, peak memory.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from educonnect_tui.domain.access.caller import Operator
from educonnect_tui.domain.model.enums import EstablishmentType
from educonnect_tui.domain.siecle.xml_import import import_siecle
from educonnect_tui.domain.store import establishments
from educonnect_tui.domain.store.services import Services
from educonnect_tui.domain.store.settings import Settings

UAI = "0750655E"
_FIRST = ("Léa", "Noé", "Chloé", "Zoé", "Jean-Baptiste", "Maëlys", "Œnone", "Aïssatou")
_LAST = ("MARTIN", "LEFÈVRE", "N'DIAYE", "DE LA FONTAINE", "CŒUR", "NGUYEN", "DUPONT")
_LEVELS = ("6", "5", "4", "3")


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _write(zip_path: Path, name: str, parts: object) -> None:
    with (
        zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open(name, "w") as out,
    ):
        for part in parts:  # type: ignore[attr-defined]
            out.write(part.encode("iso-8859-15"))


def _pupils(count: int) -> object:
    yield '<?xml version="1.0" encoding="ISO-8859-15"?>\n<BEE_ELEVES VERSION="3.0">\n'
    yield f"<PARAMETRES><UAJ>{UAI}</UAJ><ANNEE_SCOLAIRE>2026</ANNEE_SCOLAIRE></PARAMETRES>\n"
    yield "<DONNEES>\n<ELEVES>\n"
    for n in range(count):
        yield (
            f'<ELEVE ELEVE_ID="{n + 1}" ELENOET="{n + 1}">\n'
            f"<ID_NATIONAL>{n:010d}A</ID_NATIONAL>\n"
            f"<NOM_DE_FAMILLE>{escape(_LAST[n % 7])}</NOM_DE_FAMILLE>\n"
            f"<PRENOM>{_FIRST[n % 8]}</PRENOM><PRENOM2>Marie</PRENOM2>\n"
            f"<DATE_NAISS>{n % 28 + 1:02d}/{n % 12 + 1:02d}/2013</DATE_NAISS>\n"
            f"<CODE_MEF>10{n % 4}10012110</CODE_MEF><CODE_STATUT>ST</CODE_STATUT>\n"
            "</ELEVE>\n"
        )
    yield "</ELEVES>\n<STRUCTURES>\n"
    for n in range(count):
        division = f"{_LEVELS[n % 4]}E{n // 4 % 30 + 1}"
        yield (
            f'<STRUCTURES_ELEVE ELEVE_ID="{n + 1}">\n'
            f"<STRUCTURE><CODE_STRUCTURE>{division}</CODE_STRUCTURE>"
            "<TYPE_STRUCTURE>D</TYPE_STRUCTURE></STRUCTURE>\n"
            "<STRUCTURE><CODE_STRUCTURE>ANG1</CODE_STRUCTURE>"
            "<TYPE_STRUCTURE>G</TYPE_STRUCTURE></STRUCTURE>\n"
            "</STRUCTURES_ELEVE>\n"
        )
    yield "</STRUCTURES>\n</DONNEES>\n</BEE_ELEVES>\n"


def _guardians(people: int, pupils: int) -> object:
    yield '<?xml version="1.0" encoding="ISO-8859-15"?>\n<BEE_RESPONSABLES VERSION="1.8">\n'
    yield f"<PARAMETRES><UAJ>{UAI}</UAJ></PARAMETRES>\n<DONNEES>\n<PERSONNES>\n"
    for n in range(people):
        yield (
            f'<PERSONNE PERSONNE_ID="{n + 1}">\n<LC_CIVILITE>{"MME" if n % 2 else "M."}'
            f"</LC_CIVILITE>\n<NOM_DE_FAMILLE>{escape(_LAST[n % 7])}</NOM_DE_FAMILLE>\n"
            f"<PRENOM>{_FIRST[(n + 3) % 8]}</PRENOM>\n<TEL_PORTABLE>06{n:08d}</TEL_PORTABLE>\n"
            f"<MEL>p{n}@example.fr</MEL>\n<ADRESSE_ID>{n + 1}</ADRESSE_ID>\n</PERSONNE>\n"
        )
    yield "</PERSONNES>\n<RESPONSABLES>\n"
    for n in range(people):
        # Two people per pupil, then the rest as a third contact (not legal) of the first.
        pupil = n % pupils + 1
        legal = "1" if n < 2 * pupils else "0"
        yield (
            f"<RESPONSABLE_ELEVE>\n<ELEVE_ID>{pupil}</ELEVE_ID>\n"
            f"<PERSONNE_ID>{n + 1}</PERSONNE_ID>\n<RESP_LEGAL>{legal}</RESP_LEGAL>\n"
            "<CODE_PARENTE>10</CODE_PARENTE>\n</RESPONSABLE_ELEVE>\n"
        )
    yield "</RESPONSABLES>\n<ADRESSES>\n"
    for n in range(people):
        yield (
            f'<ADRESSE ADRESSE_ID="{n + 1}"><LIGNE1_ADRESSE>{n} RUE DES ÉCOLES</LIGNE1_ADRESSE>'
            "<CODE_POSTAL>75005</CODE_POSTAL><LIBELLE_POSTAL>PARIS</LIBELLE_POSTAL>"
            "<LL_PAYS>FRANCE</LL_PAYS></ADRESSE>\n"
        )
    yield "</ADRESSES>\n</DONNEES>\n</BEE_RESPONSABLES>\n"


def measure(pupils: int, guardians: int, url: str | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        eleves, responsables = root / "ElevesSansAdresses.zip", root / "Responsables.zip"
        _write(eleves, "ElevesSansAdresses.xml", _pupils(pupils))
        _write(responsables, "ResponsablesAvecAdresses.xml", _guardians(guardians, pupils))
        settings = Settings(
            database_url=url or f"sqlite:///{root / 'bench.db'}",
            key_file=root / "keys",
            output_dir=root,
        )
        services = Services.from_settings(settings)
        services.upgrade()
        with services.sessions() as session, session.begin():
            establishments.create(
                session,
                uai=UAI,
                name="Collège de mesure",
                type=EstablishmentType.COLLEGE,
                academie="Paris",
                city="Paris",
            )
        caller = Operator.naming(services, UAI)
        started = time.perf_counter()
        report = import_siecle(services, caller, [responsables, eleves], dry_run=False)
        first = time.perf_counter() - started
        assert not report.errors, report.lines()[:5]
        started = time.perf_counter()
        again = import_siecle(services, caller, [eleves, responsables], dry_run=False)
        second = time.perf_counter() - started
        assert not again.changed
        services.engine.dispose()
        return {
            "pupils": pupils,
            "guardians": guardians,
            "zip_kb": (eleves.stat().st_size + responsables.stat().st_size) / 1024,
            "import_s": first,
            "reimport_s": second,
            "added": len(report.added),
            "peak_mb": _peak_mb(),
        }


if __name__ == "__main__":
    args = sys.argv[1:]
    url = args[3] if len(args) > 3 and args[2] == "--url" else None
    print(json.dumps(measure(int(args[0]), int(args[1]), url)))
