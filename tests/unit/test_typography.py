"""French typography in every message: a no-break space before « : » in the strings of the
code (docstrings aside), so that no wrapped line starts with the colon."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import educonnect_tui

ROOT = Path(educonnect_tui.__file__).parent
BREAKING_BEFORE_COLON = re.compile(r"[^\s{(\[] :(?=[ \"'\\]|$)")


def _strings(path: Path) -> list[tuple[int, str]]:
    tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text()).readline))
    found = []
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.STRING or tok.string.lstrip("rRuUfF")[:1] not in "\"'":
            continue
        before = [t for t in tokens[:i] if t.type not in (tokenize.NL, tokenize.COMMENT)]
        alone = not before or before[-1].type in (
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,
            tokenize.ENCODING,
        )
        if alone and tokens[i + 1].type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            continue  # a docstring
        found.append((tok.start[0], re.sub(r"\{[^{}]*\}", "{}", tok.string)))
    return found


def test_no_breaking_space_before_a_colon_in_any_message() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text[:60]}"
        for path in sorted(ROOT.rglob("*.py"))
        if "migrations" not in path.parts
        for line, text in _strings(path)
        if BREAKING_BEFORE_COLON.search(text)
    ]
    assert not offenders, "\n".join(offenders)
