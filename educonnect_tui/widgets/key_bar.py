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

    def _keys(self) -> tuple[list[tuple[str, str, str, bool]], tuple[str, str, str, bool] | None]:
        """(key, shown key, description, applies) for each key shown, and the palette's."""
        app = self.app
        shown: list[tuple[str, str, str, bool]] = []
        seen: set[str] = set()
        palette = None
        for name, (_node, binding, enabled, _tip) in self.screen.active_bindings.items():
            if app.ENABLE_COMMAND_PALETTE and name == app.COMMAND_PALETTE_BINDING:
                palette = (binding.key, app.get_key_display(binding), binding.description, enabled)
            elif binding.show and binding.action not in seen:
                seen.add(binding.action)  # one entry per action, as the Footer does
                display = app.get_key_display(binding)
                shown.append((binding.key, display, binding.description, enabled))
        return shown, palette

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        text_style = self.get_component_rich_style("key-bar--description")
        dim = Style(dim=True)
        keys, palette = self._keys()
        # Docked right like the Footer's: the keys that do not fit whole before it are left
        # out (the help screen and the palette list them all), never the palette key.
        room = self.size.width
        if palette is not None:
            room -= 1 + cell_len(palette[1]) + 1 + cell_len(palette[2])
        line = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, str, bool]] = []

        def add(key: str, display: str, description: str, enabled: bool) -> None:
            start = line.cell_len
            line.append(display, key_style if enabled else key_style + dim)
            line.append(f" {description}", text_style if enabled else text_style + dim)
            spans.append((start, line.cell_len, key, enabled))

        for key, display, description, enabled in keys:
            if line.cell_len + cell_len(display) + 1 + cell_len(description) > room:
                break
            add(key, display, description, enabled)
            line.append(" ")
        if palette is not None and room >= 0:
            line.append(" " * (room - line.cell_len))
            line.append("▏", self.get_component_rich_style("key-bar--separator"))
            add(*palette)
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
