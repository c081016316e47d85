"""Reading SIECLE's XML exports: a hardened, streaming parser that keeps line numbers.

SIECLE (« Exportations > En XML ») hands out each export as a zip holding one XML file
declared ISO-8859-15. The parser is defusedxml's (entity declarations and external
references are refused, so neither a billion-laughs payload nor a file reference gets
expanded) and honours the encoding declaration itself: no guessing, « Œ » and « € » are
read as Latin-9 says. The file is fed in chunks and only one record (an ``ELEVE``, a
``PERSONNE``…) is held at a time, so a 100,000-pupil export is never a tree in memory.
A record carries the line its start tag is on, which a report can point staff to.
"""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.ElementTree import DefusedXMLParser

from ..model.errors import Cancelled, InvalidInput

PUPILS_ROOT = "BEE_ELEVES"
GUARDIANS_ROOT = "BEE_RESPONSABLES"

# Far above any school's export (a 3,000-pupil lycée's is a few megabytes): what is
# bigger once unzipped is a zip bomb, refused before and while it is read.
MAX_XML_BYTES = 512 * 1024 * 1024
_CHUNK = 64 * 1024
# A field longer than this is kept only in part: every field's checks refuse far less.
_FIELD_LIMIT = 4096

Progress = Callable[[str, int, int], None]
Cancel = Callable[[], bool]


@dataclass
class Record:
    """One element of interest, flattened: its attributes and its children's text."""

    tag: str
    line: int
    attrs: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)
    parts: list[Record] = field(default_factory=list)  # nested records (``STRUCTURE``)


# Where a record sits (its path from the root) → what is done with it once read whole.
Handlers = Mapping[tuple[str, ...], Callable[[Record], None]]


class _Collector:
    """The parser's target: builds the records the handlers ask for, and nothing else."""

    def __init__(self, handlers: Handlers, nested: frozenset[str]) -> None:
        self.handlers = handlers
        self.nested = nested
        self.parser: DefusedXMLParser | None = None
        self.stack: list[str] = []
        self.record: Record | None = None
        self.depth = 0  # the record's depth in the stack
        self.part: Record | None = None
        self.text: list[str] | None = None
        self.size = 0
        self.root = ""

    def _line(self) -> int:
        assert self.parser is not None
        return int(self.parser.parser.CurrentLineNumber)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.stack.append(tag)
        if not self.root:
            self.root = tag
        depth = len(self.stack)
        if self.record is None:
            handler = self.handlers.get(tuple(self.stack))
            if handler is not None:
                self.record = Record(tag, self._line(), dict(attrs))
                self.depth = depth
            return
        if depth == self.depth + 1 and tag in self.nested:
            self.part = Record(tag, self._line(), dict(attrs))
            self.record.parts.append(self.part)
        elif depth == self.depth + 1 or (self.part is not None and depth == self.depth + 2):
            self.text, self.size = [], 0

    def data(self, text: str) -> None:
        if self.text is not None and self.size < _FIELD_LIMIT:
            self.text.append(text[: _FIELD_LIMIT - self.size])
            self.size += len(text)

    def end(self, tag: str) -> None:
        depth = len(self.stack)
        self.stack.pop()
        if self.record is None:
            return
        if depth == self.depth:
            record, self.record = self.record, None
            self.handlers[(*self.stack, tag)](record)
            return
        if self.text is not None:
            target = self.part if self.part is not None and depth == self.depth + 2 else self.record
            target.fields.setdefault(tag, "".join(self.text))
            self.text = None
        elif self.part is not None and depth == self.depth + 1:
            self.part = None

    def close(self) -> None:
        return None


class _RootFound(Exception):
    pass


class _RootOnly(_Collector):
    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.root = tag
        raise _RootFound


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[tuple[_Readable, int]]:
    """The XML bytes of ``path`` (a file, or the one XML file of a zip) and their size."""
    try:
        if not _is_zip(path):
            with path.open("rb") as stream:
                yield stream, path.stat().st_size
            return
        with zipfile.ZipFile(path) as archive:
            member = _member(archive, path)
            with archive.open(member) as stream:
                yield _Capped(stream, path), member.file_size
    except FileNotFoundError:
        raise InvalidInput(f"Fichier introuvable\u00a0: {path}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} est un dossier, pas un fichier.") from None
    except (zipfile.BadZipFile, EOFError):
        raise InvalidInput(
            f"Archive {path.name} illisible\u00a0: fichier ZIP endommagé ou tronqué ; "
            "rien n'a été importé."
        ) from None
    except NotImplementedError:
        raise InvalidInput(
            f"Archive {path.name} illisible\u00a0: méthode de compression non prise en charge."
        ) from None
    except OSError as error:
        raise InvalidInput(f"Fichier {path} illisible\u00a0: {error.strerror or error}") from None


