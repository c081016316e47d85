"""Every key of the TUI, in one registry: bindings, the help screen, the footer and the
command palette are all built from it, and every binding has an id so users can remap it
(``keymap`` in the settings file)."""

from __future__ import annotations

from collections.abc import Mapping
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
    Key("quit", "q", "quit", "Quitter", "Quitter l'application (hors d'un champ de saisie)."),
    # Priority so that it also quits from a field: over SSH ctrl+c is the reflex, and
    # Textual would otherwise give it to the focused Input as "copy".
    Key("quit_now", "ctrl+c", "quit", "Quitter", "Quitter l'application, même pendant une saisie.",
        show=False, priority=True),
    # f1 because "?" is typed as text while a field has the focus (login screen).
    Key("help", "question_mark,f1", "help", "Aide", "Afficher toutes les touches."),
    # The app would add its own ctrl+p binding without an id; this one can be remapped.
    Key("palette", "ctrl+p", "command_palette", "Commandes",
        "Ouvrir la palette\u00a0: chercher une action de l'écran par son nom.", show=False,
        priority=True),
    Key("palette_colon", "colon", "command_palette", "Commandes",
        "Ouvrir la palette (comme ctrl+p).", show=False),
    # Priority so that they work from a field too; shown only once signed in.
    Key("sign_out", "ctrl+l", "sign_out", "Déconnexion",
        "Se déconnecter sans quitter et revenir à l'écran de connexion, pour soi ou pour "
        "la personne suivante ; plus rien de la session ne reste à l'écran.", priority=True),
    Key("switch_school", "ctrl+t", "switch_school", "Établissement",
        "Changer d'établissement sans se reconnecter ni redonner de code (personnel de "
        "plusieurs établissements).", priority=True),
)  # fmt: skip

HOME_KEYS = (
    Key("notify", "n", "notify_accounts", "(re)Notifier",
        "(Re)notifier les comptes cochés, ou à défaut tous les comptes affichés."),
    Key("search", "slash", "search", "Rechercher",
        "Rechercher par nom, prénom ou identifiant (sans tenir compte des accents)."),
    # Priority: it must work from the search field, where the reason to press it shows.
    Key("widen_search", "f3", "widen_search", "Chercher partout",
        "Retirer les filtres de classes et d'états pour chercher dans tous les comptes.",
        show=False, priority=True),
    Key("helpdesk", "d", "helpdesk", "Dépannage",
        "Chercher un compte (nom, prénom, identifiant ou classe), "
        "rappeler l'identifiant, réinitialiser le mot de passe, débloquer."),
    Key("toggle_select", "space", "toggle_select", "Cocher",
        "Cocher ou décocher le compte sous le curseur."),
    Key("open", "enter", "open", "Détail", "Ouvrir le détail du compte sous le curseur."),
    Key("select_all", "a", "select_all", "Tout cocher", "Cocher tous les comptes affichés."),
    Key("clear_selection", "A", "clear_selection", "Tout décocher", "Vider la sélection."),
    Key("notify_guardians", "r", "notify_guardians", "Notif. resp.",
        "Notifier les représentants légaux de l'élève sous le curseur\u00a0: ceux qui "
        "n'ont pas encore activé leur compte."),
    Key("pupils_tab", "1", "show_tab('eleves')", "Élèves", "Afficher l'onglet Élèves."),
    Key("guardians_tab", "2", "show_tab('responsables')", "Représentants légaux",
        "Afficher l'onglet Représentants légaux."),
    Key("classes", "c", "focus_filter('classes')", "Classes", "Choisir les classes affichées."),
    Key("states", "e", "focus_filter('states')", "États", "Choisir les états affichés."),
    Key("contacts", "m", "focus_filter('contacts')", "Contacts",
        "Représentants légaux avec ou sans courriel, avec ou sans mobile pour le SMS "
        "d'auto-inscription.", show=False),
    Key("expiry", "x", "focus_expiry", "Expiration",
        "Afficher les comptes notifiés dont les identifiants provisoires expirent d'ici N "
        "jours (ceux déjà expirés compris).", show=False),
    Key("renotify_expiring", "X", "renotify_expiring", "Renotifier expirants",
        "(Re)notifier exactement les comptes affichés dont les identifiants provisoires "
        "expirent d'ici N jours (7 si rien n'est saisi).", show=False),
    Key("export_no_sms", "E", "export_no_sms", "Exporter sans mobile",
        "Exporter en CSV les représentants légaux affichés qui ne peuvent pas "
        "s'auto-inscrire (sans mobile pour le SMS), pour le secrétariat.", show=False),
    Key("filters", "f", "toggle_filters", "Filtres", "Afficher ou masquer le volet des filtres."),
    Key("sort_next", "o", "sort_next", "Trier", "Trier par la colonne suivante."),
    Key("sort_reverse", "O", "sort_reverse", "Inverser", "Inverser l'ordre du tri.", show=False),
    Key("stats", "s", "open_stats", "Statistiques",
        "Activation par état, par classe, par jour, et pass Culture."),
    Key("lists", "l", "edit_lists", "Listes",
        "Éditer les listes (PDF par classe et CSV) des comptes cochés, ou à défaut de tous "
        "les comptes affichés, sans modifier aucun mot de passe."),
    Key("audit_log", "j", "audit_log", "Journal",
        "Journal d'audit de l'établissement\u00a0: qui a fait quoi, quand, d'où, sur quels "
        "comptes ; vérification de la chaîne (personnel de direction)."),
    Key("delegations", "g", "delegations", "Délégations",
        "Gérer les délégations (DELEG-CE)\u00a0: accorder un module à un agent, révoquer "
        "(personnel de direction)."),
    Key("staff", "p", "staff", "Personnels",
        "Gérer les personnels de l'établissement\u00a0: ajouter, nouveau mot de passe ou "
        "nouvelle clé OTP, débloquer, désactiver, changer de rôle (personnel de direction)."),
    Key("import", "i", "open_import", "Importer",
        "Importer les exports SIECLE (élèves et responsables) : simuler, lire le "
        "rapport, puis appliquer (personnel de direction)."),
)  # fmt: skip

