"""Temporary passwords (docs/domain.md), the new-password policy and argon2id hashing."""

from __future__ import annotations

import threading

import pytest
from argon2 import extract_parameters

from educonnect_tui.domain.access.passwords import (
    TEMP_PASSWORD_ALPHABET,
    TEMP_PASSWORD_BITS,
    check_new_password,
    generate_temporary_password,
    hash_many,
    hash_password,
    verify_password,
)
from educonnect_tui.domain.model.errors import Cancelled, InvalidInput
from educonnect_tui.domain.store.settings import HashParams, Settings
from tests.conftest import FAST_HASH


def test_alphabet_has_no_look_alikes_and_enough_entropy() -> None:
    assert not set("0Oo1lI") & set(TEMP_PASSWORD_ALPHABET)
    assert TEMP_PASSWORD_BITS >= 45
    samples = {generate_temporary_password() for _ in range(2000)}
    assert len(samples) == 2000
    assert all(len(p) <= 12 and set(p) <= set(TEMP_PASSWORD_ALPHABET) for p in samples)


def test_default_hash_is_argon2id_with_owasp_minimum() -> None:
    params = extract_parameters(hash_password("abc", HashParams()))
    assert params.type.name == "ID"
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2
    assert params.parallelism >= 1


def test_settings_refuse_weaker_argon2() -> None:
    with pytest.raises(ValueError):
        Settings(argon2_memory_kib=1024)
    with pytest.raises(ValueError):
        Settings(argon2_time_cost=1)


def test_verify_never_raises() -> None:
    stored = hash_password("secret", FAST_HASH)
    assert verify_password(stored, "secret")
    assert not verify_password(stored, "other")
    assert not verify_password(None, "secret")
    assert not verify_password("not-a-hash", "secret")


@pytest.mark.parametrize(
    "bad", ["Court1", "toutminuscule1", "TOUTMAJUSCULE1", "SansChiffre", "Ab1j.dupontX"]
)
def test_policy_refuses_weak_passwords(bad: str) -> None:
    with pytest.raises(InvalidInput, match="au moins 8 caractères"):
        check_new_password(bad, "j.dupont")


def test_policy_accepts_a_good_password() -> None:
    check_new_password("Soleil2026", "j.dupont")


def test_hash_many_keeps_order_and_reports_progress() -> None:
    passwords = [f"pw{i}" for i in range(30)]
    seen: list[int] = []
    hashes = hash_many(passwords, FAST_HASH, workers=2, progress=lambda d, t: seen.append(d))
    assert all(verify_password(h, p) for h, p in zip(hashes, passwords, strict=True))
    assert seen[-1] == 30 and seen == sorted(seen)


def test_hash_many_can_be_cancelled() -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled, match="annulée"):
        hash_many([f"pw{i}" for i in range(30)], FAST_HASH, workers=2, cancel=cancel)


def test_cancelling_hash_many_does_not_wait_for_the_chunks_being_hashed() -> None:
    """A hang-up cancels a notification: the process must end now, not after the chunks.

    At production cost a chunk of 16 passwords takes seconds on a loaded server; the
    hashes being computed are thrown away anyway.
    """
    import multiprocessing
    import time

    slow = HashParams(time_cost=2000, memory_kib=1024, parallelism=1)  # ~1 s a password
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        hash_many([f"pw{i}" for i in range(32)], slow, workers=2, cancel=cancel)
    # One chunk is 4 passwords (32 // (2 workers × 4)): about 4 s if it were awaited.
    assert time.monotonic() - started < 2.0
    assert multiprocessing.active_children() == []
