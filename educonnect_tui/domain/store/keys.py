"""The service's secret keys: they sign the audit trail and seal the staff's TOTP secrets.

A key kept in the database protects nothing against whoever can write to the database:
they would recompute every hash of the trail and read every OTP secret. So the keys live
in a file of their own (``Settings.key_path``: ``EDUCONNECT_KEY_FILE``, by default next
to the SQLite database or in the data directory), readable by the service's user only
(0600, in a 0700 folder when we create it). Someone who can write to the database but
cannot read that file can neither add nor rewrite a record that ``audit.verify`` accepts,
nor read a secret.

The file is a keyring (JSON): every key ever used, each with an id and two independent
random sub-keys, one for HMAC-SHA256 over audit records, one for AES-GCM over TOTP
secrets. New records and secrets use the current key; each record keeps the id of the
key that signed it, so a rotation (``rotate``) adds a key and keeps the old ones for
verifying what they signed.

The file is created on first use (``db upgrade`` or the first record) with ``link()``,
which never replaces an existing file, even when two processes start at once. It is
never created in place of a lost one: a database that already holds signed records or
sealed secrets refuses to start without its keys (``KeyFileError``), since a new key
would make every earlier record look forged and every secret unreadable.

The file also states how many records the trail held before it existed (``Legacy``):
plain SHA-256 records that anyone who can write to the database could compute. Written
when the file is created (0 for a new database), kept through rotations, restated only
by ``demo --reset`` when it empties the trail, it lets ``audit.verify`` accept unsigned
records as exactly that prefix and nothing else. It is protected as the keys are, by
the file's permissions: whoever can rewrite the file can also replace the keys. A file
made before this statement existed gets one at ``db upgrade``, from the trail as it is
then (until then ``verify`` says the older records are not attested).

Sessions find the keys through ``session.info`` (``INFO_KEY``), set by the session
factory of ``Services``: the domain functions that need them take a session, as they
always have.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ..model.errors import DomainError, os_reason
from ..model.tables import AuditEvent, Staff
from . import private

INFO_KEY = "educonnect_keys"
_FORMAT = "educonnect-keyring"
_VERSION = 1
_SUB_KEY_BYTES = 32
_NONCE_BYTES = 12
SEALED_PREFIX = "aesgcm:"
# The ``prev_hash`` of a trail's first record (``audit.py``), and the last hash of an
# empty one.
GENESIS = "0" * 64


class KeyFileError(DomainError):
    """The key file is missing where it is needed, unreadable, or readable by others."""


class SecretUnreadable(DomainError):
    """A stored TOTP secret cannot be opened with the keyring (tampered, or never sealed)."""


@dataclass(frozen=True)
class Key:
    id: str
    created: str
    audit: bytes
    totp: bytes

    @classmethod
    def new(cls, key_id: str, now: dt.datetime) -> Key:
        return cls(
            id=key_id,
            created=now.astimezone(dt.UTC).isoformat(timespec="seconds"),
            audit=secrets.token_bytes(_SUB_KEY_BYTES),
            totp=secrets.token_bytes(_SUB_KEY_BYTES),
        )

    def sign(self, payload: bytes) -> str:
        """HMAC-SHA256 of an audit record's canonical content, in hex (64 characters)."""
        return hmac.new(self.audit, payload, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Legacy:
    """The unsigned records the trail held when the key file was made: how many, and the
    hash of the last one (``GENESIS`` when none), which covers all of them through the
    chain."""

    records: int
    last_hash: str


# What a key file made with its database states: no record older than it.
NO_LEGACY = Legacy(records=0, last_hash=GENESIS)


@dataclass(frozen=True)
class Keyring:
    keys: tuple[Key, ...]
    current_id: str
    # None: a file made before the statement existed (``db upgrade`` adds it).
    legacy: Legacy | None = None

    @property
    def current(self) -> Key:
        key = self.get(self.current_id)
        assert key is not None
        return key

    def get(self, key_id: str) -> Key | None:
        return next((k for k in self.keys if k.id == key_id), None)

    def with_new_key(self, now: dt.datetime) -> Keyring:
        numbers = [int(k.id[1:]) for k in self.keys if k.id[1:].isdigit()]
        key = Key.new(f"k{max(numbers, default=0) + 1}", now)
        return replace(self, keys=(*self.keys, key), current_id=key.id)

    def to_text(self) -> str:
        def b64(raw: bytes) -> str:
            return base64.b64encode(raw).decode()

        data: dict[str, Any] = {
            "format": _FORMAT,
            "version": _VERSION,
            "current": self.current_id,
            "keys": [
                {"id": k.id, "created": k.created, "audit": b64(k.audit), "totp": b64(k.totp)}
                for k in self.keys
            ],
        }
        if self.legacy is not None:
            data["legacy"] = {
                "records": self.legacy.records,
                "last_hash": self.legacy.last_hash,
            }
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_text(cls, text: str) -> Keyring:
        """Raises ValueError (or KeyError, TypeError) on anything but a complete keyring."""
        data = json.loads(text)
        if data.get("format") != _FORMAT or data.get("version") != _VERSION:
            raise ValueError("format inconnu")
        keys = tuple(
            Key(
                id=str(entry["id"]),
                created=str(entry["created"]),
                audit=base64.b64decode(entry["audit"], validate=True),
                totp=base64.b64decode(entry["totp"], validate=True),
            )
            for entry in data["keys"]
        )
        if any(len(k.audit) != _SUB_KEY_BYTES or len(k.totp) != _SUB_KEY_BYTES for k in keys):
            raise ValueError("clé de longueur inattendue")
        legacy = None
        if "legacy" in data:
            records, last_hash = data["legacy"]["records"], data["legacy"]["last_hash"]
            if (
                type(records) is not int
                or records < 0
                or not isinstance(last_hash, str)
                or len(last_hash) != len(GENESIS)
            ):
                raise ValueError("enregistrements antérieurs mal décrits")
            legacy = Legacy(records=records, last_hash=last_hash)
        ring = cls(keys=keys, current_id=str(data["current"]), legacy=legacy)
        if ring.get(ring.current_id) is None:
            raise ValueError("clé courante absente")
        return ring


# --------------------------------------------------------------------------- the file


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Serialises creation and rotation between processes (an advisory lock on the folder)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _staged(folder: Path, text: str) -> str:
    """A complete, fsynced 0600 copy of ``text`` in ``folder``, under a temporary name."""
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".educonnect-keys.", suffix=".tmp")
    try:
        os.fchmod(fd, private.FILE_MODE)
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return temporary