IMPORT_KEYS = (
    # Priority: they must work from the path fields, where letters are typed.
    Key("import_simulate", "f5", "simulate", "Simuler",
        "Simuler l'import des fichiers choisis : le rapport, sans rien enregistrer.",
        priority=True),
    Key("import_apply", "f8", "apply", "Appliquer",
        "Appliquer l'import simulé (seulement sans élément refusé, sur les mêmes fichiers).",
        priority=True),
    Key("import_back", "escape", "back", "Retour",
        "Pendant la lecture : l'annuler (rien n'est enregistré) ; sinon revenir à la "
        "page d'accueil."),
)  # fmt: skip

DEPARTURES_CONFIRM_KEYS = (
    Key("departures_cancel", "escape", "cancel", "Annuler", "Ne rien importer."),
)  # fmt: skip

DELEGATION_KEYS = (
    Key("delegation_grant", "n", "grant", "Accorder",
        "Accorder une délégation\u00a0: agent, module, classes, date de fin."),
    Key("delegation_revoke", "x", "revoke", "Révoquer",
        "Révoquer la délégation sous le curseur (après confirmation)."),
    Key("delegation_back", "escape", "back", "Retour", "Revenir à la page d'accueil."),
)  # fmt: skip

STAFF_KEYS = (
    Key("staff_add", "n", "add", "Ajouter",
        "Ajouter un personnel à l'établissement\u00a0: son identifiant, un mot de passe "
        "provisoire et sa clé OTP (QR code), affichés une seule fois."),
    Key("staff_reset_password", "m", "reset_password", "Mot de passe",
        "Donner au personnel sous le curseur un nouveau mot de passe provisoire (après "
        "confirmation), affiché une seule fois, à changer à sa prochaine connexion."),
    Key("staff_reset_otp", "k", "reset_otp", "Clé OTP",
        "Donner au personnel sous le curseur une nouvelle clé OTP (QR code), après "
        "confirmation\u00a0: l'ancienne cesse aussitôt de fonctionner."),
    Key("staff_unlock", "u", "unlock", "Débloquer",
        "Débloquer le compte bloqué après trop d'essais infructueux."),
    Key("staff_disable", "x", "disable", "Désactiver",
        "Désactiver le compte sous le curseur (après confirmation)\u00a0: son accès cesse "
        "aussitôt, ses délégations sont révoquées\u00a0; il reste dans le journal."),
    Key("staff_enable", "a", "enable", "Réactiver",
        "Réactiver le compte désactivé sous le curseur (ses délégations ne reviennent pas)."),
    Key("staff_role", "c", "change_role", "Rôle",
        "Changer le rôle du personnel sous le curseur, direction ou agent (après "
        "confirmation)."),
    Key("staff_search", "slash", "focus_search", "Rechercher",
        "Rechercher par nom, prénom ou identifiant (sans tenir compte des accents)."),
    Key("staff_back", "escape", "back", "Retour",
        "Depuis la recherche\u00a0: l'effacer, puis revenir à la liste\u00a0; sinon revenir "
        "à la page d'accueil."),
)  # fmt: skip

