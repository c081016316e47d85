"""The SMTP relay's URL (``EDUCONNECT_SMTP_URL``) and the sender's address, checked.

``smtp://host:25`` (plain, for a relay on the local network), ``smtp+starttls://user:
password@host:587`` (STARTTLS, then login) or ``smtps://host:465`` (TLS from the first
byte). A password is refused on plain ``smtp://``: it would cross the network in clear.
The password never appears in a repr, a message or a log.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import unquote, urlsplit

from ..model.errors import InvalidInput


class Security(StrEnum):
    PLAIN = "smtp"
    STARTTLS = "smtp+starttls"
    TLS = "smtps"


_DEFAULT_PORTS = {Security.PLAIN: 25, Security.STARTTLS: 587, Security.TLS: 465}
_SCHEMES = "smtp://, smtp+starttls:// ou smtps://"


@dataclass(frozen=True)
class SmtpServer:
    security: Security
    host: str
    port: int
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"SmtpServer({self.where}, {self.security.value})"

    @property
    def where(self) -> str:
        """``host:port``, what messages name the server by (never the credentials)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_smtp_url(text: str) -> SmtpServer:
    """The relay ``text`` names; ``InvalidInput`` in French, never quoting the password."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise InvalidInput(f"URL illisible (attendu\u00a0: {_SCHEMES}hôte:port)") from None
    try:
        security = Security(parts.scheme.lower())
    except ValueError:
        raise InvalidInput(
            f"schéma « {parts.scheme[:20]} » inconnu (attendu\u00a0: {_SCHEMES})"
        ) from None
    if not parts.hostname:
        raise InvalidInput("hôte manquant (ex. smtp+starttls://utilisateur:motdepasse@hôte:587)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidInput("rien n'est attendu après hôte:port (ni chemin ni paramètres)")
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and user is None:
        raise InvalidInput("mot de passe sans utilisateur")
    if user is not None and security is Security.PLAIN:
        raise InvalidInput(
            "identifiants sur une connexion non chiffrée\u00a0: utilisez smtp+starttls:// "
            "ou smtps://"
        )
    return SmtpServer(
        security=security,
        host=parts.hostname,
        port=port or _DEFAULT_PORTS[security],
        user=user,
        password=password,
    )


def mail_from_problem(address: str) -> str | None:
    """Why ``address`` cannot be the sender's address (``EDUCONNECT_MAIL_FROM``), or None."""
    if any(c in address for c in "\r\n"):
        return "une seule ligne est attendue"
    name, spec = email.utils.parseaddr(address)
    local, _, domain = spec.partition("@")
    if name or spec != address or spec.count("@") != 1 or not local or "." not in domain.strip("."):
        return (
            f"« {address[:60]} » n'est pas une adresse électronique "
            "(ex. ne-pas-repondre@ac-paris.fr)"
        )
    return None
