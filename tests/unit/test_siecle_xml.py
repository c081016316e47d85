"""SIECLE's XML exports (pupils + guardians), built here, imported on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from educonnect_tui.domain.accounts.selection import Selection, accounts_of
from educonnect_tui.domain.model.enums import AccountKind, AccountState, PupilStatus
from educonnect_tui.domain.model.errors import InvalidInput
from educonnect_tui.domain.model.names import normal_name
from educonnect_tui.domain.model.tables import Account, Division, Guardian, GuardianLink, Pupil
from educonnect_tui.domain.siecle import xml_reading
from educonnect_tui.domain.siecle.report import ImportReport
from educonnect_tui.domain.siecle.xml_import import import_siecle
from educonnect_tui.domain.siecle.xml_rows import read_siecle
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.helpers import RunCli
from tests.unit.test_importer import snapshot

UAI = factories.DEFAULT_UAI
OTHER_UAI = "0750656F"
TODAY = dt.date(2026, 11, 16)


# --------------------------------------------------------------------------- builders


@dataclass
class P:
    """A pupil as SIECLE writes one."""

    eleve_id: str
    ine: str
    last: str
    first: str
    born: str = "14/03/2014"
    division: str | None = "6A"
    groups: tuple[str, ...] = ()
    usage: str = ""
    left: str = ""
    mef: str = "10010012110"


@dataclass
class Person:
    personne_id: str
    last: str
    first: str
    civility: str = "MME"
    email: str = ""
    mobile: str = ""
    address_id: str = ""
    old_name_tag: bool = False


@dataclass
class Link:
    eleve_id: str
    personne_id: str
    legal: str = "1"
    parente: str = "10"


@dataclass
class Address:
    address_id: str
    lines: tuple[str, ...]
    postal: str
    city: str
    country: str = "FRANCE"


def _tag(name: str, value: str) -> str:
    return f"<{name}>{escape(value)}</{name}>" if value else f"<{name}/>"


def _prologue(encoding: str) -> str:
    return f'<?xml version="1.0" encoding="{encoding}"?>\n'


def _params(uai: str) -> str:
    return (
        f"<PARAMETRES><UAJ>{uai}</UAJ><ANNEE_SCOLAIRE>2026</ANNEE_SCOLAIRE>"
        "<HORODATAGE>15/11/2026 18:00:00</HORODATAGE></PARAMETRES>\n"
    )


def pupils_xml(pupils: list[P], uai: str = UAI, encoding: str = "ISO-8859-15") -> bytes:
    out = [_prologue(encoding), '<BEE_ELEVES VERSION="3.0">\n', _params(uai), "<DONNEES>\n"]
    out.append("<ELEVES>\n")
    for p in pupils:
        out.append(
            f'<ELEVE ELEVE_ID={quoteattr(p.eleve_id)} ELENOET="1">\n'
            f"  {_tag('ID_NATIONAL', p.ine)}\n"
            f"  {_tag('NOM_DE_FAMILLE', p.last)}\n"
            f"  {_tag('NOM_USAGE', p.usage)}\n"
            f"  {_tag('PRENOM', p.first)}\n  <PRENOM2>Marie</PRENOM2>\n"
            f"  {_tag('DATE_NAISS', p.born)}\n"
            f"  {_tag('DATE_SORTIE', p.left)}\n"
            f"  {_tag('CODE_MEF', p.mef)}\n  <CODE_STATUT>ST</CODE_STATUT>\n"
            "</ELEVE>\n"
        )
    out.append("</ELEVES>\n<STRUCTURES>\n")
    for p in pupils:
        parts = [(p.division, "D")] if p.division else []
        parts += [(g, "G") for g in p.groups]
        out.append(f"<STRUCTURES_ELEVE ELEVE_ID={quoteattr(p.eleve_id)}>\n")
        for code, kind in parts:
            out.append(
                f"  <STRUCTURE>{_tag('CODE_STRUCTURE', code)}"
                f"<TYPE_STRUCTURE>{kind}</TYPE_STRUCTURE></STRUCTURE>\n"
            )
        out.append("</STRUCTURES_ELEVE>\n")
    out.append("</STRUCTURES>\n</DONNEES>\n</BEE_ELEVES>\n")
    return "".join(out).encode(encoding)


def guardians_xml(
    people: list[Person],
    links: list[Link],
    addresses: list[Address] = (),  # type: ignore[assignment]
    uai: str = UAI,
    encoding: str = "ISO-8859-15",
) -> bytes:
    out = [_prologue(encoding), '<BEE_RESPONSABLES VERSION="1.8">\n', _params(uai)]
    out.append("<DONNEES>\n<PERSONNES>\n")
    for person in people:
        name_tag = "NOM" if person.old_name_tag else "NOM_DE_FAMILLE"
        out.append(
            f"<PERSONNE PERSONNE_ID={quoteattr(person.personne_id)}>\n"
            f"  {_tag('LC_CIVILITE', person.civility)}\n"
            f"  {_tag(name_tag, person.last)}\n  {_tag('PRENOM', person.first)}\n"
            f"  <TEL_PERSONNEL>01 02 03 04 05</TEL_PERSONNEL>\n"
            f"  {_tag('TEL_PORTABLE', person.mobile)}\n  {_tag('MEL', person.email)}\n"
            f"  {_tag('ADRESSE_ID', person.address_id)}\n"
            "</PERSONNE>\n"
        )
    out.append("</PERSONNES>\n<RESPONSABLES>\n")
    for link in links:
        out.append(
            "<RESPONSABLE_ELEVE>\n"
            f"  {_tag('ELEVE_ID', link.eleve_id)}\n  {_tag('PERSONNE_ID', link.personne_id)}\n"
            f"  {_tag('RESP_LEGAL', link.legal)}\n  {_tag('CODE_PARENTE', link.parente)}\n"
            "  <RESP_FINANCIER>1</RESP_FINANCIER><PERS_CONTACT>1</PERS_CONTACT>\n"
            "</RESPONSABLE_ELEVE>\n"
        )
    out.append("</RESPONSABLES>\n<ADRESSES>\n")
    for address in addresses:
        lines = "".join(
            _tag(f"LIGNE{n}_ADRESSE", line) for n, line in enumerate(address.lines, start=1)
        )
        out.append(
            f"<ADRESSE ADRESSE_ID={quoteattr(address.address_id)}>{lines}"
            f"{_tag('CODE_POSTAL', address.postal)}{_tag('LIBELLE_POSTAL', address.city)}"
            f"{_tag('LL_PAYS', address.country)}</ADRESSE>\n"
        )
    out.append("</ADRESSES>\n</DONNEES>\n</BEE_RESPONSABLES>\n")
    return "".join(out).encode(encoding)


def zipped(data: bytes, name: str = "export.xml") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# A family: Léa and Noé MARTIN share their mother and father; a grandmother is a contact.
LEA = P("1001", "0700001501B", "MARTIN", "Léa", division="6A", groups=("6A_ANG", "LATIN"))
NOE = P("1002", "0700001502C", "MARTIN", "Noé", born="02/02/2012", division="4B")
ZOE = P("1003", "0700001503D", "DUPONT", "Zoé", division="601", mef="10010012110")
FAMILY = [LEA, NOE, ZOE]
MOTHER = Person("5001", "MARTIN", "Sophie", email="sophie@example.fr", mobile="06 12 34 56 78",
                address_id="9001")  # fmt: skip
FATHER = Person("5002", "MARTIN", "Pierre", civility="M.", address_id="9001")
GRANNY = Person("5003", "MARTIN", "Odette", mobile="0611111111")
ZOE_MOTHER = Person("5004", "DUPONT", "Anne", address_id="9002", old_name_tag=True)
PEOPLE = [MOTHER, FATHER, GRANNY, ZOE_MOTHER]
LINKS = [
    Link("1001", "5001"), Link("1002", "5001"), Link("1001", "5002", "2", "20"),
    Link("1002", "5002", "2", "20"), Link("1001", "5003", "0", "50"), Link("1003", "5004"),
]  # fmt: skip
ADDRESSES = [
    Address("9001", ("12 RUE DES ÉCOLES", "", "BÂTIMENT B"), "75005", "PARIS"),
    Address("9002", ("3 AVENUE LOUISE",), "1050", "BRUXELLES", "BELGIQUE"),
]


def family_files(tmp_path: Path, encoding: str = "ISO-8859-15", zip_: bool = False) -> list[Path]:
    pupils = pupils_xml(FAMILY, encoding=encoding)
    guardians = guardians_xml(PEOPLE, LINKS, ADDRESSES, encoding=encoding)
    if zip_:
        return [
            write(tmp_path, "ElevesSansAdresses.zip", zipped(pupils, "ElevesSansAdresses.xml")),
            write(tmp_path, "ResponsablesAvecAdresses.zip", zipped(guardians, "Resp.xml")),
        ]
    return [
        write(tmp_path, "ElevesSansAdresses.xml", pupils),
        write(tmp_path, "ResponsablesAvecAdresses.xml", guardians),
    ]


@pytest.fixture
def school(services: Services) -> Services:
    with services.sessions() as session, session.begin():
        factories.school(session)
    return services


def run_import(
    services: Services, paths: list[Path], dry_run: bool = False, allow_departures: bool = False
) -> ImportReport:
    return import_siecle(
        services,
        factories.operator(services),
        paths,
        dry_run=dry_run,
        allow_departures=allow_departures,
    )


# --------------------------------------------------------------------------- the import


@pytest.mark.parametrize("encoding", ["ISO-8859-15", "UTF-8"])
@pytest.mark.parametrize("zip_", [False, True], ids=["xml", "zip"])
def test_pupils_and_guardians_are_imported_from_both_files(
    school: Services, tmp_path: Path, encoding: str, zip_: bool
) -> None:
    report = run_import(school, family_files(tmp_path, encoding, zip_))
    assert report.errors == []
    assert report.lines()[0] == "Import des élèves et responsables enregistré."
    assert report.added[:3] == ["Léa MARTIN (6A)", "Noé MARTIN (4B)", "Zoé DUPONT (601)"]
    assert "Mme Odette MARTIN (Léa MARTIN) — contact, sans compte" in report.added
    with school.sessions() as s:
        divisions = {d.name: d.level for d in s.scalars(select(Division))}
        # Groups (type G) are not classes; « 601 » tells its level by its name.
        assert divisions == {"6A": "6e", "4B": "4e", "601": "6e"}
        sophie = s.scalars(select(Guardian).where(Guardian.source_key == "5001")).one()
        assert sorted(lk.pupil.first_name for lk in sophie.links) == ["Léa", "Noé"]
        assert (sophie.civility, sophie.email, sophie.mobile) == (
            "Mme",
            "sophie@example.fr",
            "0612345678",
        )
        assert (sophie.address, sophie.postal_code, sophie.city) == (
            "12 RUE DES ÉCOLES, BÂTIMENT B",
            "75005",
            "PARIS",
        )
        anne = s.scalars(select(Guardian).where(Guardian.source_key == "5004")).one()
        assert (anne.last_name, anne.city) == ("DUPONT", "BRUXELLES (BELGIQUE)")
        granny = s.scalars(select(Guardian).where(Guardian.source_key == "5003")).one()
        assert granny.account is None
        assert [(lk.legal_guardian, lk.relationship_label) for lk in granny.links] == [
            (False, "50")
        ]
        accounts = s.scalars(select(Account)).all()
        assert len(accounts) == 3 + 3  # three pupils, three legal representatives
        assert {a.state for a in accounts} == {AccountState.NOT_NOTIFIED}


def test_files_are_told_apart_by_their_root_not_their_name(
    school: Services, tmp_path: Path
) -> None:
    pupils, guardians = family_files(tmp_path)
    swapped = [pupils.rename(tmp_path / "responsables.xml"), guardians.rename(tmp_path / "a.xml")]
    report = run_import(school, list(reversed(swapped)))
    assert report.errors == [] and len(report.added) == 3 + 4


def test_level_comes_from_the_mef_when_the_name_tells_none(
    school: Services, tmp_path: Path
) -> None:
    pupils = [
        P("1", "0700000001A", "A", "Un", division="ULIS", mef="10310019110"),
        P("2", "0700000002A", "B", "Deux", division="SEGPA5", mef="10110001110"),
        P("3", "0700000003A", "C", "Trois", division="3EME2", mef="10210001110"),
    ]
    report = run_import(school, [write(tmp_path, "e.xml", pupils_xml(pupils))])
    assert report.errors == []
    with school.sessions() as s:
        assert {d.name: d.level for d in s.scalars(select(Division))} == {
            "ULIS": "3e",
            "SEGPA5": "5e",
            "3EME2": "3e",  # the name wins over the MEF
        }


def test_reimporting_the_same_files_changes_nothing(school: Services, tmp_path: Path) -> None:
    paths = family_files(tmp_path, zip_=True)
    assert run_import(school, paths).errors == []
    before = snapshot(school)
    again = run_import(school, paths)
    assert not again.changed and again.errors == []
    assert again.lines()[:2] == [
        "Import des élèves et responsables enregistré.",
        "Aucun changement.",
    ]
    assert again.lines()[2].startswith("Bilan\u00a0: 0 ajout,")
    assert snapshot(school) == before


def test_dry_run_writes_nothing(school: Services, tmp_path: Path) -> None:
    before = snapshot(school)
    report = run_import(school, family_files(tmp_path), dry_run=True)
    assert report.dry_run and len(report.added) == 7
    assert report.lines()[0].endswith("simulation\u00a0: rien n'a été enregistré.")
    assert snapshot(school) == before


def test_a_leaver_with_a_past_date_sortie_is_marked_left(school: Services, tmp_path: Path) -> None:
    assert run_import(school, family_files(tmp_path)).errors == []
    logins = {a.pupil_id: a.login for a in _accounts(school) if a.pupil_id}
    gone = P(**{**ZOE.__dict__, "left": "31/08/2026"})
    soon = P(**{**NOE.__dict__, "left": "01/09/2026"})  # leaves today: still enrolled
    files = [
        write(tmp_path, "e2.xml", pupils_xml([LEA, soon, gone])),
        write(tmp_path, "r2.xml", guardians_xml(PEOPLE, LINKS, ADDRESSES)),
    ]
    # One pupil of three leaving is over the 20 % limit: held back unless confirmed.
    held = run_import(school, files)
    assert held.held_back and held.departures_over_limit
    report = run_import(school, files, allow_departures=True)
    assert report.errors == [] and not report.held_back
    assert report.left[0] == "Zoé DUPONT (601) — compte désactivé"
    assert any("Anne DUPONT" in line and "compte désactivé" in line for line in report.left)
    with school.sessions() as s:
        zoe = s.scalars(select(Pupil).where(Pupil.ine == ZOE.ine)).one()
        assert zoe.status is PupilStatus.LEFT and zoe.account is not None
        assert zoe.account.state is AccountState.DEACTIVATED
        noe = s.scalars(select(Pupil).where(Pupil.ine == NOE.ine)).one()
        assert noe.status is PupilStatus.ENROLLED
    assert {a.pupil_id: a.login for a in _accounts(school) if a.pupil_id} == logins


def test_a_leaver_never_seen_is_not_enrolled(school: Services, tmp_path: Path) -> None:
    gone = P("7", "0700000007A", "PARTI", "Paul", left="04/07/2026")
    files = [
        write(tmp_path, "e.xml", pupils_xml([LEA, gone])),
        write(
            tmp_path,
            "r.xml",
            guardians_xml([MOTHER], [Link("1001", "5001"), Link("7", "5001")], ADDRESSES),
        ),
    ]
    report = run_import(school, files)
    assert report.errors == []
    with school.sessions() as s:
        assert [p.first_name for p in s.scalars(select(Pupil))] == ["Léa"]


def _accounts(services: Services) -> list[Account]:
    with services.sessions() as s:
        return list(s.scalars(select(Account)))


def test_a_contact_has_no_account_and_r_does_not_notify_them(
    school: Services, tmp_path: Path
) -> None:
    assert run_import(school, family_files(tmp_path)).errors == []
    with school.sessions() as s:
        lea = s.scalars(select(Pupil).where(Pupil.ine == LEA.ine)).one()
        assert lea.account is not None
        selection = Selection(guardians_of_pupil=lea.account.id)
        ids = s.scalars(accounts_of(AccountKind.GUARDIAN, lea.establishment_id, selection))
        names = sorted(s.get_one(Account, i).guardian.first_name for i in ids)  # type: ignore[union-attr]
        assert names == ["Pierre", "Sophie"]  # not Odette, the grandmother


def test_the_pupils_detail_shows_the_contact_without_an_account(
    school: Services, tmp_path: Path
) -> None:
    from educonnect_tui.domain.accounts.detail import account_detail

    assert run_import(school, family_files(tmp_path)).errors == []
    with school.sessions() as s:
        lea = s.scalars(select(Pupil).where(Pupil.ine == LEA.ine)).one()
        assert lea.account is not None
        account_id = lea.account.id
    detail = account_detail(school, factories.operator(school), account_id)
    assert [(r.name, r.legal_guardian, r.login is None) for r in detail.relatives] == [
        ("M. Pierre MARTIN", True, False),
        ("Mme Sophie MARTIN", True, False),
        ("Mme Odette MARTIN", False, True),  # a contact: last, and with no account
    ]


def test_a_contact_who_becomes_legal_gets_an_account_and_back(
    school: Services, tmp_path: Path
) -> None:
    assert run_import(school, family_files(tmp_path)).errors == []
    promoted = [
        Link(lk.eleve_id, lk.personne_id, "1" if lk.personne_id == "5003" else lk.legal, lk.parente)
        for lk in LINKS
    ]
    files = [
        write(tmp_path, "e.xml", pupils_xml(FAMILY)),
        write(tmp_path, "r.xml", guardians_xml(PEOPLE, promoted, ADDRESSES)),
    ]
    report = run_import(school, files)
    assert (
        "Mme Odette MARTIN\u00a0: représentant légal de Léa MARTIN, compte créé" in report.updated
    )
    report = run_import(school, family_files(tmp_path))
    assert (
        "Mme Odette MARTIN\u00a0: représentant légal de Léa MARTIN, compte désactivé "
        "(plus représentant légal)" in report.updated
    )
    with school.sessions() as s:
        granny = s.scalars(select(Guardian).where(Guardian.source_key == "5003")).one()
        assert granny.account is not None
        assert granny.account.state is AccountState.DEACTIVATED


# --------------------------------------------------------------------------- characters


@pytest.mark.parametrize("encoding", ["ISO-8859-15", "UTF-8"])
def test_latin9_only_characters_are_read_right(tmp_path: Path, encoding: str) -> None:
    pupil = P("1", "0700000001A", "BŒUF", "Chloé", usage="Œdipe-Ÿvelin")
    data = pupils_xml([pupil], encoding=encoding)
    if encoding == "ISO-8859-15":
        assert "Œ".encode(encoding) == b"\xbc"  # Latin-1 would read « ¼ »
    rows = read_siecle([write(tmp_path, "e.xml", data)], UAI, TODAY)
    assert rows.errors == []
    assert rows.pupils[0].last_name == "Œdipe-Ÿvelin"  # the usage name when given
    person = Person("5", "CŒUR", "Zoë", email="zoe@example.fr")
    guardians = guardians_xml([person], [Link("1", "5")], encoding=encoding)
    both = read_siecle(
        [write(tmp_path, "e.xml", data), write(tmp_path, "r.xml", guardians)], UAI, TODAY
    )
    assert both.guardians is not None and both.guardians[0].last_name == "CŒUR"


def test_euro_sign_in_a_latin9_file(tmp_path: Path) -> None:
    data = pupils_xml([P("1", "0700000001A", "A€B", "Léa")])
    assert b"\xa4" in data
    rows = read_siecle([write(tmp_path, "e.xml", data)], UAI, TODAY)
    # A name refuses the sign, but the reason quotes it as written.
    assert "« A€B »" in rows.errors[0].reason


_LETTERS = "abcdefghijklmnopqrstuvwxyzéèêëàâäîïôöùûüçœæÿŒÆŸÉÈÀÇ"
_names = st.builds(
    lambda parts, seps: "".join(p + s for p, s in zip(parts, seps, strict=False)).strip(" -'"),
    st.lists(st.text(_LETTERS, min_size=1, max_size=8), min_size=1, max_size=4),
    st.lists(st.sampled_from([" ", "-", "'", ""]), min_size=4, max_size=4),
).filter(bool)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(last=_names, first=_names, encoding=st.sampled_from(["ISO-8859-15", "UTF-8"]))
def test_any_name_survives_the_xml(tmp_path: Path, last: str, first: str, encoding: str) -> None:
    data = pupils_xml([P("1", "0700000001A", last, first)], encoding=encoding)
    rows = read_siecle([write(tmp_path, "e.xml", data)], UAI, TODAY)
    if rows.errors:  # a name the rule refuses (« -- », a lone apostrophe…): said, not lost
        assert rows.errors[0].line == 6 and "élève 1" in rows.errors[0].reason
    else:
        assert (rows.pupils[0].last_name, rows.pupils[0].first_name) == (
            normal_name(last),
            normal_name(first),
        )


def test_hostile_names_are_refused_or_kept_as_text(school: Services, tmp_path: Path) -> None:
    pupils = [
        P("1", "0700000001A", "EVIL\x1b[31m", "Léa"),  # an escape sequence
        P("2", "0700000002A", "MARTIN", "Noé\u0007"),  # a bell, as a character reference
    ]
    data = pupils_xml(pupils).replace(b"\x07", b"&#7;")
    # XML 1.0 forbids control characters, even as references: the file is malformed.
    with pytest.raises(InvalidInput, match="XML mal formé ligne"):
        read_siecle([write(tmp_path, "e.xml", data)], UAI, TODAY)
    data = pupils_xml([P("1", "0700000001A", "[b]GRAS[/b]", "Léa\u200b")], encoding="UTF-8")
    report = run_import(school, [write(tmp_path, "e.xml", data)])
    assert len(report.errors) == 1
    line = report.lines()[1]
    # Markup is plain text in the report, and the invisible character is shown escaped.
    assert line.startswith(
        "  e.xml, ligne 6\u00a0: élève 1 (Léa\\u200b [b]GRAS[/b])\u00a0: nom « [b]GRAS[/b] » refusé"
    )
    assert "U+200B" in line and "\u200b" not in line


# --------------------------------------------------------------------------- refusals


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE BEE_ELEVES [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<BEE_ELEVES><PARAMETRES><UAJ>&lol3;</UAJ></PARAMETRES></BEE_ELEVES>
"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE BEE_ELEVES [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<BEE_ELEVES><PARAMETRES><UAJ>&secret;</UAJ></PARAMETRES></BEE_ELEVES>
"""


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (BILLION_LAUGHS, "il déclare une entité XML (« lol »)"),
        (EXTERNAL, "il déclare une entité XML externe (« secret »)"),
        (b"<BEE_ELEVES><PARAMETRES>", "XML mal formé ligne 1"),
        (b"\xff\xfe\x00garbage", "XML mal formé ligne 1"),
        (b'<?xml version="1.0" encoding="KLINGON"?><a/>', "encodage qu'il déclare"),
        (b"<?xml version='1.0'?><ELEVES/>", "son élément racine est « ELEVES »"),
    ],
)
def test_hostile_or_foreign_files_are_refused_in_french(
    tmp_path: Path, payload: bytes, fragment: str
) -> None:
    for path in (write(tmp_path, "x.xml", payload), write(tmp_path, "x.zip", zipped(payload))):
        with pytest.raises(InvalidInput) as refused:
            read_siecle([path], UAI, TODAY)
        assert fragment in str(refused.value)
        assert "\n" not in str(refused.value)