STAFF_FORM_KEYS = (
    # Priority: the fields would otherwise keep ctrl+s (and escape closes a Select first).
    Key("staff_form_submit", "ctrl+s", "submit", "Ajouter",
        "Ajouter le personnel saisi\u00a0; ses identifiants s'affichent une seule fois.",
        priority=True),
    Key("staff_form_cancel", "escape", "cancel", "Annuler", "Fermer sans rien ajouter."),
    # Priority, as on the login screen: the focus must move before the keys typed behind
    # (a paste, a burst over a slow SSH link) reach the field just left.
    Key("staff_form_next", "enter", "next_field", "Suivant",
        "Passer au champ de saisie suivant ; sur l'identifiant, ajouter.", show=False,
        priority=True),
    Key("staff_form_tab", "tab", "tab_next", "Champ suivant",
        "Passer au champ suivant (le rôle compris).", show=False, priority=True),
    Key("staff_form_back_tab", "shift+tab", "tab_previous", "Champ précédent",
        "Revenir au champ précédent.", show=False, priority=True),
)  # fmt: skip

CREDENTIALS_KEYS = (
    Key("credentials_invert", "i", "invert", "Inverser le QR",
        "Inverser les couleurs du QR code, si le téléphone ne le lit pas (terminal sans "
        "couleurs, NO_COLOR)."),
    Key("credentials_close", "escape,enter", "close", "Fermer",
        "Le mot de passe et la clé ne seront plus affichés nulle part."),
)  # fmt: skip

DELEGATION_FORM_KEYS = (
    # Priority: the fields would otherwise keep ctrl+s (and escape closes a Select first).
    Key("delegation_form_submit", "ctrl+s", "submit", "Accorder",
        "Accorder la délégation saisie.", priority=True),
    Key("delegation_form_cancel", "escape", "cancel", "Annuler", "Fermer sans rien accorder."),
)  # fmt: skip

DELEGATION_CONFIRM_KEYS = (
    Key("delegation_confirm_yes", "enter", "confirm", "Révoquer", "Confirmer la révocation.",
        priority=True),
    Key("delegation_confirm_no", "escape", "cancel", "Annuler", "Ne rien révoquer."),
)  # fmt: skip

DETAIL_KEYS = (
    Key("detail_notify", "n", "renotify", "(re)Notifier",
        "(Re)notifier ce compte\u00a0: nouveau mot de passe provisoire et document à remettre."),
    Key("detail_notify_guardians", "r", "notify_guardians", "Notif. resp.",
        "Notifier les représentants légaux de cet élève\u00a0: ceux qui n'ont pas encore "
        "activé leur compte."),
    Key("reset_password", "x", "reset_password", "Réinitialiser",
        "Donner un nouveau mot de passe provisoire, affiché une seule fois "
        "(le compte est à réactiver)."),
    Key("unblock", "u", "unblock", "Débloquer",
        "Débloquer le compte bloqué après trop d'essais infructueux."),
    Key("audit_history", "h", "audit_history", "Historique complet",
        "Journal d'audit filtré sur ce compte (personnel de direction)."),
    Key("detail_back", "escape", "back", "Retour", "Revenir à l'écran précédent."),
)  # fmt: skip

NOTIFY_CONFIRM_KEYS = (
    # Priority, or the reset box and the channel would toggle on enter (space does);
    # the screen hands it back to a focused button: « Annuler » cancels.
    Key("notify_confirm", "enter", "confirm", "Notifier",
        "Lancer ce qui est décrit\u00a0: nouveaux mots de passe, ou simple rappel\u00a0; "
        "sur papier, par courriel ou les deux.", priority=True),
    Key("notify_cancel", "escape", "cancel", "Annuler", "Ne rien notifier."),
)  # fmt: skip

