"""Domain errors. Every message is French because it reaches staff as is."""

from __future__ import annotations

import errno

_ENDS = (".", "!", "?", "…")

# What the system says of a file, in the user's words (its own text is English).
_OS_CAUSES = {
    errno.ENOSPC: "le disque est plein",
    errno.EDQUOT: "le quota du disque est atteint",
    errno.EACCES: "accès refusé",
    errno.EPERM: "opération non permise",
    errno.EROFS: "le disque est en lecture seule",
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EISDIR: "c'est un dossier",
    errno.ELOOP: "c'est un lien symbolique",
    errno.EEXIST: "le fichier existe déjà",
    errno.ENAMETOOLONG: "le nom est trop long",
    errno.EIO: "erreur d'entrée-sortie du disque",
    errno.EPIPE: "la sortie a été fermée",
}


def os_cause(error: OSError) -> str | None:
    """The French cause of a system error on a file, None when it is not a known one."""
    return _OS_CAUSES.get(error.errno or 0)


def os_reason(error: OSError) -> str:
    """Always French: the known cause, else the system's code (its own text is English)."""
    known = os_cause(error)
    if known is not None:
        return known
    code = errno.errorcode.get(error.errno or 0)
    return f"erreur du système ({code})" if code else "erreur du système"


def sentences(*parts: str) -> str:
    """Messages put one after another, each a whole sentence ending with its full stop.

    A refusal is often a cause (« …le disque est plein ») that a caller completes with
    what it means there (« Aucun mot de passe n'a été modifié. »): joined here, so no
    sentence runs into the next one.
    """
    kept = (part.strip() for part in parts)
    return " ".join(p if p.endswith(_ENDS) else f"{p}." for p in kept if p)


class DomainError(Exception):
    """A rule was broken; ``str(error)`` is a one-line French message for the user."""


class InvalidInput(DomainError):
    """Input that does not satisfy a rule (bad UAI, bad date, unknown class...)."""


class NotFound(DomainError):
    """The thing asked for does not exist."""


class IllegalTransition(DomainError):
    """An account state change the state machine forbids."""


class AuthenticationFailed(DomainError):
    """Wrong identifier, password or code. Deliberately says no more than that."""


class AccountBlocked(DomainError):
    """Too many failed attempts; the account is locked until a given time."""


class PermissionDenied(DomainError):
    """The signed-in person may not do this."""


class ConfirmationRequired(PermissionDenied):
    """A sensitive action, and the person last typed their password too long ago.

    The interface asks for the password (``sessions.confirm_password``), then retries.
    """


class SessionEnded(PermissionDenied):
    """The caller's session has ended (signed out, account disabled, password reset).

    Nothing more can be done in it: the interface goes back to the sign-in screen.
    """


class Cancelled(DomainError):
    """A long operation was cancelled by the user; nothing was changed."""


class DocumentError(DomainError):
    """A credential document could not be written; nothing was changed."""


class ConcurrentModification(DomainError):
    """Someone else changed the same account meanwhile; nothing was changed."""


class DatabaseBusy(DomainError):
    """Another operation holds the database longer than we wait; nothing was changed."""


class DatabaseUnavailable(DomainError):
    """The database cannot be reached or written at all (down, refused, full, read-only)."""


class UnexpectedError(DomainError):
    """A failure nobody foresaw: one generic sentence, the details in the technical log."""
