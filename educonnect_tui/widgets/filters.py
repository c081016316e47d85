"""The home page's filters: classes grouped by level, account states, the guardians' contact
details and the expiry of temporary credentials."""

from __future__ import annotations

import time
from itertools import groupby

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widgets import Input, SelectionList
from textual.widgets.selection_list import Selection

from ..domain.accounts.listing import DivisionRef
from ..domain.model.enums import AccountKind, AccountState
from ..domain.model.identifiers import search_key
from ..domain.model.printable import for_terminal
from .marked_list import MarkedSelectionList
from .state_badge import state_text

LEVEL_PREFIX = "niveau:"
TYPE_AHEAD = 1.0  # seconds between the keys of one type-ahead


class ClassFilter(MarkedSelectionList):
    """Classes under a line per level; ticking a level ticks all its classes.

    ``+`` ticks every class, ``-`` none; an empty choice shows every class.
    """

    BINDINGS = [
        Binding("plus", "all", "Toutes", id="classes_all"),
        Binding("minus", "none", "Aucune", id="classes_none"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._levels: dict[str, list[str]] = {}
        self._typed = ""
        self._typed_at = 0.0

    def on_key(self, event: events.Key) -> None:
        """Type-ahead: « 3 » goes to the 3e, « 3e2 » to 3E2.

        A digit starts it; a letter only continues it (within TYPE_AHEAD seconds), so
        that the page's letter keys (n, e, s…) keep working from this list.
        """
        char = event.character or ""
        now = time.monotonic()
        going_on = bool(self._typed) and now - self._typed_at < TYPE_AHEAD
        if not (char.isdigit() or (going_on and char.isalnum())):
            self._typed = ""
            return
        self._typed = (self._typed if going_on else "") + char
        self._typed_at = now
        wanted = search_key(self._typed)
        for index in range(self.option_count):
            label = str(self.get_option_at_index(index).prompt).lstrip("▸ ").strip()
            if search_key(label).startswith(wanted):
                self.highlighted = index
                break
        event.stop()
        event.prevent_default()

    def set_divisions(self, divisions: list[DivisionRef]) -> None:
        """Fill the list once the classes arrive (they are read in a worker)."""
        options: list[Selection[str]] = []
        self._levels.clear()
        for level, group in groupby(divisions, key=lambda d: d.level):
            names = [d.name for d in group]
            self._levels[level] = names
            options.append(
                Selection(Text(f"▸ {level} (tout le niveau)", style="bold"), LEVEL_PREFIX + level)
            )
            # Shown escaped and never read as markup; the value stays the stored name.
            options += [Selection(Text(f"  {for_terminal(name)}"), name) for name in names]
        self.clear_options()
        self.add_options(options)
        self.highlighted = 0 if options else None

    @property
    def classes_chosen(self) -> tuple[str, ...]:
        return tuple(v for v in self.selected if not v.startswith(LEVEL_PREFIX))

    def on_selection_list_selection_toggled(
        self, event: SelectionList.SelectionToggled[str]
    ) -> None:
        value = event.selection.value
        if not value.startswith(LEVEL_PREFIX):
            return
        names = self._levels[value.removeprefix(LEVEL_PREFIX)]
        for name in names:
            (self.select if value in self.selected else self.deselect)(name)

    def action_all(self) -> None:
        self.select_all()

    def action_none(self) -> None:
        self.deselect_all()


class StateFilter(MarkedSelectionList):
    """The four states, each with its symbol, word and colour (guardians' orange differs)."""

    def __init__(
        self, kind: AccountKind, chosen: tuple[AccountState, ...], *, id: str | None = None
    ) -> None:
        super().__init__(*self._state_options(kind, chosen), id=id)
        self.kind = kind
        self.highlighted = 0

    def on_mount(self) -> None:
        # The options hold the shades of the theme they were made in: remade on a change.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.show_colours_of())

    @staticmethod
    def _state_options(kind: AccountKind, chosen: tuple[AccountState, ...]) -> list[Selection[str]]:
        return [
            Selection(state_text(state, kind, short=False), state.value, state in chosen)
            for state in AccountState
        ]

    def show_colours_of(self, kind: AccountKind | None = None) -> None:
        """Remake the options in ``kind``'s colours (guardians' orange), the ticks kept."""
        self.kind = kind or self.kind
        chosen = self.states_chosen
        highlighted = self.highlighted
        self.clear_options()
        self.add_options(self._state_options(self.kind, chosen))
        self.highlighted = highlighted

    @property
    def states_chosen(self) -> tuple[AccountState, ...]:
        return tuple(AccountState(v) for v in self.selected)


# The contact filters' options: (value, words). « avec » and « sans » of one pair both
# ticked, or neither, is the same as no filter on it.
CONTACT_OPTIONS = (
    ("email:yes", "avec courriel"),
    ("email:no", "sans courriel"),
    ("sms:yes", "mobile pour le SMS"),
    ("sms:no", "sans mobile pour le SMS"),
)


class ContactFilter(MarkedSelectionList):
    """The guardians' contact details: e-mail, a mobile that can receive the SMS."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        options = (Selection(words, value) for value, words in CONTACT_OPTIONS)
        super().__init__(*options, id=id, classes=classes)
        self.highlighted = 0

    def _either(self, prefix: str) -> bool | None:
        yes, no = f"{prefix}:yes" in self.selected, f"{prefix}:no" in self.selected
        return None if yes == no else yes

    @property
    def has_email(self) -> bool | None:
        return self._either("email")

    @property
    def sms_mobile(self) -> bool | None:
        return self._either("sms")


class ExpiryFilter(Input):
    """« Expire dans N jours »: a number of days, empty for no filter."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="N", type="integer", max_length=3, id=id, restrict=r"[0-9]*", compact=True
        )

    @property
    def days(self) -> int | None:
        text = self.value.strip()
        return int(text) if text.isdigit() else None
