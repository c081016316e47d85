"""The account store: SQLAlchemy 2 typed ORM models.

ORM objects never leave the services: the UI receives the frozen dataclasses each use
case returns. Enumerations are stored as strings (no native ENUM type) so the same
Alembic migrations run unchanged on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ColumnElement,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from .enums import (
    AccountKind,
    AccountState,
    ActivationMethod,
    Channel,
    EstablishmentType,
    Module,
    OutboxState,
    PupilStatus,
    StaffRole,
)
from .phones import SMS_MOBILE_LENGTH, sms_mobile

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _enum(enum_cls: type[StrEnum], name: str) -> Enum:
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda cls: [member.value for member in cls],
    )


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on both backends.

    SQLite has no time zones and compares datetimes as text, so every value is stored
    converted to UTC and comes back marked as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime()}


staff_establishment = Table(
    "staff_establishment",
    Base.metadata,
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("establishment_id", ForeignKey("establishment.id"), primary_key=True),
)

delegation_division = Table(
    "delegation_division",
    Base.metadata,
    Column("delegation_id", ForeignKey("delegation.id", ondelete="CASCADE"), primary_key=True),
    Column("division_id", ForeignKey("division.id"), primary_key=True),
)


class Establishment(Base):
    __tablename__ = "establishment"

    id: Mapped[int] = mapped_column(primary_key=True)
    uai: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[EstablishmentType] = mapped_column(_enum(EstablishmentType, "establishment_type"))
    academie: Mapped[str] = mapped_column(String(100))
    city: Mapped[str] = mapped_column(String(100))

    divisions: Mapped[list[Division]] = relationship(back_populates="establishment")


class Division(Base):
    """A class ("division"), e.g. "3E2" at level "3e"."""

    __tablename__ = "division"
    __table_args__ = (UniqueConstraint("establishment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(40))

    establishment: Mapped[Establishment] = relationship(back_populates="divisions")


class Pupil(Base):
    __tablename__ = "pupil"
    __table_args__ = (Index("ix_pupil_establishment_status", "establishment_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"))
    ine: Mapped[str] = mapped_column(String(11), unique=True)
    last_name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    division_id: Mapped[int | None] = mapped_column(ForeignKey("division.id"), index=True)
    status: Mapped[PupilStatus] = mapped_column(
        _enum(PupilStatus, "pupil_status"), default=PupilStatus.ENROLLED
    )
    left_on: Mapped[dt.date | None] = mapped_column(Date)

    division: Mapped[Division | None] = relationship()
    establishment: Mapped[Establishment] = relationship()
    links: Mapped[list[GuardianLink]] = relationship(back_populates="pupil")
    account: Mapped[Account] = relationship(back_populates="pupil")


class Guardian(Base):
    """A legal guardian or other person responsible for one or more pupils.

    Only a legal representative of a pupil (``GuardianLink.legal_guardian``) has an
    account; another contact the school keeps (a grandparent, a neighbour) has none,
    so no login, no letter, no notification.
    """

    __tablename__ = "guardian"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The identifier the school information system gives the person; stable across imports.
    source_key: Mapped[str] = mapped_column(String(64), unique=True)
    civility: Mapped[str] = mapped_column(String(10), default="")
    last_name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    mobile: Mapped[str | None] = mapped_column(String(32))
    # ``mobile`` in national form when it can receive the auto-inscription SMS (a French
    # mobile, ``phones.sms_mobile``), else None: what lists filter on and SMS are sent to.
    sms_mobile: Mapped[str | None] = mapped_column(String(SMS_MOBILE_LENGTH), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(100), default="")

    links: Mapped[list[GuardianLink]] = relationship(back_populates="guardian")
    # None for a contact who is no pupil's legal representative: they get no account.
    account: Mapped[Account | None] = relationship(back_populates="guardian")

    @validates("mobile")
    def _mobile_changed(self, _key: str, value: str | None) -> str | None:
        self.sms_mobile = sms_mobile(value)
        return value


class GuardianLink(Base):
    __tablename__ = "guardian_link"

    guardian_id: Mapped[int] = mapped_column(
        ForeignKey("guardian.id", ondelete="CASCADE"), primary_key=True
    )
    pupil_id: Mapped[int] = mapped_column(
        ForeignKey("pupil.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relationship_label: Mapped[str] = mapped_column(String(40), default="")
    legal_guardian: Mapped[bool] = mapped_column(Boolean, default=True)

    guardian: Mapped[Guardian] = relationship(back_populates="links")
    pupil: Mapped[Pupil] = relationship(back_populates="links")


# Byte order on both backends: ``identifiers.sort_key`` is built for it, and a
# PostgreSQL database in a French locale would otherwise skip its separating space.
SORT_KEY_TYPE = String(500).with_variant(String(500, collation="C"), "postgresql")


class Account(Base):
    """One EduConnect account: exactly one of ``pupil_id`` / ``guardian_id`` is set."""

    __tablename__ = "account"
    __table_args__ = (
        CheckConstraint("(pupil_id IS NULL) <> (guardian_id IS NULL)", name="one_owner"),
        Index("ix_account_kind_state", "kind", "state"),
        # Logins by prefix (``LoginAllocator``): PostgreSQL's LIKE 'base%' uses an index
        # only in pattern order, whatever the database's collation. SQLite reads its
        # unique index as a range instead: there the index is empty (``WHERE 0``).
        Index(
            "ix_account_login_pattern",
            "login",
            postgresql_ops={"login": "text_pattern_ops"},
            sqlite_where=text("0"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AccountKind] = mapped_column(_enum(AccountKind, "account_kind"))
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupil.id"), unique=True)
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardian.id"), unique=True)
    login: Mapped[str] = mapped_column(String(32), unique=True)
    # Accent- and case-folded "last first login", for accent-insensitive search in SQL.
    search_text: Mapped[str] = mapped_column(String(500), index=True)
    # The holder's name in French order (``identifiers.sort_key``): what lists sort by.
    sort_name: Mapped[str] = mapped_column(SORT_KEY_TYPE, index=True)
    state: Mapped[AccountState] = mapped_column(
        _enum(AccountState, "account_state"), default=AccountState.NOT_NOTIFIED
    )
    activation_method: Mapped[ActivationMethod | None] = mapped_column(
        _enum(ActivationMethod, "activation_method")
    )
    temp_password_hash: Mapped[str | None] = mapped_column(String(200))
    temp_issued_at: Mapped[dt.datetime | None]
    temp_expires_at: Mapped[dt.datetime | None]
    password_hash: Mapped[str | None] = mapped_column(String(200))
    notification_count: Mapped[int] = mapped_column(Integer, default=0)
    notified_at: Mapped[dt.datetime | None]
    activated_at: Mapped[dt.datetime | None]
    deactivated_at: Mapped[dt.datetime | None]
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[dt.datetime | None]
    # How many times the account has been blocked since it last signed in: the wait doubles.
    block_count: Mapped[int] = mapped_column(Integer, default=0)
    email: Mapped[str | None] = mapped_column(String(254))
    email_confirmed_at: Mapped[dt.datetime | None]
    pending_email: Mapped[str | None] = mapped_column(String(254))
    email_code_hash: Mapped[str | None] = mapped_column(String(200))
    email_code_expires_at: Mapped[dt.datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    pupil: Mapped[Pupil | None] = relationship(back_populates="account")
    guardian: Mapped[Guardian | None] = relationship(back_populates="account")


# Byte order on both backends: the prefix ranges of ``search_index`` rely on it, and a
# PostgreSQL database in a French locale would otherwise sort "{" before letters.
TOKEN_TYPE = String(64).with_variant(String(64, collation="C"), "postgresql")


class SearchToken(Base):
    """One word of an account's ``search_text``, kept by ``search_index``.

    Searching a million accounts cannot scan them: every typed word becomes a range
    over this table's primary key (``token``, ``account_id``).
    """

    __tablename__ = "search_token"
    # The account's tokens in one seek: "has this account a word starting with 'ma'?"
    # (short words of a search), and the deletes when a name changes.
    __table_args__ = (Index("ix_search_token_account_id_token", "account_id", "token"),)

    token: Mapped[str] = mapped_column(TOKEN_TYPE, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    last_name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, "staff_role"))
    # What the person does in the school ("principal", "CPE"...): shown, never used for rights.
    title: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    # Sealed with the key file's TOTP key (``store/keys.py``), never in clear.
    totp_secret: Mapped[str] = mapped_column(String(200))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[dt.datetime | None]
    block_count: Mapped[int] = mapped_column(Integer, default=0)
    last_totp_step: Mapped[int | None] = mapped_column(Integer)
    # Set while the password is a temporary one (``init``, ``staff add``, a reset): it
    # must be changed at the next sign-in and is refused after this instant.
    password_temporary_until: Mapped[dt.datetime | None]
    # Access ended (``staff_accounts.disable``); the row stays for the journal.
    disabled_at: Mapped[dt.datetime | None]
    # The latest successful sign-in and its source address (the next one shows it).
    last_sign_in_at: Mapped[dt.datetime | None]
    last_sign_in_source: Mapped[str | None] = mapped_column(String(64))

    establishments: Mapped[list[Establishment]] = relationship(secondary=staff_establishment)


class StaffSession(Base):
    """One sign-in of a staff member to the TUI, from sign-in to sign-out.

    Services read it on every call (``permissions``): a session that has ended (signed
    out, or its person disabled) refuses the next action. ``confirmed_at`` is when the
    person last typed their password in it (sign-in, idle lock, confirmation of a
    sensitive action).
    """

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    module: Mapped[Module] = mapped_column(_enum(Module, "module"))
    source: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime]
    confirmed_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    # Why it ended: "sign_out", "disabled", "password_reset"...
    end_reason: Mapped[str | None] = mapped_column(String(32))


class UsualSource(Base):
    """An address a staff member or an account has signed in from successfully.

    Failures from such an address count on the account itself (``states.Lockout``); from
    any other address they count only on a ``SignInFailure`` pair (``access.attempts``).
    """

    __tablename__ = "usual_source"
    __table_args__ = (
        CheckConstraint("(staff_id IS NULL) <> (account_id IS NULL)", name="one_subject"),
        UniqueConstraint("staff_id", "source"),
        UniqueConstraint("account_id", "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(64))
    last_success_at: Mapped[dt.datetime]


class SignInFailure(Base):
    """Failures of one typed login from one address that is not one of its usual ones.

    The login is kept only as a 31-bit keyed digest (``access.attempts.login_digest``):
    enough to count, nothing to read back what was typed (a password, sometimes). Known and
    unknown logins are counted alike, so a block never tells that a login exists.
    """

    __tablename__ = "sign_in_failure"
    __table_args__ = (UniqueConstraint("realm", "login_digest", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    realm: Mapped[str] = mapped_column(String(16))  # "staff" or "owner": two sign-ins
    login_digest: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(64))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[dt.datetime | None]
    block_count: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(index=True)


class Delegation(Base):
    """DELEG-CE: a head gives an agent a module, possibly limited to some classes."""

    __tablename__ = "delegation"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    module: Mapped[Module] = mapped_column(_enum(Module, "module"))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    granted_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    agent: Mapped[Staff] = relationship(foreign_keys=[agent_id])
    granted_by: Mapped[Staff] = relationship(foreign_keys=[granted_by_id])
    divisions: Mapped[list[Division]] = relationship(secondary=delegation_division)

    # What an active delegation is, in Python and in SQL: the one rule.
    def is_active_on(self, day: dt.date) -> bool:
        return self.revoked_at is None and self.valid_from <= day <= self.valid_until

    @classmethod
    def active_on(cls, day: dt.date) -> ColumnElement[bool]:
        return and_(cls.revoked_at.is_(None), cls.valid_from <= day, cls.valid_until >= day)

    @classmethod
    def not_over_on(cls, day: dt.date) -> ColumnElement[bool]:
        """Active or still to come: what a new grant of the same module would overlap."""
        return and_(cls.revoked_at.is_(None), cls.valid_until >= day)


class AuditEvent(Base):
    """Append-only, hash-chained record of a staff action (see ``store/audit.py``)."""

    __tablename__ = "audit_event"
    # The audit screen pages one school's events, newest first.
    __table_args__ = (Index("ix_audit_event_establishment_id_id", "establishment_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(200))
    source_address: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The key (``store/keys.py``) whose HMAC ``hash`` is; None: a plain SHA-256, written
    # before the service had keys.
    key_id: Mapped[str | None] = mapped_column(String(16))


class AuditTarget(Base):
    __tablename__ = "audit_target"

    event_id: Mapped[int] = mapped_column(ForeignKey("audit_event.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True, index=True)


class AuditAnchor(Base):
    """One row (id 1) the database keeps in step with ``audit_event`` by a trigger.

    The chain alone cannot show records cut off its end; the anchor remembers how many
    records there are and the last one's id and hash (migration 0002, ``audit.verify``).
    """

    __tablename__ = "audit_anchor"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_count: Mapped[int]
    last_event_id: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))


class OutboxMessage(Base):
    """E-mails and SMS, queued with the change they announce; the sender delivers e-mails.

    Nothing delivers SMS: they stay « en attente ». An e-mail's ``message_id`` is chosen
    when it is queued, so every attempt sends the same message. ``state_since`` is when
    the row entered its state: how long a send has been « en cours », and when the
    retention of a finished message's bodies started (they are then emptied, ``purged_at``).
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime]
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None]
    state: Mapped[OutboxState] = mapped_column(
        _enum(OutboxState, "outbox_state"),
        default=OutboxState.PENDING,
        server_default=OutboxState.PENDING.value,
    )
    state_since: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    message_id: Mapped[str | None] = mapped_column(String(250), unique=True)
    html: Mapped[str | None] = mapped_column(Text)
    establishment_id: Mapped[int | None] = mapped_column(
        ForeignKey("establishment.id", ondelete="SET NULL")
    )
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    purged_at: Mapped[dt.datetime | None]
