"""Settings, read from the environment (``EDUCONNECT_*``) and an optional TOML file.

The settings object is built once by the entry point and passed down: nothing reads a
hidden global, so tests build their own with overrides.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from argon2 import PasswordHasher, Type
from pydantic import Field, SecretStr, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url

from ..model.calendar import DEFAULT_ZONE, SchoolTime, zone_named
from ..model.errors import InvalidInput
from .smtp_url import SmtpServer, mail_from_problem, parse_smtp_url

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# In ``trusted_proxies``: whoever connects to ``serve --socket`` is the reverse proxy (the
# socket's mode and group say who can; docs/security.md « Browser sessions »).
UNIX_SOCKET: Final = "unix"
TrustedProxy = IPNetwork | Literal["unix"]

# OWASP's minimum for argon2id; the settings refuse anything weaker.
ARGON2_MIN_MEMORY_KIB = 19 * 1024
ARGON2_MIN_TIME_COST = 2


@dataclass(frozen=True)
class HashParams:
    """argon2id parameters; the defaults are the minimums above (m=19 MiB, t=2, p=1).

    Only tests lower them (``Services.from_settings(hash_params=...)``); the settings
    cannot.
    """

    time_cost: int = ARGON2_MIN_TIME_COST
    memory_kib: int = ARGON2_MIN_MEMORY_KIB
    parallelism: int = 1

    def hasher(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            type=Type.ID,
        )


def data_dir() -> Path:
    """The user's data directory (XDG), where the embedded database lives by default."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "educonnect-tui"


def config_file() -> Path:
    explicit = os.environ.get("EDUCONNECT_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "educonnect-tui" / "config.toml"


KEY_FILE_NAME = "educonnect.key"


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'educonnect.db'}"


# What lets a session go without the OTP code. The environment is whatever the person
# starting the program chose, so these come from the settings file (or explicit arguments,
# for tests) only: an sshd session's environment is the server's, a shell's is not.
ACCESS_SETTINGS = ("admin_networks", "local_console_is_admin_network", "trusted_proxies")


@dataclass(frozen=True)
class _FromEnvironment:
    """An access setting found in the environment: refused by ``Settings``' validator."""


class _AccessNotFromEnvironment(PydanticBaseSettingsSource):
    """The environment's settings, with any access setting marked to be refused."""

    def __init__(self, settings_cls: type[BaseSettings], inner: PydanticBaseSettingsSource):
        super().__init__(settings_cls)
        self._inner = inner

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._inner.get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        values = self._inner()
        for name in ACCESS_SETTINGS:
            if name in values:
                values[name] = _FromEnvironment()
        return values


