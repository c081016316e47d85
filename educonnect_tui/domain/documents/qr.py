"""QR codes drawn with text: an OTP key that a phone scans off the terminal.

The code is made by segno (the QR standard's encoding, error correction and masking are
not something to write again). Each text row holds two rows of modules with the
half-block characters: « ▀ » the upper one dark, « ▄ » the lower one, « █ » both, a
space neither. The characters mark the DARK modules, so the caller must draw them dark
on a light background (explicit colours: a dark terminal theme would otherwise invert
the code, which some readers refuse).

A staff member's provisioning URI (``access/staff.py`` ``provisioning_uri``) with a
login of up to 32 characters is a version-5 code at error level L: 37 modules, 41 with
the quiet zone, so 41 columns by 21 rows, which leaves room for the text beside it on an
80×24 terminal.
"""

from __future__ import annotations

import segno

# Modules of light margin around the code: the standard asks for 4, phones read 2, and
# 2 keep the code within 21 rows.
QUIET_ZONE = 2
_HALF_BLOCKS = " ▀▄█"  # index: upper dark (1) + lower dark (2)


def qr_rows(data: str) -> list[str]:
    """``data`` as a QR code (error level L, the smallest), one string per text row."""
    code = segno.make_qr(data, error="l")
    matrix = [[bool(module) for module in row] for row in code.matrix_iter(border=QUIET_ZONE)]
    if len(matrix) % 2:
        matrix.append([False] * len(matrix[0]))  # the quiet zone, continued
    return [
        "".join(_HALF_BLOCKS[upper + 2 * lower] for upper, lower in zip(top, bottom, strict=True))
        for top, bottom in zip(matrix[::2], matrix[1::2], strict=True)
    ]


__all__ = ["QUIET_ZONE", "qr_rows"]