def test_a_zip_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xml_reading, "MAX_XML_BYTES", 1024 * 1024)
    padding = b"<!-- " + b" " * (2 * 1024 * 1024) + b" -->"
    data = pupils_xml([LEA]) + padding
    bomb = write(tmp_path, "bomb.zip", zipped(data))
    assert bomb.stat().st_size < 20_000
    with pytest.raises(InvalidInput, match=r"dépasserait 1 Mo \(2 Mo annoncés\).*piégée"):
        read_siecle([bomb], UAI, TODAY)


def test_a_zip_whose_header_lies_is_stopped_while_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xml_reading, "MAX_XML_BYTES", 1024 * 1024)
    data = pupils_xml([LEA]) + b"<!-- " + b" " * (2 * 1024 * 1024) + b" -->"
    bomb = write(tmp_path, "bomb.zip", zipped(data))
    info = zipfile.ZipFile(bomb).infolist()[0]
    monkeypatch.setattr(xml_reading, "_member", lambda archive, path: info)
    with pytest.raises(InvalidInput, match="dépasserait 1 Mo, ce qu'aucun"):
        read_siecle([bomb], UAI, TODAY)


def test_archives_with_several_or_no_xml_members_are_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.xml", pupils_xml([LEA]))
        archive.writestr("b.XML", pupils_xml([NOE]))
    with pytest.raises(InvalidInput, match="contient 2 fichiers XML"):
        read_siecle([write(tmp_path, "two.zip", buffer.getvalue())], UAI, TODAY)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lisez-moi.txt", "rien")
    with pytest.raises(InvalidInput, match="aucun fichier XML"):
        read_siecle([write(tmp_path, "none.zip", buffer.getvalue())], UAI, TODAY)
    broken = zipped(pupils_xml([LEA]))[:-30]
    with pytest.raises(InvalidInput, match="ZIP endommagé"):
        read_siecle([write(tmp_path, "broken.zip", broken)], UAI, TODAY)


