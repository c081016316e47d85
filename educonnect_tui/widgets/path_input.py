"""A path field that completes the server's folders and import files, like a shell.

Over SSH there is no file dialog: staff type the path of the export they copied to the
server, and the field suggests the rest (greyed after the cursor); Tab or → accepts it.
Only what the process may read is suggested: a folder it cannot list suggests nothing,
and hidden entries only once a « . » is typed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path

from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import Input

IMPORT_SUFFIXES = (".xml", ".zip", ".csv")
# A folder holding more entries than this is not read to the end for one suggestion.
_MAX_ENTRIES = 5000


def _candidates(folder: Path, prefix: str, suffixes: tuple[str, ...]) -> Iterable[str]:
    """Names in ``folder`` starting with ``prefix``: folders (with « / ») and files."""
    with os.scandir(folder) as entries:
        for n, entry in enumerate(entries):
            if n >= _MAX_ENTRIES:
                return
            name = entry.name
            if not name.startswith(prefix) or (name.startswith(".") and not prefix):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                if os.access(entry.path, os.R_OK | os.X_OK):
                    yield name + "/"
            elif name.lower().endswith(suffixes) and os.access(entry.path, os.R_OK):
                yield name


def complete_path(value: str, suffixes: tuple[str, ...] = IMPORT_SUFFIXES) -> str | None:
    """What ``value`` completes to, or None: a single match whole, else their common start,
    else the first match in order (typing on narrows it down)."""
    if not value:
        return None
    head, _, prefix = value.rpartition("/")
    folder = Path(os.path.expanduser(head + "/" if head or value.startswith("/") else "."))
    try:
        names = sorted(_candidates(folder, prefix, suffixes))
    except OSError:  # not a folder, not readable, gone: nothing to suggest
        return None
    if not names:
        return None
    common = os.path.commonprefix(names)  # noqa: RUF071 (names, not paths)
    chosen = common if len(names) > 1 and len(common) > len(prefix) else names[0]
    suggestion = value[: len(value) - len(prefix)] + chosen
    return suggestion if suggestion != value else None


class PathSuggester(Suggester):
    """Textual's ``Suggester`` over the file system (read in a thread, never cached)."""

    def __init__(self, suffixes: tuple[str, ...] = IMPORT_SUFFIXES) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.suffixes = suffixes

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(complete_path, value, self.suffixes)


class PathInput(Input):
    """An ``Input`` with the path suggester, where Tab accepts the suggestion.

    Without a suggestion Tab moves on to the next field as usual.
    """

    BINDINGS = [
        Binding("tab", "accept_suggestion", "Compléter", show=False, id="path_complete"),
    ]

    def __init__(self, value: str = "", **kwargs: object) -> None:
        super().__init__(value, suggester=PathSuggester(), **kwargs)  # type: ignore[arg-type]

    @property
    def suggestion(self) -> str:
        return self._suggestion

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "accept_suggestion":
            return bool(self._suggestion) and self.cursor_at_end
        return super().check_action(action, parameters)

    def action_accept_suggestion(self) -> None:
        if self._suggestion:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
