"""« Dernière connexion : le … à … depuis … », under the header of the first screens.

A person reads when and from where they last signed in (a sign-in they do not remember
is the first sign of a stolen password), and whether they are signed in elsewhere right
now (``sessions.other_open_sessions``: allowed, and shown). Hidden when there is nothing
to say: the first sign-in, no other session.

The other sessions are read again every ``REFRESH_SECONDS`` while the line's screen is
the one shown, and whenever that screen comes back: a session opened after this one
is said once, in a warning toast (the app keeps which sessions were said, so the home
and dépannage lines do not say it twice). Under the idle lock the app holds the toast
until the unlock, as it holds every toast.
"""

from __future__ import annotations

from typing import Protocol

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
        if len(others) == 1:
            words = "une autre session est ouverte"
        else:
            words = f"{len(others)} autres sessions sont ouvertes"
        if not parts:
            words = words[0].upper() + words[1:]
        parts.append(f"{words} en ce moment {listed}{more} (depuis le {since})")
    return " · ".join(parts)


def new_session_warning(new: list[SignInTrace], time: SchoolTime) -> str:
    """The toast for sessions opened since the line was last read (latest first)."""
    latest = new[0]
    if len(new) == 1:
        opened = "Une autre session de votre compte vient de s'ouvrir"
    else:
        opened = f"{len(new)} autres sessions de votre compte viennent de s'ouvrir"
    sources = ", ".join(where(source) for source in dict.fromkeys(o.source for o in new))
    return (
        f"{opened} {sources} (le {time.date_time(latest.at)}). Si ce n'est pas vous, "
        "changez votre mot de passe et prévenez votre chef d'établissement."
    )


class _KeepsSeenSessions(Protocol):
    other_sessions_seen: set[SignInTrace]

    def notify(self, message: str, *, severity: str, timeout: float | None) -> None: ...


class SignInTraceLine(ReportsWorkerErrors, Static):
    # Seconds between two readings of the other sessions (one query, in a thread).
    REFRESH_SECONDS = 30.0

    def __init__(self, services: Services, signed_in: SignedIn, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.services = services
        self.signed_in = signed_in
        self._loaded = False

    def on_mount(self) -> None:
        self.display = False
        self._load()
        self.set_interval(self.REFRESH_SECONDS, self.refresh_sessions)

    def refresh_sessions(self) -> None:
        """Read the other sessions again, when the line's screen is shown (a dialog over it
        or the lock leaves it shown beneath); its screen calls this when it comes back."""
        if self._loaded and self.is_attached and self.screen.is_current:
            self._load()

    @work(thread=True, exclusive=True, group="sign-in-trace", exit_on_error=False)
    def _load(self) -> None:
        others = sessions.other_open_sessions(self.services, self.signed_in)
        line = trace_line(self.signed_in.previous_sign_in, others, self.services.time)
        self.app.call_from_thread(self._show, line, others)

    def _show(self, line: str, others: list[SignInTrace]) -> None:
        """The first reading only shows; a later one also warns of a session not said yet."""
        app: _KeepsSeenSessions = self.app  # type: ignore[assignment]
        new = [other for other in others if other not in app.other_sessions_seen]
        app.other_sessions_seen.update(others)
        if self._loaded and new:
            app.notify(new_session_warning(new, self.services.time), severity="warning", timeout=20)
        self._loaded = True
        self.update(Content(line))
        self.display = bool(line)
