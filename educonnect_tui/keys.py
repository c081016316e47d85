"""Every key of the TUI, in one registry: bindings, the help screen, the footer and the
command palette are all built from it, and every binding has an id so users can remap it
(``keymap`` in the settings file)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class Key:
    id: str
    key: str
    action: str
    description: str  # short, for the footer
    help: str  # one sentence, for the help screen and the command palette
    show: bool = True
    priority: bool = False

    def binding(self) -> Binding:
        return Binding(
            self.key,
            self.action,
            self.description,
            show=self.show,
            id=self.id,
            priority=self.priority,
            key_display=None,
        )


APP_KEYS = (
    Key("quit", "q", "quit", "Quitter", "Quitter l'application."),
    Key("help", "question_mark", "help", "Aide", "Afficher toutes les touches."),
)

HOME_KEYS = (
    Key("search", "slash", "search", "Rechercher",
        "Rechercher par nom, prénom ou identifiant (sans tenir compte des accents)."),
    Key("toggle_select", "space", "toggle_select", "Cocher",
        "Cocher ou décocher le compte sous le curseur."),
    Key("select_all", "a", "select_all", "Tout cocher", "Cocher tous les comptes affichés."),
    Key("clear_selection", "A", "clear_selection", "Tout décocher", "Vider la sélection."),
    Key("notify", "n", "notify_accounts", "(re)Notifier",
        "(Re)notifier les comptes cochés, ou à défaut tous les comptes affichés."),
    Key("notify_guardians", "r", "notify_guardians", "Notif. resp.",
        "Notifier les représentants légaux de l'élève sous le curseur."),
    Key("open", "enter", "open", "Détail", "Ouvrir le détail du compte sous le curseur."),
    Key("pupils_tab", "1", "show_tab('eleves')", "Élèves", "Afficher l'onglet Élèves."),
    Key("guardians_tab", "2", "show_tab('responsables')", "Responsables",
        "Afficher l'onglet Représentants légaux."),
    Key("classes", "c", "focus_filter('classes')", "Classes", "Choisir les classes affichées."),
    Key("states", "e", "focus_filter('states')", "États", "Choisir les états affichés."),
    Key("filters", "f", "toggle_filters", "Filtres", "Afficher ou masquer le volet des filtres."),
    Key("sort_next", "o", "sort_next", "Trier", "Trier par la colonne suivante."),
    Key("sort_reverse", "O", "sort_reverse", "Inverser", "Inverser l'ordre du tri.", show=False),
)  # fmt: skip

MODAL_KEYS = (Key("back", "escape", "back", "Retour", "Revenir à l'écran précédent."),)

ALL_KEYS = {key.id: key for key in (*APP_KEYS, *HOME_KEYS, *MODAL_KEYS)}


def bindings(keys: tuple[Key, ...]) -> list[BindingType]:
    return [key.binding() for key in keys]
