"""Settings: `channels.yaml` -> validated pydantic models, checked once at start.

Everything a deployment can change lives here, so a typo fails the start with the key and the
line instead of silently disabling a feature. The YAML handling (``${ENV}`` expansion, secrets
that must be references, errors with line numbers) is in `core/config_file.py`.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bots import settings_model
from bots.base import ChannelSettings
from core.errors import ConfigError
from core.hours import BusinessHours

DEFAULT_CONFIG = Path("channels.yaml")
DB_URL_ENV = "SUPPORTBOT_DB_URL"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = None  # how customers and agents reach us (links, deep links); no trailing /
    secure_cookies: bool = False  # set behind HTTPS
    first_admin_name: str = Field(default="admin", min_length=1, max_length=64)  # created on the first start
    # Reverse proxies (addresses or networks) whose X-Forwarded-For/-Proto/-Host are believed: the client's
    # address for sign-in throttling and the website chat's limits. A list, or one comma-separated string.
    trusted_proxies: list[str] = Field(default_factory=list)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            value = [part for part in value.replace(",", " ").split() if part]
        if not isinstance(value, list):
            return value
        out = []
        for item in value:
            try:
                out.append(str(ipaddress.ip_network(str(item), strict=False)))
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 10.0.0.5 or 172.30.0.0/24)") from None
        return out

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class TicketSettings(_Section):
    first_response_hours: float = Field(default=24, gt=0)
    auto_assign: bool = False
    max_open_per_agent: int = Field(default=20, ge=1)


class TriageSettings(_Section):
    min_confidence: float | None = Field(default=None, ge=0, le=1)  # None: triage's own default


class DispatchSettings(_Section):
    max_attempts: int = Field(default=8, ge=1)
    base_backoff_seconds: float = Field(default=2.0, gt=0)
    max_backoff_seconds: float = Field(default=600, gt=0)
    poll_interval_seconds: float = Field(default=1.0, gt=0)


class ImpersonationSettings(_Section):
    protected_names: list[str] = Field(default_factory=list)  # beyond "<brand> support/official/admin/..."
    remove: bool = False  # remove a suspect from the group or guild (the bot needs the right to)
    alert: dict[str, str] = Field(default_factory=dict)  # channel -> chat/channel id where moderators are told


class HousekeepingSettings(_Section):
    interval_minutes: float = Field(default=10, gt=0)
    keep_sent_replies_days: float = Field(default=30, gt=0)  # delivered outbox rows; the messages stay
    # messages without a ticket (FAQ answers, greetings): pruned after this, figures kept; null: kept forever
    keep_unticketed_messages_days: float | None = Field(default=90, gt=0)


def _default_channels() -> dict[str, ChannelSettings]:
    return {"webchat": settings_model("webchat")()}


class Settings(_Section):
    brand: str = Field(default="OKPay", min_length=1)
    database_url: str = "sqlite+aiosqlite:///supportbot.db"
    knowledge_base: str | None = None  # relative to the config file's folder; None: the packaged one
    web: WebSettings = Field(default_factory=WebSettings)
    tickets: TicketSettings = Field(default_factory=TicketSettings)
    triage: TriageSettings = Field(default_factory=TriageSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    housekeeping: HousekeepingSettings = Field(default_factory=HousekeepingSettings)
    impersonation: ImpersonationSettings = Field(default_factory=ImpersonationSettings)
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    channels: dict[str, ChannelSettings] = Field(default_factory=_default_channels)

    _config_path: Path | None = PrivateAttr(default=None)

    @property
    def config_path(self) -> Path | None:
        """The file these settings were loaded from (None for built-in defaults)."""
        return self._config_path

    @property
    def knowledge_base_path(self) -> Path | None:
        """The knowledge base file to load; None means the one packaged with supportbot."""
        if not self.knowledge_base:
            return None
        path = Path(self.knowledge_base).expanduser()
        if not path.is_absolute() and self._config_path is not None:
            path = self._config_path.parent / path
        return path

    def enabled_channels(self) -> list[str]:
        return [name for name, block in self.channels.items() if block.enabled]

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        """The store is async: accept the usual sync spellings and pick the async driver."""
        scheme, sep, rest = value.partition("://")
        if not sep or not scheme:
            raise ValueError("must be a database URL such as sqlite+aiosqlite:///supportbot.db")
        drivers = {"postgres": "postgresql+asyncpg", "postgresql": "postgresql+asyncpg",
                   "sqlite": "sqlite+aiosqlite"}
        url = f"{drivers.get(scheme, scheme)}://{rest}"
        try:
            parsed = make_url(url)
            _ = parsed.port  # a non-numeric port fails here, not at start-up
        except (ArgumentError, ValueError) as exc:
            raise ValueError(f"is not a valid database URL ({exc})") from None
        if parsed.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError("use sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER:PASSWORD@HOST/DB")
        return url

    @field_validator("web", "tickets", "triage", "dispatch", "housekeeping", "impersonation", "business_hours",
                     "channels", mode="before")
    @classmethod
    def _empty_section(cls, value: Any) -> Any:
        """A section written with nothing under it (only comments) means its defaults."""
        return {} if value is None else value

    @field_validator("channels", mode="before")
    @classmethod
    def _per_channel_model(cls, value: Any, info: ValidationInfo) -> Any:
        """Validate each block with its channel's own model, keeping the full error location."""
        if not isinstance(value, Mapping):
            return value
        out: dict[Any, Any] = {}
        errors: list[Any] = []
        for name, block in value.items():
            if isinstance(block, ChannelSettings) or not isinstance(name, str):
                out[name] = block
                continue
            try:
                model = settings_model(name)
            except ConfigError as exc:
                errors.append(_custom("unknown_channel", exc.problems[0], (name,), block))
                continue
            except ImportError as exc:
                errors.append(_custom("channel_import", f"cannot load this channel: {exc}", (name,), block))
                continue
            try:
                out[name] = model.model_validate({} if block is None else block, context=info.context)
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    detail = {"type": err["type"], "loc": (name, *err["loc"]), "input": err["input"]}
                    if "ctx" in err:
                        detail["ctx"] = err["ctx"]
                    errors.append(detail)
        if errors:
            raise ValidationError.from_exception_data("channels", errors)
        return out


