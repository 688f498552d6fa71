"""Settings from the environment (prefix ISCFLOW_) and an optional .env file."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.ladder import DEFAULT_LADDER, Ladder
from domain.meetings import MeetingPolicy
from domain.policy import IssuePolicy
from iscflow.recommendation_settings import RecommendationSettings

WEAK_SECRETS = {"changeme", "secret", "password", "iscflow", "default"}


class MailSettings(BaseModel):
    """Outgoing mail. The embedded stack points this at its own SMTP sink."""

    host: str = "127.0.0.1"
    port: int = 2525
    starttls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    from_address: str = "ISC-TF <isc-tf@iscflow.localhost>"
    list_id: str = "isc-tf.iscflow.localhost"
    timeout_seconds: float = Field(default=30.0, gt=0)
    # Longest wait between two attempts when the SMTP server is away.
    retry_max_seconds: float = Field(default=300.0, gt=0)

    @property
    def send_timeout_seconds(self) -> float:
        """How long one delivery attempt may take before another worker retries it."""
        return self.timeout_seconds * 2 + 10


class Settings(BaseSettings):
    """Everything an entry point needs to build engines and clients."""

    model_config = SettingsConfigDict(
        env_prefix="ISCFLOW_", env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(default=Path(".iscflow"), description="where embedded state lives")
    database_url: str = Field(default="", description="SQLAlchemy URL; SQLite in data_dir if empty")

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = "iscflow"
    temporal_ui_port: int = 8233
    # A production Temporal (a cluster behind TLS, or Temporal Cloud). TLS is on when asked for,
    # or when a client certificate, a server CA or an API key is given; off for a local server.
    temporal_tls: bool | None = None
    temporal_tls_cert: Path | None = Field(default=None, description="mTLS client certificate")
    temporal_tls_key: Path | None = Field(default=None, description="its private key (PEM)")
    temporal_tls_server_ca: Path | None = Field(default=None, description="CA of the server")
    temporal_tls_server_name: str | None = None
    temporal_api_key: SecretStr | None = None

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_url: str = ""

    ladder: Ladder = DEFAULT_LADDER
    issue_policy: IssuePolicy = IssuePolicy()
    meeting_policy: MeetingPolicy = MeetingPolicy()
    # Task-force meetings held before iscflow kept them (the seed report counts 39).
    meetings_held_before: int = Field(default=39, ge=0)
    recommendations: RecommendationSettings = RecommendationSettings()

    mail: MailSettings = MailSettings()
    # Signs e-mail action links. Required wherever several processes must agree on it;
    # the embedded stack keeps one in the data directory when none is given.
    secret_key: SecretStr | None = None
    action_link_days: int = Field(default=14, ge=1)
    digest_interval_hours: float = Field(default=24.0, gt=0)

    # Ed25519 private key (base64 of the 32 raw bytes) that signs audit checkpoints; the
    # embedded stack keeps one in the data directory when none is given.
    audit_signing_key: SecretStr | None = None
    checkpoint_interval_hours: float = Field(default=24.0, gt=0)

    # How long an update waits for a worker before the API answers 503.
    command_timeout_seconds: float = Field(default=30.0, gt=0)

    # Set by `iscflow up`: the web interface then shows the local mail sink's outbox.
    embedded: bool = False
    # How long a web sign-in lasts without signing in again.
    web_session_hours: float = Field(default=12.0, gt=0)

    @field_validator("secret_key")
    @classmethod
    def _refuse_weak_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if len(secret) < 32 or secret.lower() in WEAK_SECRETS:
            raise ValueError("secret_key must be at least 32 random characters")
        return value

    def signing_key(self) -> bytes:
        """The key for action links: the configured one, or one kept in the data directory."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    def audit_key(self) -> bytes:
        """The raw Ed25519 private key for checkpoints (32 bytes)."""
        if self.audit_signing_key is not None:
            raw = base64.b64decode(self.audit_signing_key.get_secret_value())
        else:
            path = self.data_dir / "audit-signing.key"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
                path.chmod(0o600)
            raw = base64.b64decode(path.read_text().strip())
        if len(raw) != 32:
            raise ValueError("audit_signing_key must be 32 bytes, base64-encoded")
        return raw

    @model_validator(mode="after")
    def _temporal_tls_consistent(self) -> Settings:
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            raise ValueError("temporal_tls_cert and temporal_tls_key must be given together")
        files = (self.temporal_tls_cert, self.temporal_tls_server_ca)
        if self.temporal_tls is False and any(f is not None for f in files):
            raise ValueError("temporal_tls is false, yet TLS certificates are configured")
        return self

    @property
    def temporal_tls_enabled(self) -> bool:
        """Whether the Temporal connection uses TLS (see `iscflow.temporal.tls_config`)."""
        if self.temporal_tls is not None:
            return self.temporal_tls
        given = (self.temporal_tls_cert, self.temporal_tls_server_ca, self.temporal_api_key)
        return any(value is not None for value in given)

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'iscflow.db').resolve()}"
        if not self.public_url:
            self.public_url = f"http://{self.api_host}:{self.api_port}"
        return self
