"""Reading a SIECLE-like export: its encoding, its semicolon rows and which header is which.

SIECLE exports are cp1252/ISO-8859-1 and spreadsheets re-save them as UTF-8, with headers
spelled a little differently each time, so staff get a file-level message naming what to
fix before any row is looked at. The exact format is documented in
``docs/import-format.md``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..model.errors import InvalidInput, os_reason
from ..model.identifiers import fold
from ..model.printable import excerpt

Rows = list[tuple[int, dict[str, str]]]


def _decode(raw: bytes, path: Path) -> str:
    """SIECLE exports are cp1252/ISO-8859-1; spreadsheets re-save them as UTF-8 (BOM or not).

    Strict UTF-8 almost never accepts real cp1252 text with accents, so trying it first
    tells the two apart; cp1252 decodes every ISO-8859-1 printable character identically.
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in raw:
        raise InvalidInput(
            f"Fichier {path.name} illisible\u00a0: fichier binaire ou encodé en UTF-16 "
            "(enregistrez-le en CSV UTF-8 ou Windows-1252)."
        )
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InvalidInput(
                f"Fichier {path.name} illisible\u00a0: marqué UTF-8 mais octet invalide "
                f"à la position {error.start}."
            ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            f"Fichier {path.name} illisible\u00a0: encodage non reconnu (octet invalide à la "
            f"position {error.start}) ; attendu UTF-8 ou Windows-1252."
        ) from None


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"Fichier introuvable\u00a0: {path}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} est un dossier, pas un fichier.") from None
    except OSError as error:
        raise InvalidInput(f"Fichier {path} illisible\u00a0: {os_reason(error)}.") from None


def _keyed(headers: list[str], cells: list[str]) -> dict[str, str]:
    """Missing trailing cells read as empty, extra cells are ignored, the first header wins."""
    row: dict[str, str] = {}
    for index, header in enumerate(headers):
        if header and header not in row:
            row[header] = cells[index] if index < len(cells) else ""
    return row


def read_table(path: Path) -> tuple[list[str], Rows]:
    """The header cells and the data rows keyed by those headers, with their line numbers.

    Line numbers are the file's own (the header is usually line 1), so staff can find a
    rejected row in a text editor or spreadsheet. Blank lines are skipped; missing
    trailing cells read as empty, extra cells are ignored.
    """
    text = _decode(_read_bytes(path), path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    headers: list[str] | None = None
    rows: Rows = []
    previous_end = 0
    try:
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            stripped = [cell.strip() for cell in cells]
            if not any(stripped):
                continue
            if headers is None:
                headers = stripped
                continue
            rows.append((start, _keyed(headers, stripped)))
    except csv.Error:
        # The csv module's only error in its default, lenient dialect is a cell over its
        # size limit; its message is English and names neither the line nor the column.
        raise InvalidInput(_too_long(path, text, previous_end + 1, headers)) from None
    if headers is None:
        raise InvalidInput(f"Fichier {path.name} vide\u00a0: ni en-tête ni données.")
    return headers, rows


def _too_long(path: Path, text: str, line: int, headers: list[str] | None) -> str:
    limit = csv.field_size_limit()
    where = f"Fichier {path.name} refusé ligne {line}\u00a0: "
    if headers is None:
        where += "une cellule de l'en-tête"
    else:
        rest = "".join(io.StringIO(text, newline="").readlines()[line - 1 :])
        index = _long_cell_index(rest, limit)
        if index is not None and index < len(headers) and headers[index]:
            where += f"la cellule de la colonne « {excerpt(headers[index])} »"
        elif index is not None:
            where += f"la cellule n° {index + 1}"
        else:
            where += "une cellule"
    most = f"{limit:,}".replace(",", "\u202f")
    return f"{where} est trop longue (plus de {most} caractères) ; rien n'a été importé."


def _long_cell_index(row: str, limit: int) -> int | None:
    """Which cell of the row starting ``row`` holds more than ``limit`` characters.

    A small reading of the same dialect (``;``, ``"`` quotes, doubled to escape) that
    only counts, so the message can name the column the csv module gave up on.
    """
    index = length = position = 0
    quoted = False
    while position < len(row):
        char = row[position]
        if quoted:
            if char == '"' and row[position + 1 : position + 2] == '"':
                position += 1
            elif char == '"':
                quoted = False
                length -= 1
            length += 1
        elif char == '"' and length == 0:
            quoted = True
        elif char == ";":
            index, length = index + 1, 0
        elif char in "\r\n":
            return None
        else:
            length += 1
        if length > limit:
            return index
        position += 1
    return None


@dataclass(frozen=True)
class Column:
    field: str
    label: str  # the canonical French header, used in messages and docs
    aliases: tuple[str, ...] = ()
    required: bool = True


def _header_key(header: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", fold(header)))


def resolve_columns(headers: list[str], spec: Sequence[Column], path: Path) -> dict[str, str]:
    """Which header holds each field: case-, accent- and punctuation-insensitive."""
    by_key: dict[str, str] = {}
    for header in headers:
        by_key.setdefault(_header_key(header), header)
    found: dict[str, str] = {}
    missing: list[str] = []
    for column in spec:
        for name in (column.label, *column.aliases):
            match = by_key.get(_header_key(name))
            if match is not None:
                found[column.field] = match
                break
        else:
            if column.required:
                missing.append(column.label)
    if missing:
        raise InvalidInput(_missing_columns(missing, headers, path))
    return found


def _missing_columns(missing: list[str], headers: list[str], path: Path) -> str:
    names = ", ".join(f"« {m} »" for m in missing)
    plural = "s" if len(missing) > 1 else ""
    message = f"Fichier {path.name} : colonne{plural} obligatoire{plural} absente{plural} : "
    found = " ; ".join(excerpt(h) for h in headers if h)
    message += f"{names}. Colonnes trouvées\u00a0: {found}."
    if len(headers) == 1 and ("," in headers[0] or "\t" in headers[0]):
        message += " Le séparateur doit être le point-virgule « ; »."
    return message
