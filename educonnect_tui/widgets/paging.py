"""PgUp/PgDn over pages read from SQL: whether the key applies (greyed otherwise)."""

from __future__ import annotations


def page_key_applies(action: str, number: int | None, total: int, size: int) -> bool | None:
    """``next_page`` / ``previous_page`` on page ``number`` (None: nothing loaded yet)."""
    if action == "next_page":
        return None if number is None or (number + 1) * size >= total else True
    if action == "previous_page":
        return None if number is None or number == 0 else True
    return True