def _custom(kind: str, message: str, loc: tuple[Any, ...], value: Any) -> dict[str, Any]:
    return {"type": PydanticCustomError(kind, message.replace("{", "(").replace("}", ")")), "loc": loc,
            "input": value}


def default_settings() -> Settings:
    """Built-in defaults: the website chat on SQLite, nothing else."""
    return Settings()


def load_settings(path: str | Path | None = None, *, env: Mapping[str, str] | None = None,
                  credentials: bool = True) -> Settings:
    """Load and validate a config file; raise ConfigError listing every problem with its line.

    ``path=None`` reads ./channels.yaml when it exists and uses the defaults otherwise.
    ``SUPPORTBOT_DB_URL`` in the environment overrides ``database_url``. ``credentials=False`` is for
    commands that never start a channel (users, tokens, the schema): an enabled channel's missing
    token is then not their problem.
    """
    context = {"without_credentials": not credentials}
    from core.config_file import parse_config

    env = os.environ if env is None else env
    override = env.get(DB_URL_ENV) or None
    if path is None and not DEFAULT_CONFIG.is_file():
        settings = default_settings()
        if override:
            try:
                settings = Settings.model_validate({**settings.model_dump(exclude={"channels"}),
                                                   "channels": settings.channels, "database_url": override},
                                                  context=context)
            except ValidationError as exc:
                raise ConfigError([f"{DB_URL_ENV}: {e['msg']}" for e in exc.errors()]) from None
        return settings
    file = Path(path) if path is not None else DEFAULT_CONFIG
    settings = parse_config(file, env, Settings, overrides={"database_url": override} if override else {},
                            context=context)
    settings._config_path = file.resolve()
    return settings
