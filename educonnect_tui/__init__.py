"""educonnect-tui: the school side of EduConnect accounts, in the terminal."""

import gc

__version__ = "0.1.0"

# Importing SQLAlchemy, pydantic and Textual creates a few hundred thousand objects that
# live as long as the process; with the default thresholds the cyclic collector walks
# them again and again while they load (~100 ms of a 1 s start). The app freezes them
# once started and sets its own thresholds (app._freeze_startup_objects).
gc.set_threshold(100_000, 50, 100)
