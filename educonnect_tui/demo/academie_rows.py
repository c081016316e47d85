"""What the académie's generator produces: rows per table, in the bulk load's columns.

Rows are plain tuples in the order of ``COLUMNS`` (``bulk_load`` copies them as they are),
so generating a million accounts never builds an ORM object or a dictionary per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Row = tuple[Any, ...]

COLUMNS: dict[str, tuple[str, ...]] = {
    "establishment": ("id", "uai", "name", "type", "academie", "city"),
    "division": ("id", "establishment_id", "name", "level"),
    "pupil": ("id", "establishment_id", "ine", "last_name", "first_name", "birth_date",
              "division_id", "status", "left_on"),
    "guardian": ("id", "source_key", "civility", "last_name", "first_name", "email", "mobile",
                 "sms_mobile", "address", "postal_code", "city"),
    "guardian_link": ("guardian_id", "pupil_id", "relationship_label", "legal_guardian"),
    "account": ("id", "kind", "pupil_id", "guardian_id", "login", "search_text", "sort_name",
                "state", "activation_method", "temp_password_hash", "temp_issued_at",
                "temp_expires_at", "password_hash", "notification_count", "notified_at",
                "activated_at", "deactivated_at", "failed_attempts", "blocked_until",
                "block_count", "email", "email_confirmed_at", "version"),
    "search_token": ("token", "account_id"),
}  # fmt: skip


@dataclass
class Counts:
    by_state: dict[str, int] = field(default_factory=dict)
    multi_school_guardians: int = 0
    blocked: int = 0
