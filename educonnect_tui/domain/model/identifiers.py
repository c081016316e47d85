"""Identifiers with rules (docs/domain.md, « Identifiers »): UAI, INE, logins and search keys."""

from __future__ import annotations

import re
import unicodedata

from .errors import InvalidInput
from .names import NAME_PUNCTUATION
from .printable import excerpt

UAI_KEY_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_UAI_RE = re.compile(r"^(\d{7})([A-Z])$")
_INE_RE = re.compile(r"^[0-9A-Z]{11}$")

LOGIN_MAX_LENGTH = 32
# Letters that ASCII folding by decomposition does not reach.
_SPECIAL_FOLDS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ø": "o",
        "Ø": "o",
        "đ": "d",
        "Đ": "d",
        "ł": "l",
        "Ł": "l",
        "þ": "th",
        "Þ": "th",
        "ð": "d",
        "Ð": "d",
        "ı": "i",
    }
)


# Ukrainian, Russian and Greek pupils are common enough that their names should give a
# readable login rather than the fallback: a plain, lossy transliteration is enough.
_TRANSLITERATION = str.maketrans(
    {
        **dict(zip("абвгдезийклмнопрстуфыэ", "abvgdezijklmnoprstufye", strict=True)),
        "ё": "e",
        "ж": "zh",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ъ": "",
        "ь": "",
        "ю": "yu",
        "я": "ya",
        "є": "ye",
        "і": "i",
        "ї": "yi",
        "ґ": "g",
        **dict(zip("αβγδεζηικλμνξοπρστυφω", "abgdezeiklmnxoprstyfo", strict=True)),
        "θ": "th",
        "χ": "ch",
        "ψ": "ps",
        "ς": "s",
    }
)


def uai_key(digits: str) -> str:
    """The check letter of a UAI: the 7-digit number mod 23 indexed into the key alphabet."""
    return UAI_KEY_LETTERS[int(digits) % 23]


def normalize_uai(raw: str) -> str:
    """A valid UAI in canonical form, or ``InvalidInput`` saying what is wrong."""
    value = raw.strip().upper()
    match = _UAI_RE.match(value)
    if not match:
        raise InvalidInput(
            f"UAI « {excerpt(raw.strip())} » invalide : 7 chiffres suivis d'une lettre."
        )
    expected = uai_key(match.group(1))
    if match.group(2) != expected:
        raise InvalidInput(
            f"UAI « {value} » invalide : la lettre de contrôle devrait être {expected}."
        )
    return value


def normalize_ine(raw: str) -> str:
    value = raw.strip().upper()
    if not _INE_RE.match(value):
        raise InvalidInput(
            f"INE « {excerpt(raw.strip())} » invalide : "
            "11 caractères, chiffres et lettres majuscules."
        )
    return value


def fold(text: str) -> str:
    """Lower-case ASCII approximation of ``text``: accents, ligatures and case removed.

    Letters of other scripts that have no ASCII decomposition are dropped; callers that
    need a non-empty result (logins) supply their own fallback.
    """
    text = unicodedata.normalize("NFKC", text).translate(_SPECIAL_FOLDS)
    decomposed = unicodedata.normalize("NFKD", text)
    decomposed = "".join(
        ch.lower().translate(_TRANSLITERATION) if ord(ch) > 127 else ch for ch in decomposed
    )
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii")
    return ascii_only.lower()


def search_key(*parts: str) -> str:
    """The text stored for accent- and case-insensitive search: folded words, single spaces."""
    words = re.findall(r"[a-z0-9]+", fold(" ".join(parts)))
    return " ".join(words)


SORT_KEY_MAX_LENGTH = 500


def _sort_part(text: str) -> str:
    letters = []
    for char in unicodedata.normalize("NFC", text):
        folded = re.sub(r"[^a-z0-9]", "", fold(char))
        if folded:
            letters.append(folded)
        elif char not in NAME_PUNCTUATION and unicodedata.category(char)[0] == "L":
            letters.append(char.casefold())
    return "".join(letters)


def sort_key(last_name: str, first_name: str) -> str:
    """The one order of people's names, French-style, the same in SQL and in Python.

    Accents, case, apostrophes, hyphens and spaces are ignored (« Aït Ahmed » before
    « Arnaud », « Émilie » among the E, « N'Diaye » with « Ndiaye »), and the last name
    is compared whole before the first name (every Martin before Martin-Dupont). Letters
    with no Latin form (« 李 ») are kept as they are, after the Latin ones, so such a
    name still has a stable place. Latin letters are folded to ASCII around one space, so
    byte order (SQLite, PostgreSQL with collation C, Python) is the intended order.
    """
    return f"{_sort_part(last_name)} {_sort_part(first_name)}"[:SORT_KEY_MAX_LENGTH]


def search_terms(query: str) -> list[str]:
    """A query cut into folded words; every word must appear (in any order) to match."""
    return re.findall(r"[a-z0-9]+", fold(query))


def login_base(first_name: str, last_name: str) -> str:
    """``initial.lastname`` folded to ``[a-z0-9.]``, leaving room for a numeric suffix.

    Names with nothing foldable (e.g. non-Latin scripts) fall back to "x" and "eleve",
    so the result is always a valid login; uniqueness comes from the suffix.
    """
    initial = re.sub(r"[^a-z0-9]", "", fold(first_name))[:1] or "x"
    last = re.sub(r"[^a-z0-9]", "", fold(last_name)) or "compte"
    # 32 characters at most including a suffix of up to 8 digits.
    room = LOGIN_MAX_LENGTH - len(initial) - 1 - 8
    return f"{initial}.{last[:room]}"


def login_with_suffix(base: str, number: int) -> str:
    """``base`` for the first holder, then ``base2``, ``base3``...: never longer than 32."""
    return base if number <= 1 else f"{base}{number}"


def next_login(base: str, taken: set[str]) -> str:
    """The first free login for ``base`` given the logins already taken that start with it."""
    if base not in taken:
        return base
    used = {int(t[len(base) :]) for t in taken if t[len(base) :].isdigit() and t != base}
    number = 2
    while number in used:
        number += 1
    return login_with_suffix(base, number)
