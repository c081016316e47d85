"""Worker failures, from any screen or widget, end in the one error modal.

``Worker.StateChanged`` does not bubble in Textual, so the app never hears about a
worker started by a screen or a widget. Every node that runs workers mixes this in and
hands the failure to ``EduConnectApp.show_error``: one place decides what the user sees.
"""

from __future__ import annotations

from typing import Protocol

from textual.worker import Worker, WorkerState


class _ShowsErrors(Protocol):
    def show_error(self, error: BaseException) -> None: ...


class ReportsWorkerErrors:
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state is WorkerState.ERROR and error is not None:
            app: _ShowsErrors = self.app  # type: ignore[attr-defined]
            app.show_error(error)
