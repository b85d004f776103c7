"""The console's settings (`KEEL_CONSOLE_*`), and where it finds the services (`KEEL_<SERVICE>_URL`,
the same variables keel's own commands read)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _service_url(service: str, port: int) -> str:
    return Field(
        default=f"http://127.0.0.1:{port}",
        validation_alias=AliasChoices(f"KEEL_{service.upper()}_URL", f"{service}_url"),
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEEL_CONSOLE_", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = 8100
    database_url: str = Field(
        default="", description="SQLAlchemy async URL; empty means console.db in state_dir"
    )
    state_dir: Path = Field(
        default=Path(".keel"), validation_alias=AliasChoices("KEEL_STATE_DIR", "state_dir")
    )
    auth_issuer: str = Field(
        default="keel-local", validation_alias=AliasChoices("KEEL_AUTH_ISSUER", "auth_issuer")
    )
    auth_audience: str = Field(
        default="keel", validation_alias=AliasChoices("KEEL_AUTH_AUDIENCE", "auth_audience")
    )
    auth_jwks_url: str | None = Field(
        default=None,
        description="the issuer's public keys (OIDC `jwks_uri`); empty: the stack's own keys",
        validation_alias=AliasChoices("KEEL_AUTH_JWKS_URL", "auth_jwks_url"),
    )
    auth_algorithms: tuple[str, ...] = Field(
        default=("EdDSA", "RS256"),
        validation_alias=AliasChoices("KEEL_AUTH_ALGORITHMS", "auth_algorithms"),
    )
    auth_role_claim: str = Field(
        default="role", validation_alias=AliasChoices("KEEL_AUTH_ROLE_CLAIM", "auth_role_claim")
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="the company's OpenID Connect provider (its issuer URL); set, people sign "
        "in there instead of with a local password",
    )
    oidc_client_id: str = Field(default="keel-console", description="the console's client id")
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="the console's client secret; unset for a public client"
    )
    oidc_scopes: str = Field(default="openid profile email")
    oidc_redirect_url: str | None = Field(
        default=None,
        description="the callback URL registered with the provider; unset: this console's "
        "own /signin/oidc/callback as the browser reaches it",
    )
    session_idle_minutes: int = Field(
        default=30, ge=1, description="a session unused this long is over; sign in again"
    )
    session_max_hours: int = Field(
        default=12, ge=1, description="a session ends this long after sign-in, however busy"
    )
    token_minutes: int = Field(
        default=10,
        ge=1,
        le=60,
        description="the life of the token the console gets a person for each call to a service",
    )
    secure_cookies: bool = Field(
        default=False,
        description="mark cookies Secure; on whenever the console is reached over https",
    )
    trace_url: str = Field(
        default="http://127.0.0.1:9411/zipkin/?annotationQuery=order.id%3D{order_id}",
        description="where an order's trace opens, `{order_id}` filled in (the tracing UI)",
    )
    refresh_seconds: int = Field(default=15, ge=2, description="how often queues refresh")
    order_url: str = _service_url("order", 8101)
    inventory_url: str = _service_url("inventory", 8102)
    fulfillment_url: str = _service_url("fulfillment", 8103)
    procurement_url: str = _service_url("procurement", 8104)
    returns_url: str = _service_url("returns", 8105)
    finance_url: str = _service_url("finance", 8106)

    @property
    def auth_folder(self) -> Path:
        """The local stack's keys: the issuer's signs the tokens the console gets people."""
        return self.state_dir / "auth"

    def service_url(self, service: str) -> str:
        url: str = getattr(self, f"{service}_url")
        return url.rstrip("/")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.state_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{self.state_dir.resolve() / 'console.db'}"
