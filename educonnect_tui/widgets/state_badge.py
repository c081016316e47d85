"""How an account state looks: a symbol and a word, coloured only as a bonus (NO_COLOR,
monochrome SSH terminals and colour-blind users read the symbol and the word)."""

from __future__ import annotations

from rich.text import Text

from ..domain.model.enums import AccountKind, AccountState

SHORT_LABELS = {
    AccountState.NOT_NOTIFIED: "non notifié",
    AccountState.NOTIFIED: "non activé",
    AccountState.ACTIVATED: "activé",
    AccountState.DEACTIVATED: "désactivé",
}
BLOCKED_SYMBOL = "⊘"


def state_text(
    state: AccountState, kind: AccountKind, *, blocked: bool = False, short: bool = True
) -> Text:
    label = SHORT_LABELS[state] if short else state.label
    text = Text(f"{state.symbol} {label}", style=f"bold {state.colour(kind)}")
    if blocked:
        text.append(f" {BLOCKED_SYMBOL}", style="bold red")
    return text
