"""`?` / F1: every key, from the same registry as the bindings, with each binding's id.

The ids are shown because they are what users write in the settings file to remap a key
(``[keymap]`` table: id = "keys"); the keys shown are the remapped ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, cast

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from .. import keys
from ..domain.store.settings import config_file

if TYPE_CHECKING:
    from ..app import EduConnectApp

# (keys, what they do, binding id)
Row = tuple[str, RenderableType, str]

# (keys, what they do): the navigation every list, table and form shares.
NAVIGATION = (
    ("↑ ↓", "Ligne précédente / suivante dans une liste ou un tableau."),
    ("PgUp PgDn", "Page précédente / suivante."),
    ("Début Fin", "Première / dernière ligne."),
    ("Tab Maj+Tab", "Zone ou champ suivant / précédent."),
    ("Entrée", "Valider le champ, ouvrir la ligne sous le curseur."),
    ("Échap", "Revenir en arrière, fermer une fenêtre."),
    ("ctrl+p  :", "Palette de commandes\u00a0: toutes les actions de l'écran, par leur nom."),
)

# Bindings declared outside the registry without a description of their own.
_FALLBACK_HELP = {
    "home_back": "Revenir à la liste depuis la recherche ou un filtre.",
    "classes_all": "Cocher toutes les classes (dans la liste des classes).",
    "classes_none": "Décocher toutes les classes (dans la liste des classes).",
    "helpdesk_down": "Descendre du champ de recherche à la liste des résultats.",
    "path_complete": "Accepter le chemin proposé en gris (→ aussi) ; sinon, champ suivant.",
}
# Screens that do not give a HELP_TITLE of their own.
_SCREEN_TITLES = {"HomeScreen": "page d'accueil (administration des comptes)"}

ID_WIDTH = max(len(key_id) for key_id in (*keys.ALL_KEYS, *keys.OTHER_IDS))

# Registry groups listed in full: not repeated among the screen's own keys.
_LISTED = {key.id for key in (*keys.APP_KEYS, *keys.HOME_KEYS)}


def _table(title: str, rows: Iterable[Row]) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        show_header=False,
        box=None,
        expand=True,
        padding=(0, 1, 0, 0),
    )
    # Fixed outer columns so that the separate tables line up.
    table.add_column("Touches", style="bold", no_wrap=True, width=12)
    table.add_column("Action", ratio=1)
    # Whole: the id is what the user copies into the settings file.
    table.add_column("Id", style="dim", no_wrap=True, width=ID_WIDTH)
    for row in rows:
        table.add_row(*row)
    return table


def _registry_rows(group: Iterable[keys.Key], keymap: Mapping[str, str]) -> list[Row]:
    return [(keys.keys_label(key, keymap), _described(key), key.id) for key in group]


def _described(key: keys.Key) -> Text:
    """The footer's word first, so the footer and this page can be matched at a glance."""
    return Text.assemble((key.description, "bold"), "\u00a0: ", key.help)


def _screen_rows(screen: Screen[object], keymap: Mapping[str, str]) -> list[Row]:
    """The screen's own remappable bindings (and its widgets'), not already listed above."""
    rows: list[Row] = []
    seen = set(_LISTED)
    for node in (screen, *screen.walk_children()):
        for bound in node._bindings.key_to_bindings.values():
            for binding in bound:
                if binding.id is None or binding.id in seen:
                    continue
                seen.add(binding.id)
                rows.append(_binding_row(binding, keymap))
    return rows


def _binding_row(binding: Binding, keymap: Mapping[str, str]) -> Row:
    assert binding.id is not None
    known = keys.ALL_KEYS.get(binding.id)
    if known is not None:
        return keys.keys_label(known, keymap), _described(known), known.id
    bound = keymap.get(binding.id, binding.key)
    label = " ".join(keys.key_label(part) for part in bound.split(",") if part.strip())
    text = _FALLBACK_HELP.get(binding.id) or binding.description or binding.action
    return label, text, binding.id


class HelpScreen(ModalScreen[None]):
    BINDINGS = keys.bindings(keys.HELP_KEYS)
    AUTO_FOCUS = "#help-body"

    def __init__(self, previous_screen: Screen[object]) -> None:
        super().__init__()
        self.previous_screen = previous_screen

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield Label(f"Aide — {self._title()}", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(self._content(), id="help-keys")
            yield Label(
                "Échap, ? ou q\u00a0: fermer · ↑ ↓ PgUp PgDn\u00a0: faire défiler", id="help-close"
            )

    def _title(self) -> str:
        previous = self.previous_screen
        default_title = _SCREEN_TITLES.get(type(previous).__name__, "écran courant")
        return str(getattr(previous, "HELP_TITLE", default_title))

    def _content(self) -> RenderableType:
        """The screen the help was opened on first, then what holds everywhere."""
        keymap = cast("EduConnectApp", self.app).services.settings.keymap
        previous = self.previous_screen
        own = _screen_rows(previous, keymap)
        notes: tuple[tuple[str, str], ...] = getattr(previous, "HELP_NOTES", ())
        on_home = type(previous).__name__ == "HomeScreen"
        parts: list[RenderableType] = []
        if on_home:
            own = [*_registry_rows(keys.HOME_KEYS, keymap), *own]
        if own or notes:
            parts += [
                _table("Cet écran", [*own, *((k, t, "") for k, t in notes)]),
                Text(""),
            ]
        parts += [_table("Général", _registry_rows(keys.APP_KEYS, keymap))]
        if not on_home and getattr(previous, "HELP_WITH_HOME_KEYS", True):
            parts += [Text(""), _table("Page d'accueil", _registry_rows(keys.HOME_KEYS, keymap))]
        parts += [
            Text(""),
            _table("Listes, tableaux et champs", ((k, t, "") for k, t in NAVIGATION)),
            Text(""),
            Text.assemble(
                ("Touches modifiables ", "bold"),
                "dans le fichier de réglages ",
                (str(config_file()), "italic"),
                ", table ",
                ("[keymap]", "bold"),
                "\u00a0: id = touches, par exemple ",
                ('notify = "n,f5"', "bold"),
                ". L'id de chaque touche est dans la dernière colonne.",
            ),
        ]
        return Group(*parts)

    def action_close(self) -> None:
        self.dismiss(None)
