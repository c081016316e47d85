"""staff: temporary passwords, disabled accounts, last sign-in; staff sessions

``staff.password_temporary_until`` is set while a staff member's password is a temporary
one (it must be changed at the next sign-in and is refused after that instant);
``staff.disabled_at`` ends a person's access while keeping them in the journal;
``last_sign_in_at`` / ``last_sign_in_source`` are shown at the next sign-in. Existing
staff keep their passwords as personal ones. ``staff_session`` holds each sign-in to
the TUI, so that a sign-out or a disabled account stops the next action, and when the
person last confirmed their password in it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(
            sa.Column("password_temporary_until", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_sign_in_source", sa.String(length=64), nullable=True))
    op.create_table(
        "staff_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column(
            "module",
            sa.Enum("administration", "depannage", name="module", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_staff_session_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
    )
    op.create_index(op.f("ix_staff_session_staff_id"), "staff_session", ["staff_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_session_staff_id"), table_name="staff_session")
    op.drop_table("staff_session")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("last_sign_in_source")
        batch.drop_column("last_sign_in_at")
        batch.drop_column("disabled_at")
        batch.drop_column("password_temporary_until")
