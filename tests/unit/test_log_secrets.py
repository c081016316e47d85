"""No secret in the technical log: a whole school's first days, every log record searched.

The scenario runs the real command line (in this process, so every record of every
logger is caught) and the domain's sign-in and helpdesk reset, on both backends: first
installation, SIECLE imports, a notification with its PDF and CSV, e-mails through a
real SMTP server (and a relay with a password that fails, then a refused relay URL),
staff added, their passwords and OTP keys renewed, sign-ins that fail (one with the
password typed in the login field) and one that succeeds, a chosen password, a pupil's
password reset. Every password, OTP secret and the SMTP password it produced is then
looked for in every record (message, arguments, traceback), the log file and the
commands' standard error.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import re
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from educonnect_tui.domain.access import staff_accounts
from educonnect_tui.domain.access.network import Connection
from educonnect_tui.domain.access.sign_in import sign_in
from educonnect_tui.domain.accounts import helpdesk
from educonnect_tui.domain.model.errors import DomainError
from educonnect_tui.domain.model.tables import Account
from educonnect_tui.domain.store.services import Services
from educonnect_tui.domain.store.settings import Settings
from tests.conftest import MAIL_FROM
from tests.helpers import RunCli
from tests.mail_server import Inbox

DATA = Path(__file__).parent.parent / "data"
UAI = "0750655E"
OUTSIDE = Connection(address="203.0.113.9", via_ssh=True)
SMTP_PASSWORD = "Smtp-S3cret-9f2Kq"
CHOSEN_PASSWORD = "Un-mot-de-passe-choisi-42!"


class Caught(logging.Handler):
    """Every record, formatted with its traceback, whichever logger wrote it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("mail.log"):  # the test's SMTP server, not the app
            return
        self.lines.append(self.format(record) + " " + repr(record.args))


def _printed(out: str, label: str) -> str:
    found = re.search(rf"^{label}\u00a0: (\S+)$", out, re.MULTILINE)
    assert found, out
    return found.group(1)


def _mailed_passwords(inbox: Inbox) -> list[str]:
    found = []
    for message in inbox.received:
        body = message.get_body(("plain",))
        assert body is not None
        found += re.findall(r"Mot de passe provisoire\u00a0: (\S+)", body.get_content())
    return found


@pytest.fixture
def caught() -> object:
    handler = Caught()
    app_log = logging.getLogger("educonnect_tui")
    root = logging.getLogger()
    app_log.addHandler(handler)
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    yield handler
    root.setLevel(level)
    root.removeHandler(handler)
    app_log.removeHandler(handler)


