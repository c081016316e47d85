"""the outbox delivers e-mails: state, attempts, Message-ID, HTML body, purge

Each e-mail gets a state (en attente, envoi en cours, envoyé, échec, incertain), its
attempts and next attempt, the last error, a Message-ID chosen once (every attempt sends
the same message), its HTML body, the school and account it concerns, and when its
bodies were emptied after the retention. E-mails already queued get a Message-ID and
wait, « en attente », for the first ``outbox send``; SMS stay as they are.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The domain of the Message-IDs (``store/outbox.py``), written here as it was then.
MESSAGE_ID_DOMAIN = "educonnect-tui"


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(
            sa.Column(
                "state",
                sa.Enum(
                    "en_attente",
                    "envoi_en_cours",
                    "envoye",
                    "echec",
                    "incertain",
                    name="outbox_state",
                    native_enum=False,
                    create_constraint=False,
                    length=32,
                ),
                server_default="en_attente",
                nullable=False,
            )
        )
        batch.add_column(sa.Column("state_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("message_id", sa.String(length=250), nullable=True))
        batch.add_column(sa.Column("html", sa.Text(), nullable=True))
        batch.add_column(sa.Column("establishment_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint(op.f("uq_outbox_message_message_id"), ["message_id"])
        batch.create_foreign_key(
            op.f("fk_outbox_message_establishment_id_establishment"),
            "establishment",
            ["establishment_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_foreign_key(
            op.f("fk_outbox_message_account_id_account"),
            "account",
            ["account_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_outbox_message_due", ["state", "next_attempt_at"], unique=False)
    outbox = sa.table(
        "outbox_message",
        sa.column("id", sa.Integer()),
        sa.column("channel", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("state_since", sa.DateTime(timezone=True)),
        sa.column("message_id", sa.String()),
    )
    connection = op.get_bind()
    connection.execute(sa.update(outbox).values(state_since=outbox.c.created_at))
    queued = connection.execute(sa.select(outbox.c.id).where(outbox.c.channel == "email")).scalars()
    for row_id in list(queued):
        connection.execute(
            sa.update(outbox)
            .where(outbox.c.id == row_id)
            .values(message_id=f"<{secrets.token_hex(16)}@{MESSAGE_ID_DOMAIN}>")
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_index("ix_outbox_message_due")
        batch.drop_constraint(op.f("fk_outbox_message_account_id_account"), type_="foreignkey")
        batch.drop_constraint(
            op.f("fk_outbox_message_establishment_id_establishment"), type_="foreignkey"
        )
        batch.drop_constraint(op.f("uq_outbox_message_message_id"), type_="unique")
        for column in (
            "purged_at",
            "account_id",
            "establishment_id",
            "html",
            "message_id",
            "last_error",
            "next_attempt_at",
            "attempts",
            "state_since",
            "state",
        ):
            batch.drop_column(column)
