"""How an account state looks: a symbol and a word, then its colour (NO_COLOR, monochrome
SSH terminals and colour-blind users read the symbol and the word).

Which colour a state has is the domain's rule (``AccountState.colour``); the shade each
colour name is drawn in is here, one for dark themes and one for light ones (yellow on a
light background is unreadable: it becomes a dark ochre). The shades are theme variables
(``$state-yellow``…), which the app declares (``EduConnectApp.get_theme_variable_defaults``)
and a theme may override; a text is coloured with the shades of the theme in use.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual._context import active_app

from ..domain.model.enums import AccountKind, AccountState, StateColour

SHORT_LABELS = {
    AccountState.NOT_NOTIFIED: "non notifié",
    AccountState.NOTIFIED: "non activé",
    AccountState.ACTIVATED: "activé",
    AccountState.DEACTIVATED: "désactivé",
}
BLOCKED_SYMBOL = "⊘"

C = StateColour
# Dark themes: bright shades; light themes: dark ones. Each reads at 4.5:1 or better on
# the textual-dark and textual-light backgrounds (tests/unit/test_state_colours.py).
SHADES: dict[bool, dict[StateColour, str]] = {
    True: {
        C.RED: "#ff7070",
        C.YELLOW: "#f0d43c",
        C.ORANGE: "#ff8c1a",
        C.GREEN: "#5fd35f",
        C.GREY: "#ababab",
    },
    False: {
        C.RED: "#a3001a",
        C.YELLOW: "#665400",
        C.ORANGE: "#8f3c00",
        C.GREEN: "#17612a",
        C.GREY: "#4f4f4f",
    },
}


def variable(colour: StateColour) -> str:
    """The theme variable of a colour name: ``state-yellow`` (``$state-yellow`` in CSS)."""
    return f"state-{colour.value}"


def theme_variables(dark: bool) -> dict[str, str]:
    return {variable(colour): shade for colour, shade in SHADES[dark].items()}


def colour_style(colour: StateColour) -> Style:
    """Bold, in the running app's shade of ``colour``; only bold outside an app."""
    try:
        app = active_app.get()
    except LookupError:
        return Style(bold=True)
    return app.stylesheet.parse_style(f"bold ${variable(colour)}").rich_style


def state_text(
    state: AccountState, kind: AccountKind, *, blocked: bool = False, short: bool = True
) -> Text:
    label = SHORT_LABELS[state] if short else state.label
    text = Text()
    text.append(f"{state.symbol} {label}", style=colour_style(state.colour(kind)))
    if blocked:
        text.append(f" {BLOCKED_SYMBOL}", style=colour_style(StateColour.RED))
    return text