def _is_zip(path: Path) -> bool:
    """By its first bytes, so a damaged archive is said to be one and not read as XML."""
    with path.open("rb") as stream:
        return stream.read(4) in (b"PK\x03\x04", b"PK\x05\x06")


def _member(archive: zipfile.ZipFile, path: Path) -> zipfile.ZipInfo:
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir() and info.filename.lower().endswith(".xml")
    ]
    if not members:
        raise InvalidInput(
            f"Archive {path.name} refusée\u00a0: elle ne contient aucun fichier XML."
        )
    if len(members) > 1:
        raise InvalidInput(
            f"Archive {path.name} refusée\u00a0: elle contient {len(members)} fichiers XML, "
            "un export SIECLE n'en contient qu'un ; donnez chaque fichier séparément."
        )
    member = members[0]
    if member.flag_bits & 0x1:
        raise InvalidInput(f"Archive {path.name} refusée\u00a0: elle est chiffrée.")
    if member.file_size > MAX_XML_BYTES:
        raise InvalidInput(_too_big(path, member.file_size))
    return member


def _too_big(path: Path, size: int | None = None) -> str:
    limit = MAX_XML_BYTES // (1024 * 1024)
    said = "" if size is None else f" ({size // (1024 * 1024)} Mo annoncés)"
    return (
        f"Archive {path.name} refusée\u00a0: une fois décompressée elle dépasserait {limit} Mo"
        f"{said}, ce qu'aucun export SIECLE n'atteint (archive piégée ?) ; "
        "rien n'a été importé."
    )


class _Capped:
    """Reads the zip member in chunks and stops at the cap, whatever its header said."""

    def __init__(self, stream: IO[bytes], path: Path) -> None:
        self.stream, self.path, self.count = stream, path, 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.count += len(chunk)
        if self.count > MAX_XML_BYTES:
            raise InvalidInput(_too_big(self.path))
        return chunk


def root_of(path: Path) -> str:
    """The name of the file's root element, read from its first bytes only."""
    collector = _RootOnly({}, frozenset())
    parser = _parser(collector)
    with _opened(path) as (stream, _size):
        try:
            while chunk := stream.read(_CHUNK):
                parser.feed(chunk)
            parser.close()
        except _RootFound:
            return collector.root
        except (ParseError, DefusedXmlException, LookupError) as error:
            raise InvalidInput(_refusal(path, error)) from None
    raise InvalidInput(f"Fichier {path.name} refusé\u00a0: aucun élément XML.")


def read_records(
    path: Path,
    handlers: Handlers,
    nested: frozenset[str] = frozenset(),
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> None:
    """Stream ``path`` through the parser, each record of ``handlers`` handed over whole."""
    collector = _Collector(handlers, nested)
    parser = _parser(collector)
    done = 0
    with _opened(path) as (stream, size):
        try:
            while chunk := stream.read(_CHUNK):
                if cancel is not None and cancel():
                    raise Cancelled("Import annulé\u00a0: rien n'a été importé.")
                parser.feed(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(f"Lecture de {path.name}", min(done, size), size)
            parser.close()
        except (ParseError, DefusedXmlException, LookupError) as error:
            raise InvalidInput(_refusal(path, error)) from None


def _parser(collector: _Collector) -> DefusedXMLParser:
    # No DTD is refused as such (an export may name one), but any entity it declares is.
    parser = DefusedXMLParser(
        target=collector, forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    collector.parser = parser
    return parser


def _refusal(path: Path, error: Exception) -> str:
    where = f"Fichier {path.name} refusé"
    end = " ; rien n'a été importé."
    if isinstance(error, EntitiesForbidden):
        external = " externe" if error.sysid or error.pubid else ""
        return (
            f"{where}\u00a0: il déclare une entité XML{external} (« {error.name} »), ce qu'un "
            f"export SIECLE ne fait jamais (fichier piégé ?){end}"
        )
    if isinstance(error, DTDForbidden):
        return f"{where}\u00a0: il déclare une DTD, ce qu'un export SIECLE ne fait pas{end}"
    if isinstance(error, DefusedXmlException):
        return f"{where}\u00a0: il fait référence à une ressource externe (fichier piégé ?){end}"
    position = getattr(error, "position", None)
    if isinstance(error, LookupError) or "encoding" in str(error):
        return f"{where}\u00a0: l'encodage qu'il déclare n'est pas connu{end}"
    if position is not None:
        line, column = position
        return (
            f"{where}\u00a0: XML mal formé ligne {line}, colonne {column + 1} (fichier tronqué, "
            f"modifié à la main ou qui n'est pas un export SIECLE){end}"
        )
    return f"{where}\u00a0: XML mal formé{end}"
