"""Word-prefix search over accounts, indexed so that it stays instant at a million accounts.

The rule: an account matches when every typed word (folded: accents and case ignored)
starts one of the words of its name, first name or login, in any order — "lefev no"
finds Noé Lefèvre (n.lefevre); Arabic without its vowel marks, Chinese character by
character (``identifiers.search_key``). Each word of ``Account.search_text`` is a row of
``search_token``; a typed word is a range of that table's primary key. The mapper
events below keep the table in step with every ORM write of ``search_text``; bulk
loaders that bypass the ORM call ``token_rows``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, delete, event, exists, insert, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import aliased

from ..model.tables import Account, SearchToken

TOKEN_MAX_LENGTH = 64


def words(search_text: str) -> set[str]:
    """The tokens stored for one account's ``search_text`` (already folded words)."""
    return {word[:TOKEN_MAX_LENGTH] for word in search_text.split()}


def token_rows(account_id: int, search_text: str) -> list[dict[str, Any]]:
    return [{"token": word, "account_id": account_id} for word in sorted(words(search_text))]


def _bounds(term: str) -> tuple[str, str]:
    """``[low, high)`` holding exactly the tokens that start with ``term`` (byte order)."""
    low = term[:TOKEN_MAX_LENGTH]
    after = ord(low[-1]) + 1
    if 0xD800 <= after <= 0xDFFF:  # surrogates are no characters: skip to the next one
        after = 0xE000
    return low, low[:-1] + chr(after)


def starting_with(term: str) -> Select[int]:
    """Ids of the accounts having a word that starts with ``term``: drives a wide search."""
    low, high = _bounds(term)
    return select(SearchToken.account_id).where(SearchToken.token >= low, SearchToken.token < high)


def also_starting_with(term: str) -> ColumnElement[bool]:
    """For a ``starting_with`` range: its account also has a word starting with ``term``.

    Checked on the token index alone (``account_id, token``): the accounts themselves are
    read only for the ids that pass.
    """
    low, high = _bounds(term)
    other = aliased(SearchToken)
    return exists().where(
        other.account_id == SearchToken.account_id, other.token >= low, other.token < high
    )


def has_word_starting(term: str) -> ColumnElement[bool]:
    """The same test correlated to ``Account``: for lists already narrowed to a school.

    Each of the school's rows is tested on the ``(account_id, token)`` index. PostgreSQL
    would otherwise turn the EXISTS into a join and, trusting its estimate of a text range
    (often one row, when a word like « arnau » starts thousands of the académie's
    tokens), drive it from the académie's tokens and walk the school's guardians once for
    each (seconds instead of milliseconds). ``OFFSET 0`` keeps it a per-row test on every
    backend; its cost is bounded by the school's size, not by how common the word is.
    """
    low, high = _bounds(term)
    return (
        select(SearchToken.account_id)
        .where(
            SearchToken.account_id == Account.id,
            SearchToken.token >= low,
            SearchToken.token < high,
        )
        .offset(0)
        .exists()
    )


def _write(connection: Connection, account_id: int, search_text: str) -> None:
    rows = token_rows(account_id, search_text)
    if rows:
        connection.execute(insert(SearchToken), rows)


@event.listens_for(Account, "after_insert")
def _account_inserted(_mapper: Any, connection: Connection, account: Account) -> None:
    _write(connection, account.id, account.search_text)


@event.listens_for(Account, "after_update")
def _account_updated(_mapper: Any, connection: Connection, account: Account) -> None:
    if not sa_inspect(account).attrs.search_text.history.has_changes():
        return
    connection.execute(delete(SearchToken).where(SearchToken.account_id == account.id))
    _write(connection, account.id, account.search_text)
