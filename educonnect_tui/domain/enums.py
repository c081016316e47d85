"""The closed vocabularies of the domain, with their French labels and symbols.

A state is never shown by colour alone (DESIGN.md §2): every state has a word and a
symbol, and the colour is only a default the UI may override.
"""

from __future__ import annotations

from enum import StrEnum


class AccountKind(StrEnum):
    PUPIL = "eleve"
    GUARDIAN = "responsable"

    @property
    def label(self) -> str:
        return {"eleve": "élève", "responsable": "représentant légal"}[self.value]


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

    def colour(self, kind: AccountKind) -> str:
        """Default colour: pupils' notified state is yellow, guardians' orange."""
        if self is AccountState.NOTIFIED:
            return "yellow" if kind is AccountKind.PUPIL else "dark_orange"
        return {
            AccountState.NOT_NOTIFIED: "red",
            AccountState.ACTIVATED: "green",
            AccountState.DEACTIVATED: "grey50",
        }[self]


_STATE_LABELS = {
    AccountState.NOT_NOTIFIED: "non notifié",
    AccountState.NOTIFIED: "notifié, non activé",
    AccountState.ACTIVATED: "activé",
    AccountState.DEACTIVATED: "désactivé",
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
