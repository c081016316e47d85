"""Temporary passwords, the new-password policy and argon2id hashing.

Hashing is the slow part of a notification (tens of milliseconds per account by
design), so ``hash_many`` spreads it over every core with a process pool and reports
progress per account.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import math
import os
import re
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..model.errors import Cancelled, DomainError, InvalidInput
from ..store.settings import HashParams

# No look-alikes (0/O/o, 1/l/I) and no upper case: what an 11-year-old copies from paper.
TEMP_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
TEMP_PASSWORD_LENGTH = 10
TEMP_PASSWORD_BITS = TEMP_PASSWORD_LENGTH * math.log2(len(TEMP_PASSWORD_ALPHABET))

OWNER_PASSWORD_MIN_LENGTH = 8
# Staff reach every pupil's and guardian's account: a longer password (it is typed at a
# desk, often from a password manager, never by an 11-year-old).
STAFF_PASSWORD_MIN_LENGTH = 12


def password_policy(minimum: int = OWNER_PASSWORD_MIN_LENGTH) -> str:
    """The rule in one French sentence, as the forms show it before anything is typed."""
    return (
        f"Le mot de passe doit comporter au moins {minimum} caractères, dont une majuscule, "
        "une minuscule et un chiffre, et ne pas contenir l'identifiant."
    )


PASSWORD_POLICY = password_policy()
STAFF_PASSWORD_POLICY = password_policy(STAFF_PASSWORD_MIN_LENGTH)


def generate_temporary_password() -> str:
    """A fresh temporary password from ``secrets`` (50 bits: 10 symbols of 32)."""
    return "".join(secrets.choice(TEMP_PASSWORD_ALPHABET) for _ in range(TEMP_PASSWORD_LENGTH))


def check_new_password(
    password: str, login: str, *, minimum: int = OWNER_PASSWORD_MIN_LENGTH
) -> None:
    """Raise ``InvalidInput`` with the policy when ``password`` does not meet it."""
    if (
        len(password) < minimum
        or not re.search(r"[A-Z]", password)
        or not re.search(r"[a-z]", password)
        or not re.search(r"[0-9]", password)
        or (login and login.lower() in password.lower())
    ):
        raise InvalidInput(password_policy(minimum))


def hash_password(password: str, params: HashParams) -> str:
    return params.hasher().hash(password)


@functools.lru_cache(maxsize=4)
def _dummy_hash(params: HashParams) -> str:
    return hash_password(secrets.token_urlsafe(16), params)


def verify_or_spend(stored_hash: str | None, secret: str, params: HashParams) -> bool:
    """Verify, spending the same argon2 time when there is nothing to verify against.

    An unknown identifier must cost what a known one costs, or timing tells who exists.
    """
    if not stored_hash:
        verify_password(_dummy_hash(params), secret)
        return False
    return verify_password(stored_hash, secret)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; never raises for a wrong or malformed hash."""
    if not stored_hash:
        return False
    try:
        return PasswordHasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def worker_count(configured: int) -> int:
    return configured if configured > 0 else (os.cpu_count() or 1)


BACKGROUND_NICENESS = 10


def run_in_background(parent: int) -> None:
    """Initializer of the worker processes (hashing, documents): the parent's helpers only.

    They keep every core busy for the whole job; at the interface's priority a key press
    would queue behind them for a scheduler slice or two (~80 ms on two cores). Lowered,
    they only take what the interface leaves, which is nearly everything.

    They die with ``parent`` (its pid): a notification killed (kill -9, SIGTERM, an SSH
    link that drops) must not leave processes hashing forever and holding the database.
    Ctrl-C and hang-ups reach the whole process group; the parent decides what they mean
    (cancel, then stop its pool), so the workers ignore them.
    """
    with contextlib.suppress(OSError):  # not allowed here: it runs at normal priority
        os.nice(BACKGROUND_NICENESS)
    for name in ("SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    _die_with(parent)


_PR_SET_PDEATHSIG = 1
_WATCH_SECONDS = 0.5


def _die_with(parent: int) -> None:
    """Linux kills us when the parent dies; elsewhere (and as a fallback) a thread watches.

    The watch also covers the parent dying before this runs: we then belong to another
    process already.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_WATCH_SECONDS)
    os._exit(1)


def _hash_chunk(passwords: Sequence[str], params: HashParams) -> list[str]:
    hasher = params.hasher()
    return [hasher.hash(p) for p in passwords]


def hash_many(
    passwords: Sequence[str],
    params: HashParams,
    *,
    workers: int = 0,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[str]:
    """Hash every password, in order, on ``workers`` processes (0: one per core).

    ``progress(done, total)`` is called as hashes complete; setting ``cancel`` stops the
    work and raises ``Cancelled`` (the caller has not written anything yet).
    """
    total = len(passwords)
    count = min(worker_count(workers), max(total, 1))
    if count <= 1 or total < 8:
        results: list[str] = []
        hasher = params.hasher()
        for password in passwords:
            if cancel is not None and cancel.is_set():
                raise Cancelled("Opération annulée\u00a0: aucun mot de passe n'a été modifié.")
            results.append(hasher.hash(password))
            if progress:
                progress(len(results), total)
        return results

    # Small chunks keep the progress bar smooth and cancellation quick.
    chunk = max(1, min(16, total // (count * 4) or 1))
    slices = [(start, passwords[start : start + chunk]) for start in range(0, total, chunk)]
    out: list[str | None] = [None] * total
    done = 0
    with ProcessPoolExecutor(
        max_workers=count, initializer=run_in_background, initargs=(os.getpid(),)
    ) as pool:
        pending: dict[Future[list[str]], int] = {
            pool.submit(_hash_chunk, part, params): start for start, part in slices
        }
        try:
            while pending:
                finished, _ = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                if cancel is not None and cancel.is_set():
                    raise Cancelled("Opération annulée\u00a0: aucun mot de passe n'a été modifié.")
                for future in finished:
                    start = pending.pop(future)
                    hashes = future.result()
                    out[start : start + len(hashes)] = hashes
                    done += len(hashes)
                    if progress:
                        progress(done, total)
        except BrokenProcessPool as error:
            raise DomainError(
                "Un processus de calcul des mots de passe s'est arrêté\u00a0: aucun mot de passe "
                "n'a été modifié, recommencez."
            ) from error
        except BaseException:
            stop_workers(pool)
            raise
    return [h for h in out if h is not None]


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """End a pool's processes now, whatever they are computing, which is thrown away.

    Leaving the pool otherwise waits for the chunks already handed out: seconds at
    production cost on a loaded server, during which a cancelled notification, or a
    process whose SSH link dropped, cannot end. The executor has no public way to do
    this before Python 3.14 (``terminate_workers``).
    """
    processes = dict(getattr(pool, "_processes", None) or {})
    for process in processes.values():
        with contextlib.suppress(Exception):  # already gone
            process.kill()
    for process in processes.values():
        with contextlib.suppress(Exception):
            process.join(1)  # SIGKILL is not ignored: reaped at once
    # The pool sees its processes gone and fails what was left (nobody reads it): no
    # future is cancelled first, which Python 3.11's pool would report from its thread.
    pool.shutdown(wait=True)