def read_keyring(path: Path) -> Keyring:
    """The keyring in ``path``; refused when others may read it, or when it is damaged."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise
    except OSError as error:
        cause = os_reason(error)
        raise KeyFileError(
            f"fichier de clés {path} illisible ({cause})\u00a0: indiquez le fichier lui-même."
        ) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise KeyFileError(
            f"fichier de clés {path} illisible (ce n'est pas un fichier)\u00a0: "
            "indiquez le fichier lui-même."
        )
    with os.fdopen(fd, "rb") as file:
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise KeyFileError(
                f"fichier de clés {path} accessible à d'autres utilisateurs (droits {mode:04o}) : "
                f"rendez-le privé avec « chmod 600 {path} »."
            )
        raw = file.read()
    try:
        return Keyring.from_text(raw.decode("utf-8"))
    except (ValueError, KeyError, TypeError, binascii.Error):  # UnicodeDecodeError too
        raise KeyFileError(
            f"fichier de clés {path} endommagé\u00a0: restaurez-le depuis une sauvegarde."
        ) from None


def _create(path: Path, now: dt.datetime, legacy: Legacy) -> Keyring:
    """A first keyring at ``path``; if another process made one meanwhile, that one."""
    folder = path.parent
    private.make_folders(folder)
    with _folder_lock(folder):
        if path.exists():
            return read_keyring(path)
        ring = Keyring(keys=(Key.new("k1", now),), current_id="k1", legacy=legacy)
        temporary = _staged(folder, ring.to_text())
        try:
            os.link(temporary, path)  # never replaces a file that exists
        except FileExistsError:
            return read_keyring(path)
        finally:
            os.unlink(temporary)
        _fsync_folder(folder)
    return ring


def _rewrite(path: Path, change: Callable[[Keyring], Keyring]) -> Keyring:
    """The keyring at ``path`` re-read under the lock, changed, and replaced whole,
    atomically."""
    folder = path.parent
    with _folder_lock(folder):
        ring = change(read_keyring(path))
        temporary = _staged(folder, ring.to_text())
        try:
            os.replace(temporary, path)
        except OSError:
            os.unlink(temporary)
            raise
        _fsync_folder(folder)
    return ring


def add_key(path: Path, now: dt.datetime) -> tuple[Keyring, Key]:
    """Add a new current key to the keyring at ``path``; the old ones stay for what they
    signed, and so does the statement of the older records."""
    ring = _rewrite(path, lambda old: old.with_new_key(now))
    return ring, ring.current


def state_legacy(path: Path, legacy: Legacy) -> Keyring:
    """Write ``legacy`` as the key file's statement of the records older than it."""
    return _rewrite(path, lambda old: replace(old, legacy=legacy))


