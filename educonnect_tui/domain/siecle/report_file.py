"""An import's report written to a file: private (0600), and never over an existing file.

The report names minors and their classes, so it is written as every document is
(``documents/files.py``): created 0600 from its first byte, refused over an existing
file unless asked, never over the service's own files. The path is checked before the
import runs, so a refusal costs nothing, and again when the report is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..accounts import publishing
from ..documents import files
from ..store.services import Services


def check(services: Services, path: Path, *, overwrite: bool) -> None:
    publishing.check(services, [path], overwrite=overwrite)


def write(services: Services, path: Path, lines: Sequence[str], *, overwrite: bool) -> Path:
    """The report's lines, one per line of the file (UTF-8); the path written."""
    check(services, path, overwrite=overwrite)
    data = "".join(f"{line}\n" for line in lines).encode("utf-8")
    staged = files.stage_file(path, data, overwrite=overwrite)
    try:
        written = staged.publish()
    except BaseException:
        staged.discard()
        raise
    services.published((written,))
    return written
