"""The example settings of deploy/ load as they are, with the deployment's layout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from educonnect_tui.domain.store.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "config.toml.example"


def test_the_example_settings_load_and_name_the_shared_layout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(os.environ):
        if name.startswith("EDUCONNECT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("EDUCONNECT_CONFIG", str(EXAMPLE))
    settings = Settings()
    assert settings.database_url.startswith("postgresql:///educonnect")
    assert settings.trusted_proxies == ["unix"]
    assert settings.key_path == Path("/var/lib/educonnect/educonnect.key")
    assert settings.output_dir == Path("/var/lib/educonnect/documents")
    assert settings.log_to_journal
    assert settings.admin_networks
