"""« Dernière connexion : le … à … depuis … », under the header of the first screens.

A person reads when and from where they last signed in (a sign-in they do not remember
is the first sign of a stolen password), and whether they are signed in elsewhere right
now (``sessions.other_open_sessions``: allowed, and shown). Hidden when there is nothing
to say: the first sign-in, no other session.
"""

from __future__ import annotations

from textual import work
from textual.content import Content
from textual.widgets import Static

from ..domain.access import sessions
from ..domain.access.caller import SignedIn, SignInTrace
from ..domain.model.calendar import SchoolTime
from ..domain.store.connection import LOCAL_CONSOLE
from ..domain.store.services import Services
from .worker_errors import ReportsWorkerErrors


def where(source: str) -> str:
    """« depuis 10.0.0.5 », « depuis la console locale »."""
    return "depuis la console locale" if source == LOCAL_CONSOLE else f"depuis {source}"


def trace_line(previous: SignInTrace | None, others: list[SignInTrace], time: SchoolTime) -> str:
    """The line's words ("" when there is nothing to say)."""
    parts = []
    if previous is not None:
        parts.append(
            f"Dernière connexion\u00a0: le {time.date_time(previous.at)} {where(previous.source)}"
        )
    if others:
        sources = list(dict.fromkeys(other.source for other in others))
        listed = ", ".join(where(source) for source in sources[:3])
        more = f" et {len(sources) - 3} autres" if len(sources) > 3 else ""
        since = time.date_time(others[-1].at)
        word = "Aussi connecté" if not parts else "aussi connecté"
        parts.append(f"{word} en ce moment {listed}{more} (depuis le {since})")
    return " · ".join(parts)


class SignInTraceLine(ReportsWorkerErrors, Static):
    def __init__(self, services: Services, signed_in: SignedIn, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.services = services
        self.signed_in = signed_in

    def on_mount(self) -> None:
        self.display = False
        self._load()

    @work(thread=True, exclusive=True, group="sign-in-trace", exit_on_error=False)
    def _load(self) -> None:
        others = sessions.other_open_sessions(self.services, self.signed_in)
        line = trace_line(self.signed_in.previous_sign_in, others, self.services.time)
        self.app.call_from_thread(self._show, line)

    def _show(self, line: str) -> None:
        self.update(Content(line))
        self.display = bool(line)
