"""A number typed in to confirm what one key would do too easily.

Departures beyond the school's limit, activated accounts whose personal password a
notification would replace: the dialog says how many, and the action waits until that
number is typed. Only the number counted for what is confirmed now counts: the dialog
sets ``expected`` again whenever it recounts.
"""

from __future__ import annotations

from textual.widgets import Input


class TypedNumber(Input):
    """Digits only (spaces, ordinary or not, are ignored: « 1 200 » is 1200)."""

    def __init__(self, expected: int = 0, *, id: str | None = None) -> None:
        super().__init__(placeholder=str(expected), restrict=r"[0-9\s]*", id=id, compact=True)
        self.expected = expected

    def expect(self, expected: int) -> None:
        """The number that confirms from now on (what was typed is kept, and judged anew)."""
        self.expected = expected
        self.placeholder = str(expected)

    @property
    def confirms(self) -> bool:
        return "".join(self.value.split()) == str(self.expected)
