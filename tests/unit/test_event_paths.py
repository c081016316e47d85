"""How the journal's event view lays out a recorded path: whole, cut after its folders."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from educonnect_tui.screens.audit_event import path_lines

PDF = "/srv/partages/secretariat/Documents/EduConnect/notification_eleves_0750655E_185401.pdf"


def test_a_long_path_breaks_after_a_separator_and_keeps_its_suffix() -> None:
    assert path_lines(PDF, 40) == [
        "/srv/partages/secretariat/Documents/",
        "EduConnect/",
        "notification_eleves_0750655E_185401.pdf",
    ]
    # A name longer than a line loses its start, never its end.
    assert path_lines(PDF, 30)[-1] == "…on_eleves_0750655E_185401.pdf"


def test_a_path_that_fits_is_one_line() -> None:
    assert path_lines("/tmp/a.pdf", 40) == ["/tmp/a.pdf"]


@given(
    st.lists(st.text("abcé_.-0123456789", min_size=1, max_size=30), min_size=1, max_size=8),
    st.integers(min_value=8, max_value=120),
)
def test_every_line_fits_and_the_end_is_never_lost(parts: list[str], width: int) -> None:
    path = "/" + "/".join(parts)
    lines = path_lines(path, width)
    assert all(len(line) <= width for line in lines)
    tail = lines[-1].removeprefix("…")
    assert tail and path.endswith(tail)
    if all(len(p) + 1 <= width for p in parts):
        assert "".join(lines) == path  # nothing cut when every name fits a line
