"""The colour rule of account states, and the shades it is drawn in on dark and light themes.

The rule is the EduConnect workflow's own words: « les états de compte rouges et jaunes »
for pupils, « rouge et orange » for guardians. The shades must stay readable on the
background they are drawn on (WCAG AA, 4.5:1) and keep yellow and orange apart.
"""

from __future__ import annotations

import colorsys

import pytest
from textual.color import Color
from textual.theme import BUILTIN_THEMES

from educonnect_tui.domain.accounts.selection import parse_state
from educonnect_tui.domain.model.enums import AccountKind, AccountState, StateColour
from educonnect_tui.widgets import state_badge
from educonnect_tui.widgets.state_badge import SHADES, state_text

S, K, C = AccountState, AccountKind, StateColour

RULE = {
    (K.PUPIL, S.NOT_NOTIFIED): C.RED,
    (K.PUPIL, S.NOTIFIED): C.YELLOW,
    (K.PUPIL, S.ACTIVATED): C.GREEN,
    (K.PUPIL, S.DEACTIVATED): C.GREY,
    (K.GUARDIAN, S.NOT_NOTIFIED): C.RED,
    (K.GUARDIAN, S.NOTIFIED): C.ORANGE,
    (K.GUARDIAN, S.ACTIVATED): C.GREEN,
    (K.GUARDIAN, S.DEACTIVATED): C.GREY,
}


@pytest.mark.parametrize(("kind", "state"), list(RULE))
def test_each_state_has_its_population_colour(kind: AccountKind, state: AccountState) -> None:
    assert state.colour(kind) is RULE[(kind, state)]


def test_colour_names_are_the_workflows_french_words() -> None:
    assert [c.label for c in StateColour] == ["rouge", "jaune", "orange", "vert", "gris"]


def _luminance(color: Color) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in color.rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: Color, b: Color) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _ratios(theme_name: str, colour: StateColour, surfaces: tuple[str, ...]) -> list[float]:
    theme = BUILTIN_THEMES[theme_name]
    system = theme.to_color_system().generate()
    shade = Color.parse(state_badge.theme_variables(theme.dark)[state_badge.variable(colour)])
    return [contrast(shade, Color.parse(system[surface])) for surface in surfaces]


@pytest.mark.parametrize("theme_name", ["textual-dark", "textual-light"])
@pytest.mark.parametrize("colour", list(StateColour))
def test_shades_are_readable_on_the_default_themes(theme_name: str, colour: StateColour) -> None:
    """Lists, panes and dialogs: background, surface and panel."""
    ratios = _ratios(theme_name, colour, ("background", "surface", "panel"))
    assert min(ratios) >= 4.5, f"{colour.label} ({theme_name})\u00a0: {ratios}"


@pytest.mark.parametrize(
    "theme_name", [name for name in BUILTIN_THEMES if not name.startswith("ansi")]
)
def test_shades_are_readable_on_every_builtin_theme(theme_name: str) -> None:
    """A person may pick any theme in the palette: the list's background stays readable."""
    for colour in StateColour:
        (ratio,) = _ratios(theme_name, colour, ("background",))
        assert ratio >= 4.5, f"{colour.label} ({theme_name})\u00a0: {ratio:.2f}"


@pytest.mark.parametrize("dark", [True, False])
def test_yellow_and_orange_stay_apart(dark: bool) -> None:
    """Pupils and guardians meet in the dépannage list and the statistics."""

    def hue(colour: StateColour) -> float:
        r, g, b = Color.parse(SHADES[dark][colour]).normalized
        return colorsys.rgb_to_hls(r, g, b)[0] * 360

    assert hue(C.YELLOW) - hue(C.ORANGE) >= 15
    assert (hue(C.ORANGE) - hue(C.RED)) % 360 >= 15


@pytest.mark.parametrize(("kind", "state"), list(RULE))
def test_the_word_and_the_symbol_are_always_there(kind: AccountKind, state: AccountState) -> None:
    """Outside a running app (a document, a unit test) the text has no colour at all."""
    text = state_text(state, kind, short=False)
    assert text.plain == f"{state.symbol} {state.label}"
    blocked = state_text(state, kind, blocked=True)
    assert blocked.plain.startswith(state.symbol) and blocked.plain.endswith("⊘")


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("rouge", S.NOT_NOTIFIED),
        ("Jaune", S.NOTIFIED),
        ("orange", S.NOTIFIED),
        ("vert", S.ACTIVATED),
        ("GRIS", S.DEACTIVATED),
    ],
)
def test_the_command_line_reads_a_state_by_its_colour(word: str, state: AccountState) -> None:
    """`--state rouge`: the same rule, read the other way."""
    assert parse_state(word) is state
