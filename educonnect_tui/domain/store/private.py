"""Files and folders only the service's user may read: the one place they are made so.

The database, the key file and the technical log hold hashes, keys and error details:
each is 0600, and every folder the service creates for them is 0700, the parents it
creates included (``Path.mkdir(parents=True)`` gives its mode to the last folder only,
the others get 0777 minus the umask: an empty HOME's ``~/.local/share`` would be 0755).
"""

from __future__ import annotations

import stat
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def make_folders(folder: Path) -> Path:
    """Create ``folder`` and whichever of its parents are missing, each 0700.

    Folders that already exist are left as they are: they are not ours to change.
    """
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        path.mkdir(mode=FOLDER_MODE, exist_ok=True)
    return folder


def narrow(path: Path) -> None:
    """A file others may read (made 0644 by an earlier version) becomes 0600 again.

    Absent, or not ours to change: nothing more to do here.
    """
    try:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(FILE_MODE)
    except OSError:
        return