GUARDIANS_PICK_KEYS = (
    Key("guardians_pick_confirm", "n", "confirm", "Notifier",
        "Passer à la confirmation, pour les représentants légaux cochés (non activés)."),
    Key("guardians_pick_cancel", "escape", "cancel", "Annuler", "Ne rien notifier."),
)  # fmt: skip

NOTIFY_PROGRESS_KEYS = (
    Key("notify_abort", "escape", "cancel", "Annuler",
        "Arrêter la notification en cours\u00a0: aucun mot de passe n'est modifié."),
)  # fmt: skip

HELPDESK_KEYS = (
    # Priority: the search field would otherwise take enter as its own "submit".
    Key("helpdesk_open", "enter", "open", "Ouvrir",
        "Ouvrir le compte sous le curseur\u00a0: identifiant et actions.", priority=True),
    Key("helpdesk_search", "slash", "focus_search", "Rechercher",
        "Revenir au champ de recherche."),
    Key("helpdesk_back", "escape", "back", "Retour",
        "Revenir à la recherche, ou quitter le dépannage vers la page d'accueil."),
)  # fmt: skip

HELPDESK_ACCOUNT_KEYS = (
    Key("helpdesk_reset", "r", "reset_password", "Réinitialiser",
        "Donner un nouveau mot de passe provisoire, affiché une seule fois."),
    Key("helpdesk_unblock", "u", "unblock", "Débloquer",
        "Débloquer le compte bloqué après trop d'essais infructueux."),
    Key("helpdesk_close", "escape", "close", "Fermer", "Revenir à la liste des résultats."),
)  # fmt: skip

PASSWORD_KEYS = (
    Key("slip_print", "p", "print_slip", "Imprimer la fiche",
        "Écrire la fiche imprimable (PDF, lisible par vous seul) avec ce mot de passe."),
    Key("password_close", "escape,enter", "close", "Fermer",
        "Le mot de passe ne sera plus affiché nulle part."),
)  # fmt: skip

CONFIRM_KEYS = (
    Key("confirm_yes", "enter", "confirm", "Confirmer", "Confirmer l'opération.",
        priority=True),
    Key("confirm_no", "escape", "cancel", "Annuler", "Ne rien changer."),
)  # fmt: skip

STATS_KEYS = (
    # Priority: the focused table would otherwise take enter, and the footer would hide it.
    Key("stats_open", "enter", "open", "Voir",
        "Sur une classe\u00a0: l'afficher sur la page d'accueil ; sur un élève\u00a0: son compte.",
        priority=True),
    Key("stats_sort", "o", "sort_next", "Trier", "Trier les classes par le critère suivant."),
    Key("stats_sort_reverse", "O", "sort_reverse", "Inverser", "Inverser l'ordre du tri.",
        show=False),
    # Priority: the focused table would keep PgDn at its last row, and the sections
    # below it (activity chart, pass Culture) would only be reached with Tab.
    Key("stats_page_down", "pagedown", "page(1)", "Page suiv.",
        "Page suivante\u00a0: dans le tableau, puis les sections au-dessous.", show=False,
        priority=True),
    Key("stats_page_up", "pageup", "page(-1)", "Page préc.",
        "Page précédente\u00a0: dans le tableau, puis les sections au-dessus.", show=False,
        priority=True),
    Key("stats_export", "e", "export", "Exporter",
        "Exporter les chiffres en CSV et en PDF (dossier « statistiques »)."),
    Key("stats_back", "escape", "back", "Retour", "Revenir à la page d'accueil."),
)  # fmt: skip

AUDIT_KEYS = (
    # Priority: the focused table would otherwise take enter, and the key bar would hide
    # it; from a filter, enter stays the filter's own (the action is skipped there).
    Key("audit_open", "enter", "open", "Ouvrir",
        "Ouvrir l'événement sous le curseur\u00a0: tous ses détails et tous ses comptes.",
        priority=True),
    Key("audit_verify", "v", "verify", "Vérifier",
        "Vérifier la chaîne du journal\u00a0: signale un enregistrement modifié ou supprimé."),
    Key("audit_filters", "slash", "focus_filters", "Filtres",
        "Aller aux filtres (qui, action, compte, du, au) ; Entrée applique, Échap revient."),
    # Priority: the focused table would otherwise scroll within the page.
    Key("audit_next_page", "pagedown", "next_page", "Page suiv.",
        "Afficher la page suivante (événements plus anciens).", priority=True),
    Key("audit_previous_page", "pageup", "previous_page", "Page préc.",
        "Afficher la page précédente (événements plus récents).", priority=True),
    Key("audit_back", "escape", "back", "Retour",
        "Depuis un filtre\u00a0: revenir à la liste ; sinon revenir à l'écran précédent."),
)  # fmt: skip

