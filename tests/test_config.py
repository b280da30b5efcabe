"""Settings: defaults, YAML file, environment, bounds, production refusals and the key file."""

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from server.config import AuthConfig, Settings, async_database_url, load_settings
from server.datadir import prepare_data_dir
from server.errors import ConfigError
from server.security.keys import KEY_FILE, load_signing_key


def test_defaults_are_embedded_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.mode == "development"
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path / 'shopguard.db'}"
    assert settings.detection.threshold is None  # the behaviour model's own
    assert settings.detection.dedup_window_s == 300


def test_every_field_has_a_description() -> None:
    def undocumented(model: type[object], prefix: str = "") -> list[str]:
        missing = []
        for name, field in model.model_fields.items():  # type: ignore[attr-defined]
            annotation = field.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                missing += undocumented(annotation, f"{prefix}{name}.")
            elif not field.description:
                missing.append(prefix + name)
        return missing

    assert undocumented(Settings) == []


def test_yaml_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "shopguard.yaml"
    config.write_text(
        "server:\n  port: 9001\ndetection:\n  threshold: 0.6\nauth:\n  lockout_threshold: 7\n"
    )
    monkeypatch.setenv("SHOPGUARD_DETECTION__THRESHOLD", "0.7")
    settings = load_settings(config)
    assert settings.server.port == 9001  # from the file
    assert settings.detection.threshold == 0.7  # the environment wins over the file
    assert settings.auth.lockout_threshold == 7


def test_database_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPGUARD_DATABASE_URL", "postgresql://sg@db.local/shopguard")
    assert load_settings().resolved_database_url == "postgresql+asyncpg://sg@db.local/shopguard"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),  # already async
    ],
)
def test_async_driver_is_chosen(url: str, expected: str) -> None:
    assert async_database_url(url) == expected


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    "values",
    [
        {"detection": {"threshold": 1.5}},  # above 1
        {"server": {"port": 0}},  # below 1
        {"auth": {"access_token_ttl_s": 5}},  # too short to be usable
        {"detection": {"thresold": 0.5}},  # typo in a section is refused, not ignored
    ],
)
def test_out_of_bounds_and_unknown_fields_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("auth", "server", "message"),
    [
        ({"jwt_secret": SecretStr("changethis")}, {}, "jwt_secret"),
        ({"jwt_secret": SecretStr("short-but-random-9")}, {}, "jwt_secret"),
        ({"initial_admin_password": SecretStr("admin")}, {}, "initial_admin_password"),
        ({}, {"cors_origins": ["*"]}, "cors_origins"),
    ],
)
def test_production_refuses_weak_secrets(
    auth: dict[str, object], server: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(mode="production", auth=AuthConfig(**auth), server=server)
    Settings(mode="development", auth=AuthConfig(**auth), server=server)


def test_production_accepts_strong_settings() -> None:
    settings = Settings(
        mode="production",
        auth=AuthConfig(
            jwt_secret=SecretStr("x" * 16 + "-a-long-random-key-value-here"),
            initial_admin_password=SecretStr("a-long-admin-pass"),
        ),
    )
    assert settings.mode == "production"


def test_signing_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    key = load_signing_key(settings)
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) >= 32
    assert load_signing_key(settings) == key  # the same key on the next start


def test_loose_key_file_is_tightened_in_development_and_refused_in_production(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path)
    key = load_signing_key(settings)
    path = tmp_path / KEY_FILE
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        load_signing_key(Settings(data_dir=tmp_path, mode="production"))
    assert load_signing_key(settings) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_weak_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    path.write_text("secret")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="weak key"):
        load_signing_key(Settings(data_dir=tmp_path))


def test_data_dir_and_embedded_database_are_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    prepare_data_dir(settings)
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "data" / "shopguard.db").stat().st_mode) == 0o600
