"""The SMTP relay, through the standard library, and what each of its refusals means.

A refusal is permanent (5xx: the address or the message will never be accepted),
temporary (4xx, a dropped connection before the message was handed over: try again
later), or leaves the delivery uncertain: the connection was lost after the whole
message was sent and before the server said whether it took it. Only the last case can
have delivered a message that looks undelivered, so it is never retried by itself.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from ..model.errors import DomainError, os_reason
from ..store.smtp_url import Security, SmtpServer

_END_OF_DATA = b"\r\n.\r\n"


class PermanentFailure(Exception):
    """The server will never take this message: « échec »."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TemporaryFailure(PermanentFailure):
    """Not now: retried after the back-off."""


class UncertainDelivery(PermanentFailure):
    """The message may have been delivered: « incertain », until an operator decides."""


class RelayUnavailable(DomainError):
    """No message can be sent now: the server is unreachable, or refuses our session."""


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(words.split())}"[:300]


class _Tracking:
    """Remembers whether the end of a message's data went out (``smtplib.SMTP.data``)."""

    content_sent = False

    def send(self, s: Any) -> None:
        if isinstance(s, bytes) and s.endswith(_END_OF_DATA):
            # Before writing: bytes may reach the server even if the write then fails.
            self.content_sent = True
        super().send(s)  # type: ignore[misc]


class _SMTP(_Tracking, smtplib.SMTP):
    pass


class _SMTPS(_Tracking, smtplib.SMTP_SSL):
    pass


class Relay:
    """One connection to the server, opened at the first message and again after a loss.

    ``tls_context`` is the certificates' trust (the system's by default; tests give
    their own authority).
    """

    def __init__(
        self,
        server: SmtpServer,
        *,
        timeout: float,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.server = server
        self.timeout = timeout
        self.tls_context = tls_context or ssl.create_default_context()
        self._connection: _SMTP | _SMTPS | None = None
        # Whether the last message's data reached the wire: it may have been delivered.
        self.handed_over = False

    def _connect(self) -> _SMTP | _SMTPS:
        server = self.server
        where = server.where
        connection: _SMTP | _SMTPS
        try:
            if server.security is Security.TLS:
                connection = _SMTPS(
                    server.host, server.port, timeout=self.timeout, context=self.tls_context
                )
            else:
                connection = _SMTP(server.host, server.port, timeout=self.timeout)
            connection.ehlo()
            if server.security is Security.STARTTLS:
                connection.starttls(context=self.tls_context)
                connection.ehlo()
            if server.user is not None:
                try:
                    connection.login(server.user, server.password or "")
                except smtplib.SMTPServerDisconnected:
                    raise RelayUnavailable(
                        f"authentification refusée par le serveur SMTP {where}\u00a0: "
                        "connexion fermée pendant l'authentification"
                    ) from None
        except smtplib.SMTPAuthenticationError as error:
            raise RelayUnavailable(
                f"authentification refusée par le serveur SMTP {where}\u00a0: "
                f"{_reply(error.smtp_code, error.smtp_error)}"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise RelayUnavailable(
                f"le serveur SMTP {where} ne propose pas "
                f"{'STARTTLS' if server.security is Security.STARTTLS else 'l’authentification'}"
            ) from None
        except smtplib.SMTPResponseException as error:
            raise RelayUnavailable(
                f"serveur SMTP {where} indisponible\u00a0: "
                f"{_reply(error.smtp_code, error.smtp_error)}"
            ) from None
        except ssl.SSLError as error:
            raise RelayUnavailable(
                f"connexion chiffrée au serveur SMTP {where} impossible\u00a0: {_tls_words(error)}"
            ) from None
        except (OSError, smtplib.SMTPException) as error:
            raise RelayUnavailable(
                f"serveur SMTP {where} injoignable\u00a0: {_os_words(error, self.timeout)}"
            ) from None
        return connection

    def check(self) -> None:
        """Connect (TLS, login) and leave, sending nothing: ``doctor --smtp``."""
        self._connection = self._connect()
        self.close()

    def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        """Hand ``message`` to the server for ``recipient``, or raise what went wrong."""
        self.handed_over = False
        if self._connection is None:
            self._connection = self._connect()
        connection = self._connection
        connection.content_sent = False
        try:
            connection.send_message(message, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            if code >= 500:
                raise PermanentFailure(
                    f"adresse refusée par le serveur\u00a0: {_reply(code, text)}"
                ) from None
            raise TemporaryFailure(
                f"adresse refusée pour l'instant par le serveur\u00a0: {_reply(code, text)}"
            ) from None
        except smtplib.SMTPSenderRefused as error:
            raise TemporaryFailure(
                f"expéditeur refusé par le serveur\u00a0: "
                f"{_reply(error.smtp_code, error.smtp_error)}"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise PermanentFailure(
                "adresse en caractères non ASCII, que le serveur n'accepte pas (SMTPUTF8)"
            ) from None
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._drop()
            if connection.content_sent:
                raise UncertainDelivery(
                    "connexion perdue après l'envoi du message, avant la réponse du serveur"
                    "\u00a0: il a pu être remis"
                ) from None
            raise TemporaryFailure(
                _silence(self.timeout)
                if _timed_out(error)
                else "connexion interrompue par le serveur"
            ) from None
        except smtplib.SMTPResponseException as error:
            words = _reply(error.smtp_code, error.smtp_error)
            if error.smtp_code >= 500:
                raise PermanentFailure(f"message refusé par le serveur\u00a0: {words}") from None
            raise TemporaryFailure(f"message refusé pour l'instant\u00a0: {words}") from None
        finally:
            self.handed_over = connection.content_sent

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.close()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()


def _timed_out(error: BaseException) -> bool:
    """A wait that ran out — ``smtplib`` reports a read's timeout as a disconnection,
    with the timeout as its context."""
    return isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError)


def _silence(timeout: float) -> str:
    return f"le serveur n'a pas répondu en {timeout:g}\u00a0s"


def _os_words(error: BaseException, timeout: float) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connexion refusée (rien n'écoute à cette adresse)"
    if _timed_out(error):
        return _silence(timeout)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "connexion fermée par le serveur"
    if isinstance(error, OSError):
        return os_reason(error)
    return error.__class__.__name__


# OpenSSL's reasons a staff member may meet, in words; the code stays, for the technician.
_TLS_REASONS = {
    "WRONG_VERSION_NUMBER": "le serveur ne parle pas TLS sur ce port",
    "CERTIFICATE_VERIFY_FAILED": "certificat du serveur non reconnu",
    "UNSUPPORTED_PROTOCOL": "version de TLS non prise en charge",
    "TLSV1_ALERT_PROTOCOL_VERSION": "version de TLS refusée par le serveur",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "négociation TLS refusée par le serveur",
    "UNEXPECTED_EOF_WHILE_READING": "connexion fermée par le serveur pendant la négociation TLS",
}


def _tls_words(error: ssl.SSLError) -> str:
    reason = error.reason or error.__class__.__name__
    words = _TLS_REASONS.get(reason)
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        words = f"{words} — {error.verify_message}"
    return f"{words} ({reason})" if words else reason