# --------------------------------------------------------------------------- the store


def unsigned_prefix(session: Session) -> Legacy:
    """The unsigned records at the start of the trail, as the database holds them now."""
    first_signed = session.scalar(
        select(func.min(AuditEvent.id)).where(AuditEvent.key_id.is_not(None))
    )
    unsigned: list[ColumnElement[bool]] = [AuditEvent.key_id.is_(None)]
    if first_signed is not None:
        unsigned.append(AuditEvent.id < first_signed)
    count = session.scalar(select(func.count()).select_from(AuditEvent).where(*unsigned)) or 0
    last = session.scalar(
        select(AuditEvent.hash).where(*unsigned).order_by(AuditEvent.id.desc()).limit(1)
    )
    return Legacy(records=int(count), last_hash=last or GENESIS)


def _holds_keyed_data(session: Session) -> bool:
    signed = session.scalar(select(AuditEvent.id).where(AuditEvent.key_id.is_not(None)).limit(1))
    if signed is not None:
        return True
    sealed = session.scalar(
        select(Staff.id).where(Staff.totp_secret.startswith(SEALED_PREFIX)).limit(1)
    )
    return sealed is not None


class KeyStore:
    """The keyring of one key file, read once per process and re-read on an unknown key id
    (a rotation by another process)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ring: Keyring | None = None
        self._lock = threading.Lock()

    def ring(self, session: Session) -> Keyring:
        with self._lock:
            if self._ring is None:
                self._ring = self._open(session)
            return self._ring

    def _open(self, session: Session) -> Keyring:
        try:
            return read_keyring(self.path)
        except FileNotFoundError:
            pass
        if _holds_keyed_data(session):
            raise KeyFileError(
                f"fichier de clés {self.path} introuvable alors que la base contient des "
                "enregistrements signés et des secrets chiffrés avec lui : restaurez-le depuis "
                "une sauvegarde (ou indiquez son chemin par EDUCONNECT_KEY_FILE)."
            )
        return _create(self.path, dt.datetime.now(dt.UTC), unsigned_prefix(session))

    def fresh(self, session: Session) -> Keyring:
        """The keyring as the file holds it now (another process may have changed it)."""
        self.forget()
        return self.ring(session)

    def state_legacy(self, legacy: Legacy) -> None:
        """Restate the records older than the key file (``state_legacy``), in this process
        too."""
        with self._lock:
            self._ring = state_legacy(self.path, legacy)

    def attest_legacy(self, session: Session) -> bool:
        """Give a key file made before the statement existed one, from the trail as it is
        now; whether it had to."""
        if self.fresh(session).legacy is not None:
            return False
        self.state_legacy(unsigned_prefix(session))
        return True

    def key(self, session: Session, key_id: str) -> Key | None:
        found = self.ring(session).get(key_id)
        if found is None:
            with self._lock:
                try:
                    self._ring = read_keyring(self.path)
                except FileNotFoundError:
                    return None
                found = self._ring.get(key_id)
        return found

    def forget(self) -> None:
        """Read the file again at the next use (after this process rotated it)."""
        with self._lock:
            self._ring = None


def store_of(session: Session) -> KeyStore:
    store = session.info.get(INFO_KEY)
    if not isinstance(store, KeyStore):
        raise RuntimeError("session sans fichier de clés\u00a0: ouvrez-la par Services.sessions")
    return store


def session_info(store: KeyStore) -> dict[str, Any]:
    """What ``Services`` gives every session it makes."""
    return {INFO_KEY: store}


def current_key(session: Session) -> Key:
    return store_of(session).ring(session).current


def key_named(session: Session, key_id: str) -> Key | None:
    return store_of(session).key(session, key_id)


# --------------------------------------------------------------------------- TOTP secrets


def _aad(staff_id: int) -> bytes:
    # Bound to the row: a sealed secret copied onto another staff member does not open.
    return f"educonnect-totp:{staff_id}".encode()


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


def seal_with(key: Key, staff_id: int, secret: str) -> str:
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(key.totp).encrypt(nonce, secret.encode(), _aad(staff_id))
    body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{SEALED_PREFIX}{key.id}:{body}"


def seal_totp(session: Session, staff_id: int, secret: str) -> str:
    """What the ``staff.totp_secret`` column stores: the secret sealed with the current key."""
    return seal_with(current_key(session), staff_id, secret)


def open_totp(session: Session, staff_id: int, stored: str) -> str:
    """The base32 secret of a sealed ``staff.totp_secret``; ``SecretUnreadable`` otherwise.

    A value in clear is refused, not used: ``db upgrade`` seals every secret, so a clear
    one was written by someone else, who would then know the codes.
    """
    unreadable = SecretUnreadable(
        "Le secret OTP de ce compte est illisible (modifié, ou non chiffré\u00a0: lancez "
        "« educonnect-tui db upgrade »)\u00a0: faites-le renouveler par l'administrateur."
    )
    if not is_sealed(stored):
        raise unreadable
    key_id, _, body = stored[len(SEALED_PREFIX) :].partition(":")
    key = key_named(session, key_id)
    if key is None:
        raise unreadable
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        return AESGCM(key.totp).decrypt(nonce, sealed, _aad(staff_id)).decode()
    except (InvalidTag, ValueError, binascii.Error):
        raise unreadable from None


def seal_clear_secrets(session: Session) -> int:
    """Seal every TOTP secret still in clear (written before the keys existed); how many."""
    clear = session.execute(
        select(Staff.id, Staff.totp_secret).where(~Staff.totp_secret.startswith(SEALED_PREFIX))
    ).all()
    if not clear:
        return 0
    key = current_key(session)
    for staff_id, secret in clear:
        session.get_one(Staff, staff_id).totp_secret = seal_with(key, staff_id, secret)
    session.flush()
    return len(clear)


def reseal_secrets(session: Session, key: Key) -> int:
    """Seal every secret again with ``key`` (after a rotation); how many."""
    count = 0
    for member in session.scalars(select(Staff).order_by(Staff.id)):
        secret = open_totp(session, member.id, member.totp_secret)
        member.totp_secret = seal_with(key, member.id, secret)
        count += 1
    session.flush()
    return count