def test_no_password_otp_secret_or_smtp_password_reaches_the_log(
    cli_env: Services,
    run_cli: RunCli,
    smtp_inbox: Inbox,
    caught: Caught,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out_dir = cli_env.settings.output_dir
    monkeypatch.setenv("EDUCONNECT_OUTPUT_DIR", str(out_dir))
    monkeypatch.setenv("EDUCONNECT_HASH_WORKERS", "2")
    secrets: list[str] = []
    errors: list[str] = []

    def run(args: list[str], expect: int = 0) -> str:
        code, out, err = run_cli(args)
        assert code == expect, (args, out, err)
        errors.append(err)
        return out

    # First installation: the principal's temporary password and OTP secret.
    out = run(["init", "--uai", UAI, "--name", "Collège Test", "--type", "college",
               "--first-name", "Anne", "--last-name", "Martin"])  # fmt: skip
    secrets += [_printed(out, "Mot de passe provisoire"), _printed(out, "Secret TOTP")]
    principal, principal_password, principal_otp = "a.martin", secrets[0], secrets[1]
    run(["import", "pupils", str(DATA / "eleves_siecle.csv"), "--uai", UAI])
    run(["import", "guardians", str(DATA / "responsables_siecle.csv"), "--uai", UAI])

    # Paper: the pupils' new passwords are in the PDF and the CSV (read back here).
    pdf, sheet = out_dir / "eleves.pdf", out_dir / "eleves.csv"
    run(["notify", "--uai", UAI, "--kind", "pupils", "--class", "6E1",
         "--pdf", str(pdf), "--csv", str(sheet)])  # fmt: skip
    with sheet.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file, delimiter=";"))
    assert rows and pdf.stat().st_size > 0
    secrets += [row["Mot de passe provisoire"] for row in rows]

    # E-mail: queued, a relay with a password that cannot be used, a refused URL, then
    # the real server.
    monkeypatch.setenv("EDUCONNECT_MAIL_FROM", MAIL_FROM)
    monkeypatch.setenv("EDUCONNECT_SMTP_URL", f"smtp://127.0.0.1:{smtp_inbox.port}")
    run(["notify", "--uai", UAI, "--kind", "guardians", "--class", "6E1",
         "--channel", "email", "--no-send"])  # fmt: skip
    secrets.append(SMTP_PASSWORD)
    monkeypatch.setenv(
        "EDUCONNECT_SMTP_URL",
        f"smtp+starttls://relais.ac:{SMTP_PASSWORD}@127.0.0.1:{smtp_inbox.port}",
    )
    run(["outbox", "send"], expect=2)  # the test server offers no STARTTLS
    monkeypatch.setenv("EDUCONNECT_SMTP_URL", f"smtp://relais.ac:{SMTP_PASSWORD}@127.0.0.1:1")
    run(["outbox", "send"], expect=2)  # credentials on plain SMTP: refused
    monkeypatch.setenv("EDUCONNECT_SMTP_URL", f"smtp://127.0.0.1:{smtp_inbox.port}")
    run(["outbox", "send"])
    mailed = _mailed_passwords(smtp_inbox)
    assert mailed
    secrets += mailed

    # Staff: added, password and OTP key renewed.
    out = run(["staff", "add", "--uai", UAI, "--first-name", "Paul", "--last-name", "Durand",
               "--role", "agent"])  # fmt: skip
    secrets += [_printed(out, "Mot de passe provisoire"), _printed(out, "Secret TOTP")]
    out = run(["staff", "reset-password", "--uai", UAI, "p.durand"])
    secrets.append(_printed(out, "Mot de passe provisoire"))
    out = run(["staff", "reset-otp", "--uai", UAI, "p.durand"])
    secrets.append(_printed(out, "Secret TOTP"))

    # Sign-ins through the domain, as the TUI does them; then a helpdesk reset.
    services = Services.from_settings(Settings())
    try:
        for login, password in ((principal, "mauvais-mot-de-passe"), (principal_password, "")):
            with pytest.raises(DomainError):
                sign_in(services, login, password, "000000", OUTSIDE)
        code = pyotp.TOTP(principal_otp).at(dt.datetime.now(dt.UTC))
        signed = sign_in(services, principal, principal_password, code, OUTSIDE)
        staff_accounts.change_own_password(services, signed, CHOSEN_PASSWORD)
        secrets.append(CHOSEN_PASSWORD)
        with services.sessions() as session:
            account_id = session.scalar(
                select(Account.id).where(Account.login == rows[0]["Identifiant"])
            )
        assert account_id is not None
        # Signed in again with the chosen password (the next step's code: the first one
        # is spent), as the TUI does after the change.
        later = pyotp.TOTP(principal_otp).at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))
        signed = sign_in(services, principal, CHOSEN_PASSWORD, later, OUTSIDE)
        reset = helpdesk.reset_password(services, signed, account_id)
        secrets.append(reset.temp_password)
    finally:
        services.engine.dispose()

    log_file = Path(cli_env.settings.output_dir.parent / "log")
    written = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    everything = "\n".join([*caught.lines, written, *errors])
    # The log holds what it should: the starts, the audited actions, the failures.
    for expected in ("démarrage de « educonnect-tui init »", "notify par", "outbox_send par",
                     "staff_add par", "staff_password_reset par", "staff_otp_reset par",
                     "sign_in_failed par", "sign_in par", "staff_password_changed par",
                     "reset_password par"):  # fmt: skip
        assert expected in everything, expected
    assert len(set(secrets)) >= 20
    leaked = [s for s in secrets if s and (s in everything or s.lower() in everything.lower())]
    assert leaked == []
    assert "$argon2" not in everything
