"""The driver of a browser session's process: Textual's web driver, ended with its server.

textual-serve talks to each session's process through its standard input. When
``serve`` itself dies (``kill -9``, a crash, the OOM killer) that input ends, and
Textual's driver only stops reading: the process would stay, signed in, with nobody
able to reach it again. Here the end of the input is a hang-up: running jobs are
stopped at their safe point, the person is signed out, the process exits.
"""

from __future__ import annotations

import contextlib
import signal

from textual.drivers.web_driver import WebDriver

# What ``serve`` puts in TEXTUAL_DRIVER for its sessions (Textual imports it from there).
SESSION_DRIVER = "educonnect_tui.web_session:SessionDriver"


class SessionDriver(WebDriver):
    def run_input_thread(self) -> None:
        super().run_input_thread()
        if self.exit_event.is_set():
            return  # the app is stopping its driver: nothing was lost
        stop = getattr(self._app, "stop_for_signal", None)
        with contextlib.suppress(RuntimeError):  # the app already gone
            if stop is not None:
                self._app.call_from_thread(stop, signal.SIGHUP)
            else:
                self._app.call_from_thread(self._app.exit)
