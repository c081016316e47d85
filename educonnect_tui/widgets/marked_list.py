"""A SelectionList whose ticks read without colour: ✔ in the box, or nothing."""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import OptionList, SelectionList
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.option_list import OptionDoesNotExist


class MarkedSelectionList(SelectionList[str]):
    """A SelectionList whose box shows ✔ or nothing: the stock box draws the same "X" for
    both states and tells them apart by colour only (unreadable with NO_COLOR)."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        if len(segments) < 3 or segments[1].text != ToggleButton.BUTTON_INNER:
            return strip
        try:
            option = self.get_option_at_index(int(self.scroll_offset.y) + y)
        except OptionDoesNotExist:
            return strip
        mark = "✔" if option.value in self.selected else " "
        segments[1] = Segment(mark, segments[1].style)
        return Strip(segments, strip.cell_length)

    def _on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Toggle the option the key was pressed on, not the one highlighted by the time the
        message is handled: keys arriving in a burst (paste, slow SSH) would otherwise tick
        the wrong line, or the same line twice."""
        event.stop()
        event.prevent_default()  # the stock handler would toggle the highlighted line too
        self.toggle(self.get_option_at_index(event.option_index))

    def on_selection_list_selected_changed(self) -> None:
        # The stock list repaints only the toggled line; a level ticks several lines.
        self.refresh()
