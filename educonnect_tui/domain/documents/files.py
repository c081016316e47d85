"""Private, all-or-nothing files: how every document and export reaches the disk.

A notification replaces passwords, so its documents are the only copy of the new
plaintext. Hence:

- the documents are built in memory first (``bytes``), then written with
  ``stage_file`` / ``StagedFile.publish`` so the caller can commit the database only
  once every file is safely on disk, and roll everything back otherwise;
- every file is created 0600 from its first byte: a password file must never be
  readable by other local users, not even for the instant before a ``chmod``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ..model.errors import DocumentError

__all__ = ["StagedFile", "stage_file"]


class StagedFile:
    """A document written next to its final path, not yet visible under that name.

    The notification writes every document first, commits the database, then
    publishes: a failure before the commit leaves neither new passwords nor files;
    ``os.replace`` makes each publication all-or-nothing for readers.
    """

    def __init__(self, final_path: Path, temp_path: Path) -> None:
        self.final_path = final_path
        self._temp_path: Path | None = temp_path

    @property
    def temp_path(self) -> Path | None:
        return self._temp_path

    def publish(self) -> Path:
        if self._temp_path is None:
            raise DocumentError(f"Le fichier {self.final_path} a déjà été publié ou abandonné.")
        try:
            os.replace(self._temp_path, self.final_path)
        except OSError as exc:
            raise DocumentError(
                f"Impossible d'enregistrer le fichier {self.final_path} : {_cause(exc)}"
            ) from exc
        self._temp_path = None
        _fsync_dir(self.final_path.parent)
        return self.final_path

    def discard(self) -> None:
        temp, self._temp_path = self._temp_path, None
        if temp is not None:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()

    def __repr__(self) -> str:
        return f"StagedFile({str(self.final_path)!r})"


def _cause(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable; best effort where directories cannot be opened."""
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


def stage_file(path: Path, data: bytes) -> StagedFile:
    """Write ``data`` to a private temporary file beside ``path``; publish it later."""
    path = Path(path)
    temp: Path | None = None
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "c'est un dossier", str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        for _ in range(100):
            candidate = path.parent / f".{path.name}.{_token()}.tmp"
            try:
                fd = os.open(candidate, flags, 0o600)
            except FileExistsError:
                continue
            temp = candidate
            break
        else:
            raise FileExistsError(17, "aucun nom temporaire libre", str(path.parent))
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        return StagedFile(path, temp)
    except OSError as exc:
        if temp is not None:
            with contextlib.suppress(OSError):
                temp.unlink()
        raise DocumentError(f"Impossible d'écrire le fichier {path} : {_cause(exc)}") from exc


def _token() -> str:
    return os.urandom(6).hex()
