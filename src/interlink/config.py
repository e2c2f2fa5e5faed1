"""Settings, read from environment variables prefixed with ``INTERLINK_``.

The embedded default (SQLite file, in-process worker) needs no configuration at all. Production refuses to
start on settings that would lose data or leak secrets: a missing or placeholder secret key, a SQLite
database, or no broker.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite:///./var/interlink.db"
# Values that people paste from examples; none of them may protect production credentials.
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev", "development", "insecure"})
MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    development = "development"
    production = "production"


class ConfigurationError(Exception):
    """Settings that cannot work. The message is one line, meant for a terminal."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTERLINK_", extra="ignore")

    environment: Environment = Environment.development
    database_url: str = DEFAULT_DATABASE_URL
    broker_url: str | None = Field(default=None, description="Redis URL for Celery; none = embedded worker")
    secret_key: SecretStr | None = Field(default=None, description="Encrypts stored credentials")
    previous_secret_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="Comma-separated old secret keys, still accepted for decryption"
    )
    public_base_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path("./var")
    log_level: str = "INFO"
    log_format: str | None = Field(default=None, description="'json' or 'text'; default: json in production")

    # Inbox processing. Defaults suit production; tests shorten the intervals.
    inbox_batch_size: int = Field(default=100, ge=1, le=1000)
    inbox_linger_seconds: float = Field(
        default=1.0,
        ge=0,
        le=10,  # well inside a drain's time budget, so a fresh drain always waits rather than hands over
        description="How long due events may wait for a fuller batch: fewer, larger vendor reads for a little latency",
    )
    inbox_lease_seconds: float = Field(default=300.0, gt=0)
    inbox_sweep_interval_seconds: float = Field(default=15.0, gt=0)
    inbox_max_attempts: int = Field(default=8, ge=1)
    inbox_retry_base_seconds: float = Field(default=5.0, ge=0)
    embedded_worker_threads: int = Field(default=2, ge=1, le=32)
    poll_interval_seconds: float = Field(default=60.0, gt=0, description="How often vendors are polled for changes")

    # Bulk pull/push jobs.
    job_share: float = Field(
        default=0.7, gt=0, le=1, description="Part of each vendor rate window a bulk job may spend; the rest is live"
    )
    job_lease_seconds: float = Field(default=60.0, gt=0, description="A job whose worker is silent this long resumes")
    job_slice_seconds: float = Field(default=10.0, gt=0, description="How long a job holds a worker before yielding")
    job_batch_seconds: float = Field(default=3.0, gt=0, description="Target duration of one checkpointed batch")
    job_max_batch: int = Field(default=100, ge=1, le=100, description="Most records in one checkpointed batch")
    job_sweep_interval_seconds: float = Field(default=15.0, gt=0, description="How often stalled jobs are resumed")

    @field_validator("database_url")
    @classmethod
    def _database_url_parses(cls, value: str) -> str:
        return str(normalise_database_url(value).render_as_string(hide_password=False))

    @field_validator("broker_url")
    @classmethod
    def _broker_url_is_redis(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not value.startswith(("redis://", "rediss://")):
            raise ValueError(f"must be a redis:// or rediss:// URL, got {value.split(':', 1)[0]!r}")
        return value

    @field_validator("previous_secret_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("public_base_url")
    @classmethod
    def _base_url_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("log_format")
    @classmethod
    def _known_log_format(cls, value: str | None) -> str | None:
        if value is not None and value not in {"json", "text"}:
            raise ValueError("must be 'json' or 'text'")
        return value

    @model_validator(mode="after")
    def _production_is_safe(self) -> Settings:
        if self.environment is not Environment.production:
            return self
        secret = self.secret_key.get_secret_value() if self.secret_key else ""
        if secret.strip().lower() in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"INTERLINK_SECRET_KEY must be set to a random value of at least {MIN_SECRET_LENGTH} "
                "characters in production (e.g. `openssl rand -hex 32`)"
            )
        if self.is_sqlite:
            raise ValueError("INTERLINK_DATABASE_URL must point at PostgreSQL in production, not SQLite")
        if self.broker_url is None:
            raise ValueError("INTERLINK_BROKER_URL must be set in production (the embedded worker is for one process)")
        return self

    @property
    def database(self) -> URL:
        return make_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.database.get_backend_name() == "sqlite"

    @property
    def uses_embedded_worker(self) -> bool:
        return self.broker_url is None

    @property
    def json_logs(self) -> bool:
        if self.log_format is not None:
            return self.log_format == "json"
        return self.environment is Environment.production

    def secret_keys(self) -> list[str]:
        """The current secret key first, then the previous ones (for decrypting old credentials)."""
        current = self.secret_key.get_secret_value() if self.secret_key else self._development_secret()
        return [current, *(key.get_secret_value() for key in self.previous_secret_keys)]

    def _development_secret(self) -> str:
        # Outside production an unset key is generated once and kept beside the data, so credentials saved
        # in one run can still be read in the next.
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key + "\n")
        path.chmod(0o600)
        return key


def normalise_database_url(value: str) -> URL:
    """Parse a database URL, steering plain PostgreSQL URLs to the psycopg 3 driver."""
    try:
        url = make_url(value.strip())
    except ArgumentError as exc:
        raise ValueError(f"is not a valid database URL ({exc})") from None
    backend = url.get_backend_name()
    if backend in {"postgres", "postgresql"}:
        if url.drivername in {"postgres", "postgresql"}:
            url = url.set(drivername="postgresql+psycopg")
        return url
    if backend == "sqlite":
        return url
    raise ValueError(f"must be a postgresql:// or sqlite:// URL, got {url.drivername!r}")


def load_settings() -> Settings:
    """Build settings from the environment, turning validation errors into one readable line."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"INTERLINK_{field.upper()} {message}" if field else message)
    return "invalid configuration: " + "; ".join(problems)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