AUDIT_EVENT_KEYS = (
    Key("audit_event_next_page", "pagedown", "next_page", "Page suiv.",
        "Afficher les comptes suivants de l'événement.", priority=True),
    Key("audit_event_previous_page", "pageup", "previous_page", "Page préc.",
        "Afficher les comptes précédents de l'événement.", priority=True),
    Key("audit_event_back", "escape", "back", "Retour", "Revenir au journal."),
)  # fmt: skip

MODAL_KEYS = (Key("back", "escape", "back", "Retour", "Revenir à l'écran précédent."),)

LOGIN_KEYS = (
    # Priority: it must work while a field has the focus (letters are typed there).
    Key("login_module", "f2", "switch_module", "Module",
        "Changer de module\u00a0: administration des comptes, ou dépannage des comptes élèves.",
        priority=True),
    # Priority: the focus must move before the next typed key is dispatched, or keys
    # typed ahead (paste, a burst over a slow SSH link) land in the previous field.
    Key("login_next", "enter", "next_field", "Suivant",
        "Passer au champ suivant ; sur le dernier champ, se connecter.", show=False,
        priority=True),
    # Priority for the same reason: Textual's own tab binding is looked up only once the
    # key has come back from the field, after the keys behind it were typed there.
    Key("login_tab", "tab", "tab_next", "Champ suivant",
        "Passer au champ suivant (le choix du module est au-dessus de l'identifiant).",
        show=False,
        priority=True),
    Key("login_back_tab", "shift+tab", "tab_previous", "Champ précédent",
        "Revenir au champ précédent.", show=False, priority=True),
)  # fmt: skip

SCHOOL_PICKER_KEYS = (
    # Priority: the list would otherwise take enter itself, and the footer would not show it.
    Key("school_choose", "enter", "choose", "Choisir",
        "Travailler sur l'établissement sous le curseur.", priority=True),
    # Priority: the login screen must be back before the identifier typed next arrives.
    Key("school_back", "escape", "back", "Changer d'utilisateur",
        "Revenir à l'écran de connexion sans choisir d'établissement.", priority=True),
)  # fmt: skip

SCHOOL_SWITCH_KEYS = (
    Key("school_switch_back", "escape", "back", "Retour",
        "Rester sur l'établissement en cours.", priority=True),
)  # fmt: skip

PASSWORD_PROMPT_KEYS = (
    Key("password_prompt_cancel", "escape", "cancel", "Annuler",
        "Ne pas confirmer\u00a0: l'action sensible n'a pas lieu."),
)  # fmt: skip

PASSWORD_CHANGE_KEYS = (
    # Priority, as on the login screen: typed-ahead keys must land in the next field.
    Key("password_change_next", "enter", "next_field", "Suivant",
        "Passer à la seconde saisie ; sur la seconde, enregistrer.", show=False,
        priority=True),
    Key("password_change_tab", "tab", "tab_next", "Champ suivant", "Passer au champ suivant.",
        show=False, priority=True),
    Key("password_change_back_tab", "shift+tab", "tab_previous", "Champ précédent",
        "Revenir au champ précédent.", show=False, priority=True),
    Key("password_change_sign_out", "escape", "sign_out_now", "Changer d'utilisateur",
        "Se déconnecter sans choisir de mot de passe (rien d'autre n'est possible avant).",
        priority=True),
)  # fmt: skip

HELP_KEYS = (Key("help_close", "escape,question_mark,q,f1", "close", "Fermer", "Fermer l'aide."),)

