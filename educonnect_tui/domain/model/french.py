"""French grammar for counted words and names: « 1 compte », « 2 comptes », « d'Émilie ».

Every sentence that counts accounts or names a person goes through here, so that one
account is never « 1 compte(s) » and a name starting with a vowel is never « de Émilie ».
"""

from __future__ import annotations

import unicodedata

NBSP = "\u00a0"
# Between groups of three digits: « 1 392 » (a narrow no-break space, as French prints it).
THOUSANDS = "\u202f"


def number(value: int) -> str:
    """« 1 392 », « 100 000 »: the digits grouped by three, never broken across lines."""
    return f"{value:,}".replace(",", THOUSANDS)


def plural(singular: str) -> str:
    """The regular plural of each word: « compte bloqué » → « comptes bloqués »."""
    return " ".join(w if w.endswith(("s", "x", "z")) else w + "s" for w in singular.split(" "))


def count(number: int, singular: str, plural_form: str | None = None) -> str:
    """« 0 compte », « 1 compte », « 2 comptes »: French takes the singular below two."""
    return f"{number} {agreed(number, singular, plural_form)}"


def agreed(number: int, singular: str, plural_form: str | None = None) -> str:
    """The word alone, agreed with ``number``: « il devra » / « ils devront »."""
    return singular if abs(number) < 2 else (plural_form or plural(singular))


def starts_with_vowel(word: str) -> bool:
    base = unicodedata.normalize("NFD", word.strip()[:1])[:1].lower()
    return base != "" and base in "aeiouy"


def of(name: str) -> str:
    """« de Jules », « d'Émilie », « d'Elif »: the elision before a vowel."""
    return f"d'{name}" if starts_with_vowel(name) else f"de {name}"
