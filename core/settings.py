"""Settings: the only reader of the environment (prefix ITILFLOW_, plus the conventional names)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ITILFLOW_", extra="ignore")

    data_dir: Path = Field(default=Path(".itilflow"))
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "ITILFLOW_DATABASE_URL"),
        description="SQLAlchemy URL; default: SQLite file in data_dir.",
    )
    temporal_address: str | None = Field(
        default=None, validation_alias=AliasChoices("TEMPORAL_ADDRESS", "ITILFLOW_TEMPORAL_ADDRESS")
    )
    temporal_namespace: str = Field(
        default="default", validation_alias=AliasChoices("TEMPORAL_NAMESPACE", "ITILFLOW_TEMPORAL_NAMESPACE")
    )
    task_queue: str = "itilflow"
    base_url: str = "http://127.0.0.1:8000"

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "itilflow@localhost"
    smtp_ssl: bool = Field(default=False, description="Implicit TLS (port 465) instead of STARTTLS.")
    smtp_ca_file: Path | None = Field(default=None, description="CA bundle for a private mail server.")
    smtp_tls_verify: bool = True
    smtp_timeout: float = 10.0
    webhook_timeout: float = 10.0
    dev_login: bool = Field(default=False, description="Sign-in page lists demo users (itilflow dev only).")
    web_secret: SecretStr | None = Field(
        default=None, description="Signs web session cookies; set it when several API replicas run."
    )
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # Hostile input (README "Limits"): every body is refused past this size while it streams in.
    max_request_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body accepted (413 beyond)."
    )
    allowed_hosts: str = Field(
        default="*",
        description=(
            "Comma-separated Host names the API answers (400 otherwise); '*' is any. With dev_login "
            "(itilflow dev) '*' means loopback and the base URL's host only, against DNS rebinding."
        ),
    )
    auth_failure_limit: int = Field(
        default=20, ge=1, description="Failed authentications per token id or client address ..."
    )
    auth_failure_window: float = Field(default=60.0, gt=0, description="... within this many seconds (429).")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'itilflow.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
