"""Settings from the environment (prefix ISCFLOW_) and an optional .env file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.issues import IssuePolicy
from domain.ladder import DEFAULT_LADDER, Ladder


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

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_url: str = ""

    ladder: Ladder = DEFAULT_LADDER
    issue_policy: IssuePolicy = IssuePolicy()

    # How long an update waits for a worker before the API answers 503.
    command_timeout_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'iscflow.db').resolve()}"
        if not self.public_url:
            self.public_url = f"http://{self.api_host}:{self.api_port}"
        return self