# The groups of keys active together (a screen's, with the app's), where one key must
# mean one action; the registry is made of them.
SCREEN_GROUPS = (
    HOME_KEYS,
    IMPORT_KEYS,
    DEPARTURES_CONFIRM_KEYS,
    MODAL_KEYS,
    LOGIN_KEYS,
    SCHOOL_PICKER_KEYS,
    SCHOOL_SWITCH_KEYS,
    HELP_KEYS,
    STATS_KEYS,
    DELEGATION_KEYS,
    DELEGATION_FORM_KEYS,
    STAFF_KEYS,
    STAFF_FORM_KEYS,
    CREDENTIALS_KEYS,
    DELEGATION_CONFIRM_KEYS,
    DETAIL_KEYS,
    AUDIT_KEYS,
    AUDIT_EVENT_KEYS,
    NOTIFY_CONFIRM_KEYS,
    GUARDIANS_PICK_KEYS,
    NOTIFY_PROGRESS_KEYS,
    HELPDESK_KEYS,
    HELPDESK_ACCOUNT_KEYS,
    PASSWORD_KEYS,
    CONFIRM_KEYS,
    PASSWORD_PROMPT_KEYS,
    PASSWORD_CHANGE_KEYS,
)
ALL_KEYS = {key.id: key for group in (APP_KEYS, *SCREEN_GROUPS) for key in group}

# Bindings declared beside a widget rather than in the registry; remappable all the same.
OTHER_IDS = frozenset(
    {"home_back", "classes_all", "classes_none", "error_close", "helpdesk_down", "path_complete"}
)


def keymap_problems(keymap: Mapping[str, str]) -> str:
    """What is wrong with the user's keymap, in one line ("" when nothing is).

    An unknown id (a typo) would otherwise do nothing, and a key given to a second
    action of the same screen silently takes it from the first (Textual does not say).
    """
    problems = []
    unknown = sorted(set(keymap) - set(ALL_KEYS) - OTHER_IDS)
    if unknown:
        problems.append(f"id inconnu, ignoré\u00a0: {', '.join(unknown)}")
    clashes: set[str] = set()
    for group in SCREEN_GROUPS:
        owners: dict[str, list[str]] = {}
        for key in (*group, *APP_KEYS):
            for bound in keys_of(key, keymap):
                owners.setdefault(bound, []).append(key.id)
        for bound, ids in owners.items():
            if len(ids) > 1 and any(key_id in keymap for key_id in ids):
                clashes.add(f"{key_label(bound)} ({' et '.join(ids)})")
    if clashes:
        problems.append(f"touche donnée à deux actions\u00a0: {', '.join(sorted(clashes))}")
    if not problems:
        return ""
    listed = "\u00a0; ".join(problems)
    return f"Réglages, table [keymap]\u00a0: {listed} (les id sont dans l'aide, F1)."


# How keys read in French in the key bar, on the help screen and in the palette.
_KEY_NAMES = {
    "escape": "Échap",
    "enter": "Entrée",
    "space": "Espace",
    "tab": "Tab",
    "shift+tab": "Maj+Tab",
    "question_mark": "?",
    "slash": "/",
    "colon": ":",
    "plus": "+",
    "minus": "-",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "home": "Début",
    "end": "Fin",
}


# The descriptions of Textual's own bindings that a key bar can show, in French.
TEXTUAL_DESCRIPTIONS = {
    "Dismiss menu": "Fermer la liste",
    "Exit the command palette": "Fermer la palette",
    "Open link": "Ouvrir le lien",
}


def description(binding: Binding) -> str:
    """A binding's word in the key bar: ours as written, Textual's translated."""
    return TEXTUAL_DESCRIPTIONS.get(binding.description, binding.description)


def key_label(key: str) -> str:
    """One key as staff read it, the same in the key bar, the help and the palette:
    "ctrl+p", "?", "Échap", "Espace", "F1"."""
    name = key.strip()
    if name in _KEY_NAMES:
        return _KEY_NAMES[name]
    if len(name) >= 2 and name[0] == "f" and name[1:].isdigit():
        return name.upper()
    return name


def keys_of(key: Key, keymap: Mapping[str, str]) -> list[str]:
    """The keys bound to ``key`` once the user's ``keymap`` (binding id -> keys) applies."""
    return [part.strip() for part in keymap.get(key.id, key.key).split(",") if part.strip()]


def keys_label(key: Key, keymap: Mapping[str, str]) -> str:
    return " ".join(key_label(part) for part in keys_of(key, keymap))


def bindings(keys: tuple[Key, ...]) -> list[BindingType]:
    return [key.binding() for key in keys]