def test_another_schools_export_is_refused_naming_both(tmp_path: Path) -> None:
    path = write(tmp_path, "e.xml", pupils_xml([LEA], uai=OTHER_UAI))
    with pytest.raises(InvalidInput) as refused:
        read_siecle([path], UAI, TODAY)
    assert str(refused.value) == (
        f"Fichier e.xml refusé\u00a0: c'est l'export de l'établissement {OTHER_UAI} "
        f"(PARAMETRES/UAJ), pas de {UAI} pour lequel l'import est demandé ; "
        "rien n'a été importé."
    )
    guardians = write(tmp_path, "r.xml", guardians_xml([MOTHER], [], uai=OTHER_UAI))
    with pytest.raises(InvalidInput, match=r"r\.xml refusé"):
        read_siecle([write(tmp_path, "e.xml", pupils_xml([LEA])), guardians], UAI, TODAY)


def test_the_pupils_file_is_needed_and_two_of_a_kind_refused(tmp_path: Path) -> None:
    guardians = write(tmp_path, "r.xml", guardians_xml([MOTHER], []))
    with pytest.raises(InvalidInput, match=r"fichier des élèves .* est nécessaire"):
        read_siecle([guardians], UAI, TODAY)
    one, two = write(tmp_path, "a.xml", pupils_xml([LEA])), write(tmp_path, "b.xml", b"")
    two.write_bytes(pupils_xml([NOE]))
    with pytest.raises(InvalidInput, match="deux exports du même type"):
        read_siecle([one, two], UAI, TODAY)


