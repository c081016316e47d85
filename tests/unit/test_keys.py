"""The key registry: French key names, keymap mistakes told, every binding known."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import textual.widgets
from textual.binding import Binding

import educonnect_tui.screens
import educonnect_tui.widgets
from educonnect_tui import keys


def test_keys_read_the_same_french_names_everywhere() -> None:
    assert [keys.key_label(k) for k in ("space", "escape", "enter", "pagedown", "f1")] == [
        "Espace",
        "Échap",
        "Entrée",
        "PgDn",
        "F1",
    ]


def test_a_keymap_typo_and_a_key_given_twice_are_named() -> None:
    problems = keys.keymap_problems({"serach": "ctrl+f", "search": "n", "helpdesk": "f5"})
    assert "id inconnu, ignoré\u00a0: serach" in problems
    assert "n (notify et search)" in problems
    assert "f5" not in problems  # a free key is no problem
    assert "\n" not in problems


def test_a_correct_keymap_has_no_problem() -> None:
    assert keys.keymap_problems({"search": "ctrl+f", "classes_all": "asterisk"}) == ""
    # Keys of different screens may be the same.
    assert keys.keymap_problems({"stats_export": "x"}) == ""


def _classes_of(package: object) -> list[type]:
    found = []
    for module_info in pkgutil.iter_modules(package.__path__):  # type: ignore[attr-defined]
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")  # type: ignore[attr-defined]
        found += [c for _, c in inspect.getmembers(module, inspect.isclass)]
    return found


def _bindings(cls: type) -> list[Binding]:
    out = []
    for item in cls.__dict__.get("BINDINGS", ()):
        out.append(item if isinstance(item, Binding) else Binding(*item))
    return out


def test_every_binding_id_can_be_remapped_and_is_known_to_the_keymap_check() -> None:
    ids = {
        binding.id
        for package in (educonnect_tui.screens, educonnect_tui.widgets)
        for cls in _classes_of(package)
        for binding in _bindings(cls)
    }
    ids.discard(None)
    assert ids <= set(keys.ALL_KEYS) | keys.OTHER_IDS, ids - set(keys.ALL_KEYS) - keys.OTHER_IDS
    assert ids >= keys.OTHER_IDS  # no stale id


def test_textual_keys_that_a_bar_can_show_are_in_french() -> None:
    shown = {
        binding.description
        for cls in _classes_of(textual.widgets)
        for binding in _bindings(cls)
        if binding.show and binding.description
    }
    from textual.command import CommandPalette

    shown |= {b.description for b in _bindings(CommandPalette) if b.show and b.description}
    assert shown <= set(keys.TEXTUAL_DESCRIPTIONS), shown - set(keys.TEXTUAL_DESCRIPTIONS)


def test_help_lines_do_not_repeat_the_key_bar_word() -> None:
    for key in keys.ALL_KEYS.values():
        assert not key.help.lower().startswith(key.description.lower() + "\u00a0:"), key.id
        assert not key.help.lower().startswith(key.description.lower() + "\u00a0:"), key.id
