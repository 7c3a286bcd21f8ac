"""Settings: the only reader of the environment (prefix ITILFLOW_, plus the conventional names)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class GroupGrant(BaseModel):
    """What one directory group (LDAP) or claim value (OIDC) gives its members in itilflow."""

    groups: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)


class Settings(BaseSettings):
    # populate_by_name: code and tests set an aliased field by its own name
    # (`Settings(temporal_tls_ca_file=…)`); without it pydantic-settings silently left some unset.
    model_config = SettingsConfigDict(env_prefix="ITILFLOW_", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default=Path(".itilflow"))
    timezone: str = Field(
        default="Asia/Shanghai",
        description="The organisation's time zone (IANA name): the days of the change calendar page.",
    )
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
    # A secured Temporal cluster (README "Production"): TLS, mutual TLS, an API key. The names
    # Temporal's own CLI reads (TEMPORAL_TLS_CA…) work too.
    temporal_tls: bool = Field(
        default=False,
        validation_alias=AliasChoices("TEMPORAL_TLS", "ITILFLOW_TEMPORAL_TLS"),
        description="Connect over TLS (also on with a CA, client certificate, server name or API key).",
    )
    temporal_tls_ca_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_TLS_CA", "ITILFLOW_TEMPORAL_TLS_CA_FILE"),
        description="CA certificates (PEM) the server's certificate must chain to; default: the system's.",
    )
    temporal_tls_cert_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_TLS_CERT", "ITILFLOW_TEMPORAL_TLS_CERT_FILE"),
        description="Client certificate (PEM) for mutual TLS, with temporal_tls_key_file.",
    )
    temporal_tls_key_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_TLS_KEY", "ITILFLOW_TEMPORAL_TLS_KEY_FILE"),
        description="The client certificate's private key (PEM).",
    )
    temporal_tls_server_name: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_TLS_SERVER_NAME", "ITILFLOW_TEMPORAL_TLS_SERVER_NAME"),
        description="The name the server's certificate must carry, when it is not the address's host.",
    )
    temporal_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_API_KEY", "ITILFLOW_TEMPORAL_API_KEY"),
        description="API key sent as 'Authorization: Bearer' (Temporal Cloud); implies TLS.",
    )
    task_queue: str = "itilflow"
    # The worker's capacity (docs/production.md, "Several workers"): Temporal's own knobs, named.
    worker_max_cached_workflows: int = Field(
        default=1000,
        ge=0,
        description="Records kept in the worker's memory; beyond, the least recently used is evicted and "
        "replayed from its history at its next action (bounds the worker's RSS).",
    )
    worker_sticky_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a record's next task waits for the worker that has it in memory before any "
        "worker takes it (and replays it): how long a killed worker's records wait.",
    )
    worker_max_concurrent_activities: int = Field(
        default=64, ge=1, description="Activities (persist, notify, ...) one worker runs at once."
    )
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

    # Four-eyes publishing (docs/identity.md): a definition version is published only after a second
    # process owner, neither its author nor the one who asked, approves the request.
    publish_requires_second_owner: bool = Field(
        default=False, description="Publishing a definition version needs a second process owner's approval."
    )

    # --- attachments (docs/attachments.md) -------------------------------------------------------------
    attachment_max_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1, description="Largest file attached to a record (413 beyond)."
    )
    attachment_types: list[str] = Field(
        default_factory=lambda: [
            ".pdf",
            ".txt",
            ".csv",
            ".log",
            ".md",
            ".json",
            ".xml",
            ".yaml",
            ".yml",
            ".doc",
            ".docx",
            ".xls",
            ".xlsx",
            ".ppt",
            ".pptx",
            ".odt",
            ".ods",
            ".png",
            ".jpg",
            ".jpeg",
            ".gif",
            ".zip",
            ".gz",
            ".7z",
        ],
        description="File name extensions accepted as attachments (JSON list in the environment).",
    )
    attachment_store: Literal["disk", "s3"] = Field(
        default="disk", description="Where attachments' bytes live: disk (data_dir/attachments) or s3."
    )
    attachment_dir: Path | None = Field(
        default=None, description="The disk store's folder; default data_dir/attachments."
    )
    s3_endpoint: str | None = Field(default=None, description="host:port of the S3-compatible store.")
    s3_bucket: str = "itilflow-attachments"
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str | None = None
    s3_secure: bool = Field(default=True, description="HTTPS to the S3 store.")

    # --- identity (docs/identity.md) ---------------------------------------------------------------
    password_login: bool = Field(default=True, description="The web sign-in form takes a password.")
    password_min_length: int = Field(default=12, ge=8, le=128)
    # argon2id cost (argon2-cffi's RFC 9106 low-memory profile); a change rehashes at the next sign-in.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost: int = Field(default=65536, ge=8, description="KiB of memory per hash.")
    argon2_parallelism: int = Field(default=4, ge=1)
    lockout_threshold: int = Field(default=5, ge=1, description="Failed passwords in a row that lock ...")
    lockout_minutes: float = Field(default=15.0, gt=0, description="... the account for this long.")
    session_idle_minutes: float = Field(
        default=30.0, gt=0, description="A web session unused this long ends."
    )
    session_absolute_hours: float = Field(
        default=12.0, gt=0, description="A web session ends this long after sign-in."
    )
    external_default_roles: list[str] = Field(
        default_factory=lambda: ["requester"],
        description="Roles a user created at their first LDAP or OIDC sign-in always has.",
    )

    ldap_url: str | None = Field(
        default=None, description="ldap://host:389 or ldaps://host:636; unset: no LDAP."
    )
    ldap_start_tls: bool = False
    ldap_ca_file: Path | None = None
    ldap_tls_verify: bool = True
    ldap_bind_dn: str | None = Field(default=None, description="Service account that searches users' DNs.")
    ldap_bind_password: SecretStr | None = None
    ldap_user_dn_template: str | None = Field(
        default=None, description="e.g. uid={username},ou=people,dc=example,dc=com (instead of a search)."
    )
    ldap_user_base: str | None = None
    ldap_user_filter: str = "(uid={username})"
    ldap_group_base: str | None = None
    ldap_group_filter: str = "(|(member={dn})(uniqueMember={dn})(memberUid={username}))"
    ldap_member_of_attribute: str = Field(default="memberOf", description="Active Directory's group list.")
    ldap_display_name_attribute: str = "displayName"
    ldap_email_attribute: str = "mail"
    ldap_group_map: dict[str, GroupGrant] = Field(
        default_factory=dict, description="Group DN or CN -> itilflow groups and roles (JSON)."
    )
    ldap_timeout: float = Field(default=10.0, gt=0)

    oidc_issuer: str | None = Field(default=None, description="The provider's issuer URL; unset: no OIDC.")
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid profile email"
    oidc_label: str = Field(default="", description="The sign-in button's text (default: single sign-on).")
    oidc_username_claim: str = "preferred_username"
    oidc_groups_claim: str = "groups"
    oidc_group_map: dict[str, GroupGrant] = Field(
        default_factory=dict, description="Value of the groups claim -> itilflow groups and roles (JSON)."
    )
    oidc_ca_file: Path | None = None
    oidc_timeout: float = Field(default=10.0, gt=0)
    oidc_token_auth: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"

    # --- observability (docs/production.md "Metrics", "Traces", "Logs") --------------------------------
    metrics_token: SecretStr | None = Field(
        default=None,
        description=(
            "Bearer token Prometheus sends to /metrics (API and worker); unset: /metrics answers loopback "
            "clients only."
        ),
    )
    worker_metrics_port: int | None = Field(
        default=None, ge=0, le=65535, description="Port of the worker's /metrics; unset: not served."
    )
    worker_metrics_host: str = Field(default="127.0.0.1", description="Interface of the worker's /metrics.")
    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "ITILFLOW_OTLP_ENDPOINT"),
        description="OTLP/HTTP collector base URL (traces go to <url>/v1/traces); unset: no traces.",
    )
    otlp_headers: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_HEADERS", "ITILFLOW_OTLP_HEADERS"),
        description="Headers for the collector, 'name=value,name=value' (an API key, say).",
    )
    service_name: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_SERVICE_NAME", "ITILFLOW_SERVICE_NAME"),
        description="The service name on traces; default itilflow-api / itilflow-worker.",
    )
    log_format: Literal["json", "text"] = Field(
        default="json", description="json: one object per line, secrets masked; text: for a terminal."
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'itilflow.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
