"""Private, all-or-nothing files: how every document and export reaches the disk.

A notification replaces passwords, so its documents are the only copy of the new
plaintext. Hence:

- every path a document goes to is checked by one rule (``check_targets``), where the
  user names it and again when it is published: an existing file is never replaced
  unless asked, the service's own files (database, key file, technical log) never, two
  documents never share a file, and a missing folder is refused rather than guessed at;
- the documents are built in memory first (``bytes``), staged as hidden 0600 files
  (``.NAME.educonnect-HEX.tmp``) beside their final path, then published under their
  final names *inside* the database transaction, just before its commit
  (``Publication``); if the commit fails they are removed again;
- a process killed in that window leaves a ``.NAME.educonnect-HEX.pending`` marker
  beside each published file; the next run in that folder (``sweep``) asks the database
  whether the transaction committed, and removes the documents of one that did not
  (their passwords never became valid), as well as staged files nobody holds;
- every file is created 0600 from its first byte: a password file must never be
  readable by other local users, not even for the instant before a ``chmod``.

A live process holds an advisory lock (``flock``) on its staged files and markers, so
a sweep never touches the work of a notification still running.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..model.errors import DocumentError, InvalidInput, os_reason

__all__ = [
    "OutputExists",
    "Publication",
    "StagedFile",
    "app_folder",
    "check_targets",
    "free_name",
    "stage_file",
    "sweep",
]

_MARK = "educonnect-"
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\." + _MARK + r"[0-9a-f]{12}\.(?P<kind>tmp|pending)$")
# Errors of file systems that have no hard links: publication falls back to a rename.
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS}


class OutputExists(InvalidInput):
    """The path names an existing file, which is replaced only when asked."""


# --------------------------------------------------------------------------- the path rule


def check_targets(
    paths: Iterable[Path | None],
    *,
    overwrite: bool = False,
    protected: Iterable[Path] = (),
) -> None:
    """Refuse, in one French line, every path a document must not be written to.

    Run where the user names the paths and again just before publishing, since a file
    can appear in between. ``protected`` are files nothing may replace (the service's own:
    database, key file, technical log), compared by resolved path and inode;
    they, and two documents sharing a file, are refused even with ``overwrite``.
    """
    guarded: set[object] = set()
    for path in protected:
        guarded |= _identity(Path(path))
    seen: set[object] = set()
    for given in paths:
        if given is None:
            continue
        path = Path(given)
        folder = path.parent
        if not folder.exists():
            raise InvalidInput(
                f"Le dossier « {folder} » n'existe pas\u00a0: créez-le ou choisissez-en un autre "
                "(rien n'a été écrit)."
            )
        if not folder.is_dir():
            raise InvalidInput(f"« {folder} » n'est pas un dossier (rien n'a été écrit).")
        if path.is_dir():
            raise InvalidInput(f"« {path} » est un dossier\u00a0: indiquez un nom de fichier.")
        identity = _identity(path)
        if identity & guarded:
            raise InvalidInput(
                f"« {path} » est un fichier du service lui-même (base de données, clés ou "
                "journal technique)\u00a0: choisissez un autre nom."
            )
        if identity & seen:
            raise InvalidInput(f"Deux documents ne peuvent pas être écrits dans « {path} ».")
        seen |= identity
        if os.path.lexists(path) and not overwrite:
            raise OutputExists(f"Le fichier « {path} » existe déjà\u00a0: il n'a pas été remplacé.")


def _identity(path: Path) -> set[object]:
    """What makes two names the same file: the resolved path, and the inode if it exists."""
    found: set[object] = {os.path.normcase(str(path.resolve()))}
    with contextlib.suppress(OSError):
        info = path.stat()
        found.add((info.st_dev, info.st_ino))
    return found


def app_folder(folder: Path) -> Path:
    """A folder the application names itself (``notifications/``…), created 0700 if missing.

    Only that last folder is made: the output folder holding it is the staff's, and a
    missing one is refused — an unmounted share must not quietly become a local folder
    of passwords. Paths a user types are never created either (``check_targets``).
    """
    output = folder.parent
    if not os.path.lexists(output):
        raise InvalidInput(
            f"Le dossier de sortie « {output} » n'existe pas\u00a0: créez-le ou corrigez "
            "EDUCONNECT_OUTPUT_DIR (rien n'a été écrit)."
        )
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise DocumentError(f"Impossible de créer le dossier {folder} : {_cause(exc)}") from exc
    return folder


def free_name(*candidates: Callable[[int], Path]) -> tuple[Path, ...]:
    """The first numbering (1, 2, …) at which none of the named files exists yet."""
    number = 1
    while True:
        paths = tuple(name(number) for name in candidates)
        if not any(os.path.lexists(p) for p in paths):
            return paths
        number += 1


# --------------------------------------------------------------------------- staging


class StagedFile:
    """A document written next to its final path, not yet visible under that name.

    It stays locked while this process holds it, so a ``sweep`` by another process
    leaves it alone; without ``overwrite`` publication refuses a file that appeared
    meanwhile (a hard link fails where a rename would replace).
    """

    def __init__(self, final_path: Path, temp_path: Path, fd: int, overwrite: bool) -> None:
        self.final_path = final_path
        self._temp_path: Path | None = temp_path
        self._fd: int | None = fd
        self.overwrite = overwrite
        info = os.fstat(fd)
        # Inode numbers are reused: with its size and time, a file replaced since is
        # never taken for this one.
        self.identity = _fingerprint(info)

    @property
    def temp_path(self) -> Path | None:
        return self._temp_path

    def publish(self) -> Path:
        """Give the file its final name, durably (file and folder fsynced)."""
        temp = self._temp_path
        if temp is None:
            raise DocumentError(f"Le fichier {self.final_path} a déjà été publié ou abandonné.")
        try:
            if self.overwrite:
                os.replace(temp, self.final_path)
            else:
                _publish_new(temp, self.final_path)
        except FileExistsError as exc:
            raise OutputExists(
                f"Le fichier « {self.final_path} » est apparu pendant l'opération\u00a0: "
                "il n'a pas été remplacé."
            ) from exc
        except OSError as exc:
            raise DocumentError(
                f"Impossible d'enregistrer le fichier {self.final_path}\u00a0: {_cause(exc)}"
            ) from exc
        self._temp_path = None
        self._close()
        _fsync_dir(self.final_path.parent)
        return self.final_path

    def unpublish(self) -> None:
        """Remove the published file again, if it is still the one this object wrote."""
        _remove_if_same(self.final_path, self.identity)

    def discard(self) -> None:
        """Remove the staged file; one the folder no longer lets us remove (it became
        read-only) is left to the next ``sweep``, and the failure that brought us here
        is the one reported, not this one."""
        temp, self._temp_path = self._temp_path, None
        if temp is not None:
            with contextlib.suppress(OSError):
                temp.unlink()
        self._close()

    def _close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __repr__(self) -> str:
        return f"StagedFile({str(self.final_path)!r})"


def _publish_new(temp: Path, final: Path) -> None:
    """Publish without ever replacing: link the new name, then drop the staged one."""
    try:
        os.link(temp, final)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        if os.path.lexists(final):
            raise FileExistsError(errno.EEXIST, "existe déjà", str(final)) from exc
        os.rename(temp, final)
        return
    os.unlink(temp)


def _fingerprint(info: os.stat_result) -> tuple[int, ...]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _remove_if_same(path: Path, identity: tuple[int, ...]) -> bool:
    with contextlib.suppress(OSError):
        if _fingerprint(path.lstat()) == identity:
            path.unlink()
            _fsync_dir(path.parent)
            return True
    return False


def _cause(exc: OSError) -> str:
    return os_reason(exc)


def _fsync_dir(directory: Path) -> None:
    """Make a rename or an unlink durable; best effort where folders cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _create_locked(folder: Path, name: str, kind: str) -> tuple[Path, int]:
    """A new hidden 0600 file ``.NAME.educonnect-HEX.KIND``, open and locked by us."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        candidate = folder / f".{name}.{_MARK}{secrets.token_hex(6)}.{kind}"
        try:
            fd = os.open(candidate, flags, 0o600)
        except FileExistsError:
            continue
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return candidate, fd
    raise FileExistsError(errno.EEXIST, "aucun nom temporaire libre", str(folder))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def stage_file(path: Path, data: bytes, *, overwrite: bool = False) -> StagedFile:
    """Write ``data`` to a private temporary file beside ``path``; publish it later."""
    path = Path(path)
    temp: Path | None = None
    fd: int | None = None
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "c'est un dossier", str(path))
        temp, fd = _create_locked(path.parent, path.name, "tmp")
        _write_all(fd, data)
        return StagedFile(path, temp, fd, overwrite)
    except OSError as exc:
        if fd is not None:
            os.close(fd)
        if temp is not None:
            with contextlib.suppress(OSError):
                temp.unlink()
        raise DocumentError(f"Impossible d'écrire le fichier {path}\u00a0: {_cause(exc)}") from exc


# --------------------------------------------------------------------------- publication


class Publication:
    """Documents that become valid with one transaction: staged, published, settled.

    ``publish`` runs inside the open transaction, just before its commit: each file gets
    its marker first (the database it belongs to, the lot, the transaction's time, the
    file's inode, size and time), then its final name. After the commit, ``settle``
    drops the markers; if the commit fails, ``undo`` removes the published files. The
    lot is recorded in the transaction (the audit record), which is how a later
    ``sweep`` tells a commit from a crash.
    """

    def __init__(
        self,
        at: dt.datetime,
        owner: str,
        settled: Callable[[tuple[Path, ...]], None] | None = None,
    ) -> None:
        self.lot = secrets.token_hex(8)
        self.at = at
        self.owner = owner
        # Told the documents once they stay (``settle``): what else shows them to the user.
        self.settled = settled
        self.files: list[StagedFile] = []
        self._published: list[StagedFile] = []
        self._markers: list[tuple[Path, int]] = []

    def stage(self, path: Path, data: bytes, *, overwrite: bool = False) -> StagedFile:
        try:
            staged = stage_file(path, data, overwrite=overwrite)
        except BaseException:
            self.undo()
            raise
        self.files.append(staged)
        return staged

    @property
    def paths(self) -> tuple[Path, ...]:
        return tuple(f.final_path for f in self.files)

    def publish(self) -> tuple[Path, ...]:
        for staged in self.files:
            self._mark(staged)
            staged.publish()
            self._published.append(staged)
        return self.paths

    def _mark(self, staged: StagedFile) -> None:
        folder = staged.final_path.parent
        try:
            marker, fd = _create_locked(folder, staged.final_path.name, "pending")
            self._markers.append((marker, fd))
            record = {
                "owner": self.owner,
                "lot": self.lot,
                "at": self.at.isoformat(),
                "name": staged.final_path.name,
                "file": list(staged.identity),
            }
            _write_all(fd, json.dumps(record).encode())
        except OSError as exc:
            raise DocumentError(
                f"Impossible d'enregistrer le fichier {staged.final_path}\u00a0: {_cause(exc)}"
            ) from exc
        _fsync_dir(folder)

    def settle(self) -> None:
        """The transaction committed: the documents stay, their markers go."""
        published = tuple(f.final_path for f in self._published)
        self._drop_markers()
        self._published.clear()
        if self.settled is not None and published:
            self.settled(published)

    def undo(self) -> None:
        """Nothing committed: no document may remain with passwords that do not work."""
        for staged in self._published:
            staged.unpublish()
        for staged in self.files:
            staged.discard()
        self._published.clear()
        self._drop_markers()

    def _drop_markers(self) -> None:
        markers, self._markers = self._markers, []
        for marker, fd in markers:
            with contextlib.suppress(OSError):
                marker.unlink()
            os.close(fd)
        for folder in {m.parent for m, _ in markers}:
            _fsync_dir(folder)


Committed = Callable[[str, dt.datetime], bool]


def sweep(folders: Iterable[Path], committed: Committed, owner: str) -> list[Path]:
    """Clear what killed runs left in ``folders``; return the documents removed.

    Staged files nobody holds are deleted (they were never published). A marker nobody
    holds names a published document: kept if ``committed(lot, at)`` says its
    transaction committed, removed (if still the same file) otherwise. Markers of
    another database (``owner``) are left alone: only that database can tell.
    """
    removed: list[Path] = []
    for folder in dict.fromkeys(Path(f) for f in folders):
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            match = _LEFTOVER.match(entry.name)
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            path = Path(entry.path)
            # A folder that cannot be written to keeps its leftovers; this run's own
            # publication there fails the same way, before any commit.
            with contextlib.suppress(OSError), _unless_held(path) as free:
                if not free:
                    continue
                if match["kind"] == "tmp":
                    path.unlink()
                    continue
                document = _settle_marker(path, folder, committed, owner)
                if document is not None:
                    removed.append(document)
        _fsync_dir(folder)
    return removed


@contextlib.contextmanager
def _unless_held(path: Path) -> Iterator[bool]:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _settle_marker(marker: Path, folder: Path, committed: Committed, owner: str) -> Path | None:
    try:
        record = json.loads(marker.read_text("utf-8"))
        if record["owner"] != owner:
            return None
        lot, at = str(record["lot"]), dt.datetime.fromisoformat(record["at"])
        name, identity = str(record["name"]), tuple(int(n) for n in record["file"])
    except (OSError, ValueError, KeyError, TypeError):
        # Killed while writing the marker: its document was not published yet.
        marker.unlink()
        return None
    document = folder / Path(name).name
    gone = None
    if not committed(lot, at) and len(identity) == 4 and _remove_if_same(document, identity):
        gone = document
    marker.unlink()
    return gone
