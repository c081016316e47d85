"""Forms whose keys may be typed faster than the screen: Entrée and Tab move the focus now.

Over SSH a whole line often arrives at once (« identifiant ⏎ mot de passe ⏎ »).
``Input.focus()`` takes effect only after the keys already queued, which are then typed
into the field just left; ``Screen.set_focus`` and ``Screen.focus_next`` move it at
once, so each key lands where the person meant it. The screens bind ``next_field`` to
Entrée and ``tab_next`` / ``tab_previous`` to Tab (``keys``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.actions import SkipAction
from textual.widgets import Input

if TYPE_CHECKING:
    from textual.screen import Screen

    _Base = Screen[Any]
else:
    _Base = object


class TypedAheadFields(_Base):
    """Mixed into a screen that lists its typed fields in order (``typed_fields``)."""

    def typed_fields(self) -> list[Input]:
        raise NotImplementedError

    def last_field_entered(self) -> None:
        """Entrée on the last field: by default the key goes on to the Input, whose
        ``Submitted`` comes after the characters typed before it."""
        raise SkipAction()

    def action_next_field(self) -> None:
        fields = self.typed_fields()
        focused = self.focused
        if not isinstance(focused, Input) or focused not in fields:
            raise SkipAction()
        if focused is fields[-1]:
            self.last_field_entered()
        else:
            self.set_focus(fields[fields.index(focused) + 1])

    def action_tab_next(self) -> None:
        self.focus_next()

    def action_tab_previous(self) -> None:
        self.focus_previous()
