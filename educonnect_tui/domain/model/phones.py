"""Which mobile numbers can receive the auto-inscription SMS: French mobiles only.

The SMS gateway reaches French mobile numbers (06 and 07, or +33 6 and +33 7), and the
number schools type comes in many shapes ("06 12 34 56 78", "+33 6…", "0033 (0)6…").
``sms_mobile`` is the one rule: auto-inscription uses it on the number a guardian types,
and the guardian's ``sms_mobile`` column, which the lists filter on in SQL, is written
from it whenever the school's number changes (``tables.Guardian``).
"""

from __future__ import annotations

import re

SMS_MOBILE_LENGTH = 10
_SEPARATORS = re.compile(r"[\s.\-/()]")


def sms_mobile(raw: str | None) -> str | None:
    """The national form « 06XXXXXXXX » of a French mobile number, else None."""
    if not raw:
        return None
    compact = _SEPARATORS.sub("", raw.strip().replace("(0)", ""))
    if compact.startswith("+33"):
        compact = compact[3:]
    elif compact.startswith("0033"):
        compact = compact[4:]
    else:
        return compact if re.fullmatch(r"0[67][0-9]{8}", compact) else None
    compact = compact.removeprefix("0")
    return "0" + compact if re.fullmatch(r"[67][0-9]{8}", compact) else None
