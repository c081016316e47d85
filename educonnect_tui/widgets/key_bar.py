"""The bottom line of keys: what Textual's Footer shows, drawn as one line of text.

Textual's Footer recomposes a child widget per key whenever the bindings change, and
each one restyles itself (``compact``): 15-35 ms per change here, paid at start-up several
times and again on every filter change of a large school. This bar keeps the look (bold
key, its description, dimmed when it does not apply, the palette key on the right) and
the mouse (a click presses the key), but only re-renders a line of text.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget
from textual.widgets import Input

from .. import keys

Entry = tuple[str, str, str, bool]  # (key, as shown, description, applies)

# Help and the palette, shown on the right of every bar.
_PINNED = {"help", "palette", "palette_colon"}
# Keys that a focused field takes as text.
_TYPED = {"question_mark", "colon"}
_ORDER = {key_id: n for n, key_id in enumerate(keys.ALL_KEYS)}


class KeyBar(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--separator"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        text-overflow: clip;
        .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .key-bar--separator {
            color: $foreground 20%;
        }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._spans: list[tuple[int, int, str, bool]] = []  # (start, end, key, applies)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: object) -> None:
        self.refresh()

    def _keys(self) -> tuple[list[Entry], list[Entry]]:
        """The screen's keys in the registry's order, and those pinned on the right.

        Textual lists a remapped binding after the others: ordered as it gives them, a
        key the user moved would drop off the end of a narrow bar. Help and the palette
        are pinned on the right so that they are never crowded out.
        """
        shown: list[tuple[tuple[bool, int], int, Entry]] = []
        pinned: dict[str, Entry] = {}
        seen: set[str] = set()
        typing = isinstance(self.app.focused, Input)
        for position, (name, (node, binding, enabled, _tip)) in enumerate(
            self.screen.active_bindings.items()
        ):
            entry = (name, keys.key_label(name), keys.description(binding), enabled)
            if binding.id in _PINNED:
                # A field takes « ? » and « : » as text: there, show the key that works.
                if typing and name in _TYPED:
                    continue
                pinned.setdefault(binding.action, entry)
            elif binding.show and binding.action not in seen:
                seen.add(binding.action)  # one entry per action, as the Footer does
                # The screen's own keys first, the app's (quit) last.
                order = (node is self.app, _ORDER.get(binding.id or "", len(_ORDER)))
                shown.append((order, position, entry))
        return [entry for *_, entry in sorted(shown)], list(pinned.values())

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        text_style = self.get_component_rich_style("key-bar--description")
        dim = Style(dim=True)
        keys_, pinned = self._keys()
        # The keys that do not fit whole before the pinned ones are left out (the help
        # screen and the palette list them all), never the pinned ones.
        room = self.size.width - sum(
            1 + cell_len(display) + 1 + cell_len(description)
            for _key, display, description, _on in pinned
        )
        line = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, str, bool]] = []

        def add(key: str, display: str, description: str, enabled: bool) -> None:
            start = line.cell_len
            line.append(display, key_style if enabled else key_style + dim)
            line.append(f" {description}", text_style if enabled else text_style + dim)
            spans.append((start, line.cell_len, key, enabled))

        for key, display, description, enabled in keys_:
            if line.cell_len + cell_len(display) + 1 + cell_len(description) > room:
                break
            add(key, display, description, enabled)
            line.append(" ")
        if pinned and room >= 0:
            line.append(" " * (room - line.cell_len))
            line.append("▏", self.get_component_rich_style("key-bar--separator"))
            for n, entry in enumerate(pinned):
                if n:
                    line.append(" ")
                add(*entry)
        self._spans = spans
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, key, enabled in self._spans:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
