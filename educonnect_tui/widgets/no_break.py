"""No line break at a no-break space, in Textual's and Rich's wrapping.

French puts a no-break space before « : » (and inside « »), so that a wrapped line never
starts with the colon. Textual (``textual._wrap``) and Rich (``rich._wrap``) split words
at any Unicode space, the no-break ones included; their word patterns are replaced here
by the same patterns without U+00A0 and U+202F among the breaking spaces. Textual and
Rich are pinned in pyproject.toml; tests/pilot/test_keys.py checks the effect.
"""

from __future__ import annotations

import re

import rich._wrap
import textual._wrap

_WORD = r"(?:[^\s]|[\u00a0\u202f])+"
_BREAK = r"[^\S\u00a0\u202f]"


def install() -> None:
    textual._wrap.re_chunk = re.compile(rf"{_WORD}{_BREAK}*|{_BREAK}+")
    rich._wrap.re_word = re.compile(rf"{_BREAK}*{_WORD}{_BREAK}*")
