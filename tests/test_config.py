from __future__ import annotations

from pathlib import Path

import pytest

from interlink.config import ConfigurationError, Environment, Settings, load_settings

STRONG_SECRET = "f" * 64


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("INTERLINK_") and not name.startswith("INTERLINK_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("INTERLINK_DATA_DIR", str(tmp_path))


def test_defaults_are_the_embedded_single_process_setup() -> None:
    settings = load_settings()
    assert settings.environment is Environment.development
    assert settings.is_sqlite
    assert settings.database_url.endswith("var/interlink.db")
    assert settings.uses_embedded_worker
    assert not settings.json_logs


def test_plain_postgres_urls_use_psycopg3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERLINK_DATABASE_URL", "postgres://app:pw@db:5432/interlink")
    assert load_settings().database_url == "postgresql+psycopg://app:pw@db:5432/interlink"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("INTERLINK_DATABASE_URL", "not a url", "INTERLINK_DATABASE_URL is not a valid database URL"),
        (
            "INTERLINK_DATABASE_URL",
            "mysql://x@y/z",
            "INTERLINK_DATABASE_URL must be a postgresql:// or sqlite://",
        ),
        (
            "INTERLINK_BROKER_URL",
            "amqp://guest@rabbit//",
            "INTERLINK_BROKER_URL must be a redis:// or rediss://",
        ),
        (
            "INTERLINK_ENVIRONMENT",
            "staging",
            "INTERLINK_ENVIRONMENT Input should be 'development' or 'production'",
        ),
    ],
)
def test_bad_values_give_one_readable_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def _production(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    monkeypatch.setenv("INTERLINK_ENVIRONMENT", "production")
    defaults = {
        "INTERLINK_SECRET_KEY": STRONG_SECRET,
        "INTERLINK_DATABASE_URL": "postgresql://app@db/interlink",
        "INTERLINK_BROKER_URL": "redis://redis:6379/0",
    }
    for name, value in {**defaults, **values}.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"INTERLINK_SECRET_KEY": "change-me"}, "INTERLINK_SECRET_KEY must be set to a random value"),
        ({"INTERLINK_SECRET_KEY": "short"}, "INTERLINK_SECRET_KEY must be set to a random value"),
        ({"INTERLINK_DATABASE_URL": "sqlite:///./var/x.db"}, "must point at PostgreSQL in production"),
        ({"INTERLINK_BROKER_URL": ""}, "INTERLINK_BROKER_URL must be set in production"),
    ],
)
def test_production_refuses_unsafe_settings(
    monkeypatch: pytest.MonkeyPatch, override: dict[str, str], expected: str
) -> None:
    _production(monkeypatch, **override)
    with pytest.raises(ConfigurationError, match=expected):
        load_settings()


def test_production_with_real_settings_starts_and_logs_json(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch)
    settings = load_settings()
    assert settings.json_logs
    assert settings.secret_keys() == [STRONG_SECRET]


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).secret_keys()[0]
    second = Settings(data_dir=tmp_path).secret_keys()[0]
    assert first == second
    assert len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_previous_secret_keys_are_read_from_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERLINK_SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("INTERLINK_PREVIOUS_SECRET_KEYS", "old-one, old-two")
    assert load_settings().secret_keys() == [STRONG_SECRET, "old-one", "old-two"]
