"""Snapshot sizes; the deterministic demo fixtures live in tests/conftest.py."""

from __future__ import annotations

import pytest

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