def test_every_bad_element_is_reported_with_file_line_and_whom(
    school: Services, tmp_path: Path
) -> None:
    pupils = [
        LEA,
        P("1002", "BAD", "MARTIN", "Noé", born="31/02/2012"),
        P("1003", "0700001503D", "DUPONT", "Zoé", division=None, groups=("LATIN",)),
        P("1004", LEA.ine, "COPIE", "Léa"),
    ]
    links = [Link("1001", "5001"), Link("4242", "5001"), Link("1001", "5999"),
             Link("1001", "5002", "7")]  # fmt: skip
    people = [MOTHER, Person("5002", "MARTIN", "Pierre", email="pas-un-courriel")]
    files = [
        write(tmp_path, "ElevesSansAdresses.xml", pupils_xml(pupils)),
        write(tmp_path, "Resp.xml", guardians_xml(people, links, ADDRESSES)),
    ]
    before = snapshot(school)
    report = run_import(school, files)
    assert [(e.file, e.line) for e in report.errors] == [
        ("ElevesSansAdresses.xml", 17),  # each ELEVE element's own line
        ("ElevesSansAdresses.xml", 28),
        ("ElevesSansAdresses.xml", 39),
        ("Resp.xml", 15),
        ("Resp.xml", 33),
        ("Resp.xml", 40),
        ("Resp.xml", 47),
    ]
    reasons = [e.reason for e in report.errors]
    assert reasons[0].startswith("élève 1002 (Noé MARTIN)\u00a0: INE « BAD » invalide")
    assert "ce jour n'existe pas" in reasons[0]
    assert reasons[1] == "élève 1003 (Zoé DUPONT)\u00a0: aucune division (STRUCTURE de type D)"
    assert reasons[2] == "élève 1004 (Léa COPIE)\u00a0: INE 0700001501B en double (déjà ligne 6)"
    assert (
        reasons[3]
        == "responsable 5002 (Pierre MARTIN)\u00a0: courriel « pas-un-courriel » invalide"
    )
    assert reasons[4] == (
        "lien du responsable 5001 avec l'élève 4242, inconnu du fichier des élèves"
    )
    assert reasons[5] == (
        "lien de l'élève 1001 avec le responsable 5999, absent de la liste des personnes"
    )
    assert reasons[6] == (
        "lien du responsable 5002 avec l'élève 1001 : RESP_LEGAL « 7 » invalide : 0, 1 ou 2"
    )
    assert report.lines()[0] == (
        "Import des élèves et responsables refusé\u00a0: 7 éléments en erreur, "
        "aucune modification enregistrée."
    )
    assert report.lines()[1].startswith("  ElevesSansAdresses.xml, ligne 17\u00a0: élève 1002")
    assert snapshot(school) == before


