"""The QR code of an OTP key, in half-block characters: readable back, and small enough."""

from __future__ import annotations

import pyotp
import segno
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from educonnect_tui.domain.access.staff import provisioning_uri
from educonnect_tui.domain.documents.qr import QUIET_ZONE, qr_rows
from educonnect_tui.domain.model.identifiers import LOGIN_MAX_LENGTH

URI = "otpauth://totp/EduConnect%20TUI:h.martin?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _modules(rows: list[str]) -> list[list[bool]]:
    """The dark modules the rows mark, two module rows a text row."""
    grid: list[list[bool]] = []
    for row in rows:
        grid.append([c in "▀█" for c in row])
        grid.append([c in "▄█" for c in row])
    return grid


def test_the_rows_mark_exactly_the_dark_modules() -> None:
    rows = qr_rows(URI)
    assert set("".join(rows)) <= set(" ▀▄█")
    code = segno.make_qr(URI, error="l")
    expected = [[bool(m) for m in row] for row in code.matrix_iter(border=QUIET_ZONE)]
    grid = _modules(rows)
    assert grid[: len(expected)] == expected
    assert not any(module for row in grid[len(expected) :] for module in row)  # margin
    # The quiet zone: blank first and last columns, a blank first row.
    assert rows[0].strip() == ""
    assert all(row[:QUIET_ZONE] == " " * QUIET_ZONE for row in rows)


def test_a_provisioning_uri_is_41_columns_by_21_rows() -> None:
    rows = qr_rows(URI)
    assert len(rows) == 21
    assert {len(row) for row in rows} == {41}


@settings(max_examples=50, deadline=None)
@given(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.", min_size=1, max_size=LOGIN_MAX_LENGTH)
)
def test_every_login_s_key_fits_beside_the_text_on_80_by_24(login: str) -> None:
    """Any login the application forms (32 characters at most) with a fresh secret."""
    rows = qr_rows(provisioning_uri(login, pyotp.random_base32()))
    assert len(rows) <= 21 and max(len(r) for r in rows) <= 41


def drawn(rows: list[str], scale: int = 4) -> Image.Image:
    """The rows as a terminal shows them in dark on light, one module ``scale`` pixels."""
    grid = _modules(rows)
    image = Image.new("L", (len(grid[0]) * scale, len(grid) * scale), 255)
    for y, line in enumerate(grid):
        for x, dark in enumerate(line):
            if dark:
                image.paste(0, (x * scale, y * scale, (x + 1) * scale, (y + 1) * scale))
    return image


def read_back(rows: list[str]) -> str:
    """What a QR reader finds in the drawn rows (one code, or the test fails)."""
    found = zxingcpp.read_barcodes(drawn(rows))
    assert [f.format for f in found] == [zxingcpp.BarcodeFormat.QRCode]
    return str(found[0].text)


@settings(max_examples=25, deadline=None)
@given(login=st.from_regex(r"[a-z]\.[a-z]{1,20}[0-9]{0,2}", fullmatch=True))
def test_a_reader_reads_the_provisioning_uri_back_from_the_drawn_rows(login: str) -> None:
    uri = provisioning_uri(login, pyotp.random_base32())
    assert read_back(qr_rows(uri)) == uri
