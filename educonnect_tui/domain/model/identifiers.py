"""Identifiers with rules (docs/domain.md, « Identifiers »): UAI, INE, logins and search keys."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

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
            f"UAI « {excerpt(raw.strip())} » invalide\u00a0: 7 chiffres suivis d'une lettre."
        )
    expected = uai_key(match.group(1))
    if match.group(2) != expected:
        raise InvalidInput(
            f"UAI « {value} » invalide\u00a0: la lettre de contrôle devrait être {expected}."
        )
    return value


def normalize_ine(raw: str) -> str:
    value = raw.strip().upper()
    if not _INE_RE.match(value):
        raise InvalidInput(
            f"INE « {excerpt(raw.strip())} » invalide\u00a0: "
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


# Arabic: the short vowels and other marks (tashkeel), Quranic marks and the tatweel are
# optional in writing; Hebrew: the vowel points (niqqud) and cantillation. Names are
# found with or without them.
_OPTIONAL_MARKS = re.compile("[\u0591-\u05c7\u0610-\u061a\u0640\u064b-\u065f\u0670\u06d6-\u06ed]")
# Letters written either way in names: the alef forms, alef maqsura and yeh, teh
# marbuta and heh, the hamza seats, the Persian yeh and kaf.
_ARABIC_VARIANTS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ئ": "ي",
        "ؤ": "و",
        "ة": "ه",
        "ک": "ك",
    }
)
# Scripts written without spaces between words (or whose names are short runs of
# syllables): each character is a word of its own, so any part of a name finds it.
_ONE_CHARACTER_WORDS = (
    (0x1100, 0x11FF),  # Hangul jamo
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility jamo
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3FFFF),  # CJK extensions B and beyond
)


def _one_character_word(char: str) -> bool:
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in _ONE_CHARACTER_WORDS)


def _unfolded_words(text: str) -> list[str]:
    """The words of the scripts ``fold`` drops (Arabic, Hebrew, Chinese…), normalised.

    Case-folded, without optional marks or letter variants; Chinese, Japanese and Korean
    characters one by one. Letters that ``fold`` keeps are left to it.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _OPTIONAL_MARKS.sub("", text).translate(_ARABIC_VARIANTS)
    words: list[str] = []
    current: list[str] = []
    for char in text:
        kept = unicodedata.category(char)[0] in "LMN" and not re.search(r"[a-z0-9]", fold(char))
        if kept and not _one_character_word(char):
            current.append(char)
            continue
        if current:
            words.append("".join(current))
            current = []
        if kept:
            words.append(char)
    if current:
        words.append("".join(current))
    return [w for w in words if unicodedata.category(w[0])[0] != "M"]


def _search_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", fold(text)) + _unfolded_words(text)


def search_key(*parts: str) -> str:
    """The text stored for accent- and case-insensitive search: its words, single spaces.

    Latin, Cyrillic and Greek words folded to ASCII; the words of other scripts as
    ``_unfolded_words`` gives them. A typed query goes through the same rule
    (``search_terms``), so both sides always agree.
    """
    return " ".join(_search_words(" ".join(parts)))


SEARCH_TEXT_MAX_LENGTH = 500  # ``Account.search_text``


def guardian_search_key(
    last_name: str, first_name: str, login: str, children: Iterable[tuple[str, str]]
) -> str:
    """A guardian's ``search_key``, then the words of their children's names it lacks.

    Staff look a parent up by the child's name (« Martin » finds Léa Martin's mother
    Mme Diallo). ``children`` are (last, first) names, those the guardian is the legal
    representative of; their words are added once each while the text stays within the
    column, the guardian's own words always first.
    """
    text = search_key(last_name, first_name, login)
    seen = set(text.split())
    for child_last, child_first in children:
        for word in search_key(child_last, child_first).split():
            if word not in seen and len(text) + 1 + len(word) <= SEARCH_TEXT_MAX_LENGTH:
                text = f"{text} {word}" if text else word
                seen.add(word)
    return text


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
    """A query cut into the words of ``search_key``; each must start a word of the account."""
    return _search_words(query)


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


# What a login typed by hand may be: what ``login_base`` forms, with « - » and « _ » too.
_TYPED_LOGIN = re.compile(r"[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?")
TYPED_LOGIN_RULE = (
    "lettres minuscules sans accent, chiffres, point, tiret ou tiret bas, sans espace, "
    f"{LOGIN_MAX_LENGTH} caractères au plus, une lettre ou un chiffre au début et à la fin"
)


def typed_login(login: str) -> str | None:
    """A login typed by hand, in the form it is stored (trimmed, lower case), or None
    when it breaks the rule: everyone types it at every sign-in, on any keyboard, and
    sign-in compares logins without case, so « H.Martin » is « h.martin »."""
    login = login.strip().lower()
    if len(login) > LOGIN_MAX_LENGTH or not _TYPED_LOGIN.fullmatch(login) or ".." in login:
        return None
    return login


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
