"""The closed vocabularies of the domain, with their French labels and symbols.

A state is never shown by colour alone (docs/domain.md, « States »): every state has a word, a
symbol and a colour name; the UI picks the shade of each name for its theme.
"""

from __future__ import annotations

from enum import StrEnum


class AccountKind(StrEnum):
    PUPIL = "eleve"
    GUARDIAN = "responsable"

    @property
    def label(self) -> str:
        return {"eleve": "élève", "responsable": "représentant légal"}[self.value]


class StateColour(StrEnum):
    """The colours the EduConnect workflow names states by: « les comptes rouges et
    jaunes » (pupils), « rouges et orange » (guardians). A name, not a shade."""

    RED = "red"
    YELLOW = "yellow"
    ORANGE = "orange"
    GREEN = "green"
    GREY = "grey"

    @property
    def label(self) -> str:
        return _COLOUR_LABELS[self]


_COLOUR_LABELS = {
    StateColour.RED: "rouge",
    StateColour.YELLOW: "jaune",
    StateColour.ORANGE: "orange",
    StateColour.GREEN: "vert",
    StateColour.GREY: "gris",
}


class AccountState(StrEnum):
    NOT_NOTIFIED = "non_notifie"
    NOTIFIED = "notifie"
    ACTIVATED = "active"
    DEACTIVATED = "desactive"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]

    @property
    def symbol(self) -> str:
        return _STATE_SYMBOLS[self]

    def colour(self, kind: AccountKind) -> StateColour:
        """Non notifié red, activé green, désactivé grey; notifié but not activated is
        yellow for pupils and orange for guardians."""
        if self is AccountState.NOTIFIED:
            return StateColour.YELLOW if kind is AccountKind.PUPIL else StateColour.ORANGE
        return _STATE_COLOURS[self]


_STATE_LABELS = {
    AccountState.NOT_NOTIFIED: "non notifié",
    AccountState.NOTIFIED: "notifié, non activé",
    AccountState.ACTIVATED: "activé",
    AccountState.DEACTIVATED: "désactivé",
}
_STATE_COLOURS = {
    AccountState.NOT_NOTIFIED: StateColour.RED,
    AccountState.ACTIVATED: StateColour.GREEN,
    AccountState.DEACTIVATED: StateColour.GREY,
}
_STATE_SYMBOLS = {
    AccountState.NOT_NOTIFIED: "✗",
    AccountState.NOTIFIED: "✉",
    AccountState.ACTIVATED: "✓",
    AccountState.DEACTIVATED: "–",
}


class ActivationMethod(StrEnum):
    TEMPORARY_CREDENTIALS = "identifiants_provisoires"
    FRANCECONNECT = "franceconnect"
    SELF_REGISTRATION = "auto_inscription"

    @property
    def label(self) -> str:
        return {
            "identifiants_provisoires": "identifiants provisoires",
            "franceconnect": "FranceConnect",
            "auto_inscription": "auto-inscription",
        }[self.value]


class EstablishmentType(StrEnum):
    ECOLE = "ecole"
    COLLEGE = "college"
    LYCEE = "lycee"
    LP = "lp"

    @property
    def label(self) -> str:
        return {
            "ecole": "école",
            "college": "collège",
            "lycee": "lycée",
            "lp": "lycée professionnel",
        }[self.value]

    @property
    def with_article(self) -> str:
        """« une école », « un collège »: for sentences that name the kind of school."""
        return ("une " if self is EstablishmentType.ECOLE else "un ") + self.label

    def has_level(self, level: Level) -> bool:
        """Whether a class of that level can exist in such a school.

        A name that tells no level (``OTHER``: « GS », « 1CAP2 », « ULIS ») fits anywhere:
        only a level the school cannot have is refused. A lycée professionnel also has
        the 3e « prépa-métiers ».
        """
        return level is Level.OTHER or level in _TYPE_LEVELS[self]


class StaffRole(StrEnum):
    DIRECTION = "direction"
    AGENT = "agent"


class Module(StrEnum):
    ADMINISTRATION = "administration"
    DEPANNAGE = "depannage"

    @property
    def label(self) -> str:
        return {
            "administration": "Administration des comptes EduConnect",
            "depannage": "Administration des comptes élèves (dépannage)",
        }[self.value]


