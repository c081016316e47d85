"""educonnect-tui: the school side of EduConnect accounts, in the terminal."""

__version__ = "0.1.0"
