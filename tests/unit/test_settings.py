"""Settings: defaults, environment, TOML file, and refusal of bad values."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from pydantic import ValidationError

from educonnect_tui.domain.store.settings import Settings
from tests.helpers import RunCli


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATABASE_URL", "ADMIN_NETWORKS", "PUPIL_TEMP_VALIDITY_DAYS", "CONFIG"):
        monkeypatch.delenv(f"EDUCONNECT_{name}", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_defaults(tmp_path: Path) -> None:
    settings = Settings()
    assert (
        settings.database_url
        == f"sqlite:///{tmp_path / 'data' / 'educonnect-tui' / 'educonnect.db'}"
    )
    assert settings.admin_networks == []
    assert settings.pupil_temp_validity_days == 90
    assert settings.guardian_temp_validity_months == 3
    assert (settings.argon2_memory_kib, settings.argon2_time_cost) == (19456, 2)


def test_environment_overrides_the_toml_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config" / "educonnect-tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        'database_url = "postgresql://u@db/educonnect"\n'
        'admin_networks = ["10.0.0.0/8"]\n'
        "pupil_temp_validity_days = 60\n"
        '[keymap]\nnotify = "f5"\n',
        encoding="utf-8",
    )
    settings = Settings()
    assert settings.database_url == "postgresql://u@db/educonnect"
    assert settings.admin_networks == [ipaddress.ip_network("10.0.0.0/8")]
    assert settings.pupil_temp_validity_days == 60
    assert settings.keymap == {"notify": "f5"}
    monkeypatch.setenv("EDUCONNECT_PUPIL_TEMP_VALIDITY_DAYS", "30")
    settings = Settings()
    assert settings.pupil_temp_validity_days == 30
    assert settings.admin_networks == [ipaddress.ip_network("10.0.0.0/8")]
    # Not the access settings: the environment cannot widen the administrative network.
    monkeypatch.setenv("EDUCONNECT_ADMIN_NETWORKS", "192.168.1.0/24, 2001:db8::/32")
    with pytest.raises(ValidationError, match="jamais par l'environnement"):
        Settings()


def test_the_file_gives_networks_as_text_too(tmp_path: Path) -> None:
    config = tmp_path / "config" / "educonnect-tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('admin_networks = "192.168.1.0/24, 2001:db8::/32"\n', encoding="utf-8")
    assert [str(n) for n in Settings().admin_networks] == ["192.168.1.0/24", "2001:db8::/32"]


def test_explicit_config_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "ailleurs.toml"
    config.write_text("guardian_temp_validity_months = 2\n", encoding="utf-8")
    monkeypatch.setenv("EDUCONNECT_CONFIG", str(config))
    assert Settings().guardian_temp_validity_months == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMIN_NETWORKS", "10.0.0.0/33"),
        ("ADMIN_NETWORKS", "pas-un-réseau"),
        ("PUPIL_TEMP_VALIDITY_DAYS", "0"),
        ("ARGON2_MEMORY_KIB", "4096"),
    ],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(f"EDUCONNECT_{name}", value)
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("abc", "un nombre est attendu"),
        ("2", "au plus 1.0 attendu"),
        ("-1", "au moins 0.0 attendu"),
    ],
)
def test_a_bad_setting_is_told_in_french(
    monkeypatch: pytest.MonkeyPatch, run_cli: RunCli, value: str, said: str
) -> None:
    monkeypatch.setenv("EDUCONNECT_CONFIG", "/nonexistent/config.toml")
    monkeypatch.setenv("EDUCONNECT_IMPORT_DEPARTURE_LIMIT", value)
    code, out, err = run_cli(["school", "list"])
    assert code == 2 and out == ""
    assert err == (
        f"educonnect-tui\u00a0: erreur\u00a0: réglage EDUCONNECT_IMPORT_DEPARTURE_LIMIT "
        f"invalide\u00a0: {said}.\n"
    )