class PupilStatus(StrEnum):
    ENROLLED = "inscrit"
    LEFT = "parti"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class OutboxState(StrEnum):
    """Where an e-mail of the outbox is (``mail/sender.py``; docs/domain.md, « Outbox »).

    « envoi en cours » is committed before the SMTP transaction starts: a message found in
    it by a later run may or may not have left, so it becomes « incertain » and waits for
    an operator rather than being sent twice.
    """

    PENDING = "en_attente"
    SENDING = "envoi_en_cours"
    SENT = "envoye"
    FAILED = "echec"
    UNCERTAIN = "incertain"

    @property
    def label(self) -> str:
        return _OUTBOX_LABELS[self]


_OUTBOX_LABELS = {
    OutboxState.PENDING: "en attente",
    OutboxState.SENDING: "envoi en cours",
    OutboxState.SENT: "envoyé",
    OutboxState.FAILED: "échec",
    OutboxState.UNCERTAIN: "incertain",
}


class NotifyChannel(StrEnum):
    """How a notification reaches the holders: on paper, by e-mail, or e-mail where an
    address is on file and paper for the others (docs/domain.md, « Canaux »)."""

    PAPER = "paper"
    EMAIL = "email"
    AUTO = "auto"

    @property
    def label(self) -> str:
        return {"paper": "courrier papier", "email": "courriel", "auto": "automatique"}[self.value]


class Level(StrEnum):
    """A class level, declared in school order (CP first, Terminale last).

    Lists, documents and statistics sort classes by ``rank``, never alphabetically: a list
    that starts with « 1re » and ends with « CP » is not what a secretary expects.
    ``OTHER`` is a class whose name tells no level; it comes last.
    """

    CP = "CP"
    CE1 = "CE1"
    CE2 = "CE2"
    CM1 = "CM1"
    CM2 = "CM2"
    SIXIEME = "6e"
    CINQUIEME = "5e"
    QUATRIEME = "4e"
    TROISIEME = "3e"
    SECONDE = "2de"
    PREMIERE = "1re"
    TERMINALE = "Terminale"
    OTHER = "Autre"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]

    @classmethod
    def rank_of(cls, level: str) -> int:
        """The rank of a stored level string; an unknown one sorts with ``OTHER``."""
        try:
            return cls(level).rank
        except ValueError:
            return cls.OTHER.rank

    @classmethod
    def of_division(cls, division_name: str) -> Level:
        """The level a class name as SIECLE writes it tells: « 3E2 » → 3e, « 2NDE1 » → 2de."""
        name = division_name.strip().upper()
        for prefix, level in _DIVISION_PREFIXES:
            if name.startswith(prefix):
                return level
        return cls.OTHER

    @classmethod
    def ranks(cls) -> dict[str, int]:
        """Stored level → rank, for ordering in SQL (``case(Level.ranks(), ...)``)."""
        return {level.value: level.rank for level in cls}


_LEVEL_RANK = {level: rank for rank, level in enumerate(Level)}
_DIVISION_PREFIXES = (
    ("TERM", Level.TERMINALE),
    ("TLE", Level.TERMINALE),
    ("1ERE", Level.PREMIERE),
    ("1RE", Level.PREMIERE),
    ("2NDE", Level.SECONDE),
    ("2DE", Level.SECONDE),
    ("6", Level.SIXIEME),
    ("5", Level.CINQUIEME),
    ("4", Level.QUATRIEME),
    ("3", Level.TROISIEME),
    ("CM2", Level.CM2),
    ("CM1", Level.CM1),
    ("CE2", Level.CE2),
    ("CE1", Level.CE1),
    ("CP", Level.CP),
)


_TYPE_LEVELS = {
    EstablishmentType.ECOLE: frozenset({Level.CP, Level.CE1, Level.CE2, Level.CM1, Level.CM2}),
    EstablishmentType.COLLEGE: frozenset(
        {Level.SIXIEME, Level.CINQUIEME, Level.QUATRIEME, Level.TROISIEME}
    ),
    EstablishmentType.LYCEE: frozenset({Level.SECONDE, Level.PREMIERE, Level.TERMINALE}),
    EstablishmentType.LP: frozenset(
        {Level.TROISIEME, Level.SECONDE, Level.PREMIERE, Level.TERMINALE}
    ),
}


def division_order(level: str, name: str) -> tuple[int, str, str]:
    """Sort key of a class: its level in school order, then its name."""
    return (Level.rank_of(level), level, name)