class Settings(BaseSettings):
    # A refused value is never repeated in an error: the SMTP URL holds a password.
    model_config = SettingsConfigDict(
        env_prefix="EDUCONNECT_", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = Field(default_factory=default_database_url)
    # CIDR list; from the environment as "10.0.0.0/8,192.168.1.0/24".
    admin_networks: Annotated[list[IPNetwork], NoDecode] = Field(default_factory=list)
    # A local console (no SSH_CONNECTION) counts as the administrative network only if set.
    local_console_is_admin_network: bool = False
    # The reverse proxies whose reported client address ``serve`` believes (X-Forwarded-For,
    # X-Real-IP): CIDR networks of TCP peers, and/or the word « unix » for whoever connects
    # to its Unix socket (``serve --socket``); a browser reaching it any other way always
    # gets the OTP step (access/proxy.py).
    trusted_proxies: Annotated[list[TrustedProxy], NoDecode] = Field(default_factory=list)
    pupil_temp_validity_days: int = Field(default=90, ge=1, le=366)
    guardian_temp_validity_months: int = Field(default=3, ge=1, le=12)
    portal_url: str = "https://educonnect.education.gouv.fr"
    output_dir: Path = Field(default_factory=lambda: Path.cwd())
    argon2_time_cost: int = Field(default=ARGON2_MIN_TIME_COST, ge=ARGON2_MIN_TIME_COST)
    argon2_memory_kib: int = Field(default=ARGON2_MIN_MEMORY_KIB, ge=ARGON2_MIN_MEMORY_KIB)
    argon2_parallelism: int = Field(default=1, ge=1)
    # Key remapping for the TUI: binding id -> keys, e.g. {"notify": "n,f5"} (see keys.py).
    keymap: dict[str, str] = Field(default_factory=dict)
    # Processes used to hash temporary passwords; 0 means one per core.
    hash_workers: int = Field(default=0, ge=0)
    # A full pupil import that would make more than this share of the school's enrolled
    # pupils leave is held back unless confirmed (siecle/departures.py).
    import_departure_limit: float = Field(default=0.2, ge=0.0, le=1.0)
    # The zone every date and time is shown in, whatever the server's (model/calendar.py).
    school_timezone: str = DEFAULT_ZONE
    # The keyring that signs the audit trail and seals OTP secrets (store/keys.py); by
    # default ``key_path``: next to the SQLite database, or in the data directory.
    key_file: Path | None = None
    # The technical log: what staff are not shown of an unexpected error (db_errors.py).
    log_file: Path = Field(default_factory=lambda: data_dir() / "educonnect.log")
    # The log to journald's socket even when not started by systemd (SSH sessions); by
    # default only under systemd (``logs.py``).
    log_to_journal: bool = False
    # The relay e-mails leave through (``smtp_url.py``): smtp://, smtp+starttls://, smtps://.
    # Kept secret: its password is never shown by a repr, a log or an error.
    smtp_url: SecretStr | None = None
    # The envelope sender and the address of « From »; the name shown is ``mail_from_name``
    # with ``{school}`` replaced by the school's name (« Collège Jean Moulin — EduConnect »).
    mail_from: str | None = None
    mail_from_name: str = "{school} — EduConnect"
    # A temporary failure is retried after mail_retry_seconds, then twice as long each
    # time (at most mail_retry_max_seconds), until mail_max_attempts attempts: then échec.
    mail_max_attempts: int = Field(default=6, ge=1, le=100)
    mail_retry_seconds: int = Field(default=300, ge=1)
    mail_retry_max_seconds: int = Field(default=6 * 3600, ge=1)
    # Connection and reply timeout of the SMTP server, and how long a message may stay
    # « envoi en cours » before a later run takes it as « incertain ».
    smtp_timeout_seconds: int = Field(default=30, ge=1, le=600)
    mail_sending_timeout_minutes: int = Field(default=15, ge=1)
    # Days the bodies of a finished e-mail (envoyé, échec) are kept before being emptied.
    outbox_retention_days: int = Field(default=30, ge=0, le=3650)
    # Days a staff member's temporary password (``init``, ``staff add``, a reset) stays
    # valid; it must be replaced by a personal one at the first sign-in.
    staff_temp_password_days: int = Field(default=7, ge=1, le=90)
    # Minutes without a key before the TUI covers the screen and asks for the password.
    idle_lock_minutes: int = Field(default=10, ge=1, le=240)
    # Sensitive actions (staff, delegations, large notifications) ask for the password
    # again when the person last typed it more than this many minutes ago.
    reauth_minutes: int = Field(default=15, ge=1, le=480)
    # A notification of more accounts than this is a sensitive action.
    reauth_notify_over: int = Field(default=50, ge=0)

    @field_validator("key_file", mode="before")
    @classmethod
    def _named_key_file(cls, value: Any) -> Any:
        # An empty path is the current folder, never a key file: said plainly, not met
        # later as « C'est un dossier ».
        if isinstance(value, str) and not value.strip():
            raise PydanticCustomError(
                "key_file_empty",
                "chemin vide\u00a0: indiquez le fichier de clés, ou retirez ce réglage pour "
                "garder le chemin par défaut",
            )
        return value

    @field_validator("smtp_url")
    @classmethod
    def _readable_smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        try:
            parse_smtp_url(value.get_secret_value())
        except InvalidInput as error:
            raise PydanticCustomError("smtp_url", str(error)) from None
        return value

    @field_validator("mail_from")
    @classmethod
    def _mail_from_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        problem = mail_from_problem(value.strip())
        if problem:
            raise PydanticCustomError("mail_from", problem)
        return value.strip()

    @field_validator("mail_from_name")
    @classmethod
    def _mail_from_name(cls, value: str) -> str:
        try:
            value.format(school="x")
        except (KeyError, IndexError, ValueError):
            raise PydanticCustomError(
                "mail_from_name",
                "seul {school} (le nom de l'établissement) peut y figurer entre accolades",
            ) from None
        if any(c in value for c in "\r\n"):
            raise PydanticCustomError("mail_from_name", "une seule ligne est attendue")
        return value

    @property
    def smtp(self) -> SmtpServer | None:
        """The relay, or None when e-mail is not configured."""
        if self.smtp_url is None:
            return None
        return parse_smtp_url(self.smtp_url.get_secret_value())

    @field_validator("school_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zone_named(value)
        except InvalidInput as error:
            raise ValueError(str(error)) from None
        return value

    @property
    def hash_params(self) -> HashParams:
        return HashParams(
            time_cost=self.argon2_time_cost,
            memory_kib=self.argon2_memory_kib,
            parallelism=self.argon2_parallelism,
        )

    @property
    def key_path(self) -> Path:
        """Where the key file is: outside the database, readable by the service only."""
        if self.key_file is not None:
            return self.key_file.expanduser()
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return Path(url.database).parent / KEY_FILE_NAME
        return data_dir() / KEY_FILE_NAME

    @property
    def school_time(self) -> SchoolTime:
        return SchoolTime.named(self.school_timezone)

    @field_validator(*ACCESS_SETTINGS, mode="before")
    @classmethod
    def _not_from_the_environment(cls, value: Any) -> Any:
        if isinstance(value, _FromEnvironment):
            raise PydanticCustomError(
                "from_environment",
                "ce réglage décide qui se passe du code OTP : il ne se donne que dans le "
                "fichier de réglages (EDUCONNECT_CONFIG), jamais par l'environnement, que "
                "quiconque lance le programme choisit",
            )
        return value

    @field_validator("admin_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        """CIDR networks, from a list or « a, b »; what is not one is named in French
        (pydantic would name its own union of types instead)."""
        return _networks(value, unix=False)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        """Like ``admin_networks``, and « unix »: the proxy that reaches ``serve --socket``."""
        return _networks(value, unix=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, then environment, then the TOML file; the access
        # settings from the file only.
        return (
            init_settings,
            _AccessNotFromEnvironment(settings_cls, env_settings),
            TomlConfigSettingsSource(settings_cls, toml_file=config_file()),
        )


def _networks(value: Any, *, unix: bool) -> Any:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        return value
    networks: list[TrustedProxy] = []
    for part in value:
        if unix and isinstance(part, str) and part.strip().lower() == UNIX_SOCKET:
            networks.append(UNIX_SOCKET)
            continue
        try:
            networks.append(ipaddress.ip_network(part))
        except (TypeError, ValueError):
            expected = "CIDR ou « unix » attendu" if unix else "CIDR attendu"
            raise PydanticCustomError(
                "networks",
                "« {value} » n'est pas un réseau (" + expected + ", ex. 10.20.0.0/16)",
                {"value": str(part)[:40]},
            ) from None
    return networks


# Pydantic's own words are English: what a setting's value must be, in French.
_PROBLEMS = {
    "float_parsing": "un nombre est attendu",
    "float_type": "un nombre est attendu",
    "int_parsing": "un nombre entier est attendu",
    "int_type": "un nombre entier est attendu",
    "int_from_float": "un nombre entier est attendu",
    "bool_parsing": "true ou false est attendu",
    "bool_type": "true ou false est attendu",
    "missing": "valeur manquante",
    "string_type": "un texte est attendu",
    "list_type": "une liste est attendue",
    "dict_type": "une table est attendue",
    "json_invalid": "JSON illisible",
    "extra_forbidden": "réglage inconnu",
}
# The settings' own checks, already in French.
_OWN_WORDS = {
    "from_environment",
    "key_file_empty",
    "smtp_url",
    "mail_from",
    "mail_from_name",
    "networks",
}
_BOUNDS = {
    "less_than_equal": ("le", "au plus"),
    "less_than": ("lt", "moins de"),
    "greater_than_equal": ("ge", "au moins"),
    "greater_than": ("gt", "plus de"),
}


def settings_problem(error: dict[str, Any]) -> str:
    """« EDUCONNECT_X invalide : … » for one of pydantic's errors, in French."""
    where = ".".join(str(part) for part in error.get("loc", ())).upper()
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        why = f"{words} {context.get(key)} attendu"
    elif kind in _OWN_WORDS:
        why = str(error.get("msg", ""))
    elif kind in ("value_error", "assertion_error"):
        why = (
            str(error.get("msg", ""))
            .removeprefix("Value error, ")
            .removeprefix("Assertion failed, ")
        )
    else:
        why = _PROBLEMS.get(kind, f"valeur non reconnue ({kind})")
    return f"réglage EDUCONNECT_{where} invalide\u00a0: {why}"