def test_several_divisions_are_refused(tmp_path: Path) -> None:
    data = pupils_xml([LEA]).replace(
        b"<TYPE_STRUCTURE>G</TYPE_STRUCTURE>", b"<TYPE_STRUCTURE>D</TYPE_STRUCTURE>", 1
    )
    rows = read_siecle([write(tmp_path, "e.xml", data)], UAI, TODAY)
    assert rows.errors[0].reason.endswith(
        "plusieurs divisions (6A, 6A_ANG)\u00a0: une seule attendue"
    )


# --------------------------------------------------------------------------- the command line


def test_cli_imports_both_files_and_dry_runs(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    with cli_env.sessions() as session, session.begin():
        factories.school(session)
    paths = [str(p) for p in family_files(tmp_path, zip_=True)]
    code, out, err = run_cli(["import", "siecle", *paths, "--uai", UAI, "--dry-run"])
    assert (code, err) == (0, "")
    assert out.startswith("Import des élèves et responsables — simulation")
    assert "Ajouts\u00a0: 7" in out
    code, out, _ = run_cli(["import", "siecle", *reversed(paths), "--uai", UAI])
    assert code == 0 and out.startswith("Import des élèves et responsables enregistré.")
    with cli_env.sessions() as s:
        assert len(s.scalars(select(GuardianLink)).all()) == 6


def test_cli_refusals_are_one_french_line_exit_2(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    with cli_env.sessions() as session, session.begin():
        factories.school(session)
    other = write(tmp_path, "e.xml", pupils_xml([LEA], uai=OTHER_UAI))
    code, out, err = run_cli(["import", "siecle", str(other), "--uai", UAI])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"l'établissement {OTHER_UAI}" in err and "Traceback" not in err
    bomb = write(tmp_path, "b.xml", BILLION_LAUGHS)
    code, _, err = run_cli(["import", "siecle", str(bomb), "--uai", UAI])
    assert code == 2 and "entité XML" in err and err.count("\n") == 1
    bad = write(tmp_path, "bad.xml", pupils_xml([P("1", "BAD", "A", "B")]))
    code, out, err = run_cli(["import", "siecle", str(bad), "--uai", UAI])
    assert code == 2 and "bad.xml, ligne 6\u00a0: élève 1 (B A)" in out
    assert "1 élément rejeté\u00a0: rien n'a été importé." in err
    code, _, err = run_cli(["import", "siecle", "--uai", UAI])
    assert code == 2 and "FICHIER" in err


def test_cli_help_of_import_siecle_is_french(run_cli: RunCli) -> None:
    code, out, _ = run_cli(["import", "siecle", "--help"])
    assert code == 0
    assert "n'importe quel ordre" in out and "sans écrire" in out


def test_the_benchmark_probe_on_a_small_pair() -> None:
    from benchmarks import siecle_xml

    got = siecle_xml.measure(30, 50)
    assert got["added"] == 30 + 50 and got["import_s"] > 0


def test_a_new_school_takes_the_sample_exports_then_notifies(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    """The README's path from an empty database: school add, import siecle, notify."""
    data = Path(__file__).resolve().parents[1] / "data"
    exports = [str(data / "ResponsablesAvecAdresses.zip"), str(data / "ElevesSansAdresses.zip")]
    code, out, err = run_cli(
        ["school", "add", "--uai", "0750655E", "--name", "Collège Henri-IV", "--type", "college"]
    )
    assert code == 0, err
    code, out, err = run_cli(["import", "siecle", *exports, "--uai", "0750655E", "--dry-run"])
    assert code == 0, err
    assert "simulation" in out and "125 ajouts" in out
    code, out, err = run_cli(["import", "siecle", *exports, "--uai", "0750655E"])
    assert code == 0 and "enregistré" in out, err
    assert out.count("contact, sans compte") == 5
    pdf = tmp_path / "fiches.pdf"
    code, out, err = run_cli(["notify", "--uai", "0750655E", "--kind", "pupils", "--pdf", str(pdf)])
    assert code == 0, err
    assert "40 comptes élèves notifiés." in out and pdf.stat().st_mode & 0o777 == 0o600
    code, out, err = run_cli(
        ["notify", "--uai", "0750655E", "--kind", "guardians", "--pdf", str(tmp_path / "l.pdf")]
    )
    assert code == 0 and "80 comptes représentants légaux notifiés." in out, err


def test_a_class_the_school_cannot_have_is_refused_with_its_file_and_line(
    school: Services, tmp_path: Path
) -> None:
    """The demo factory's school is a collège: a CM2 class does not fit; nothing is written."""
    before = snapshot(school)
    odd = P("1009", "0700001509K", "PETIT", "Jules", division="CM2", mef="")
    eleves = write(tmp_path, "ElevesSansAdresses.xml", pupils_xml([LEA, odd]))
    report = run_import(school, [eleves])
    (error,) = report.errors
    assert error.file == "ElevesSansAdresses.xml" and error.line > 1
    assert "classe « CM2 » refusée" in error.reason
    assert snapshot(school) == before


def test_the_import_record_names_every_account_it_created(school: Services, tmp_path: Path) -> None:
    from educonnect_tui.domain.model.tables import AuditEvent, AuditTarget

    assert run_import(school, family_files(tmp_path)).errors == []
    with school.sessions() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "import")).one()
        targets = set(
            s.scalars(select(AuditTarget.account_id).where(AuditTarget.event_id == event.id))
        )
    created = {a.id for a in _accounts(school)}
    assert targets == created and any(a.guardian_id for a in _accounts(school))


def test_a_class_whose_mef_says_lycee_is_refused_in_a_college(
    school: Services, tmp_path: Path
) -> None:
    """« A12 » tells no level; its MEF code (200…: seconde) does."""
    odd = P("1009", "0700001509K", "PETIT", "Jules", division="A12", mef="20010018110")
    report = run_import(school, [write(tmp_path, "e.xml", pupils_xml([LEA, odd]))])
    (error,) = report.errors
    assert "classe « A12 » refusée" in error.reason
