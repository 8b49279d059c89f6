"""The bot's configuration: one typed object read from the environment and an optional ``.env``.

``load_settings()`` is the only way in. Bad configuration raises :class:`SettingsError`, whose
``problems`` has one human line per variable ("NAME: what is wrong; expected what is valid"),
and never echoes a secret's value.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Mapping
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.core.projects import ProjectDirectory
from bot.store import normalize_database_url

__all__ = ["DEFAULT_DATABASE_URL", "Settings", "SettingsError", "load_settings"]

DEFAULT_DATABASE_URL = "sqlite:///data/exports-bot.sqlite3"
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")

# What each variable expects, in words; every problem line ends with one of these.
_EXPECTED: dict[str, str] = {
    "SLACK_BOT_TOKEN": "the bot token from OAuth & Permissions, starting with xoxb-",
    "SLACK_SIGNING_SECRET": "the signing secret from Basic Information > App Credentials",
    "SLACK_APP_TOKEN": "an app-level token starting with xapp- (only for Socket Mode; "
    "leave unset for HTTP mode)",
    "SLACK_API_URL": "the Slack Web API base URL, e.g. https://slack.com/api/",
    "PEAKA_API_KEY": "a Peaka partner API key (Peaka Studio > API keys)",
    "PEAKA_API_URL": "the Peaka API base URL, e.g. https://partner.peaka.studio/api/v1",
    "PEAKA_PROJECTS": "comma-separated Peaka project ids, each optionally alias=id; "
    "the first is the default, e.g. sales=mtKDhe1U,ops=Qx81bb2T",
    "PORT": "a TCP port number from 0 to 65535 (default 3000)",
    "HOST": "an address to bind, e.g. 0.0.0.0 (default) or 127.0.0.1",
    "DATABASE_URL": f"a database URL, e.g. {DEFAULT_DATABASE_URL} (the default) "
    "or postgresql://user:pass@host/db",
    "POLL_INTERVAL": "seconds between poll cycles, a number greater than 0 (default 30)",
    "EXPORTS_ADMINS": "comma-separated Slack user ids such as U012ABCDEF (optional)",
    "BOT_ENCRYPTION_KEY": "a Fernet key (44 url-safe base64 characters) for stored user keys",
    "LINKING_ENABLED": "true or false (default true)",
    "LOG_FORMAT": "text or json (default text)",
    "LOG_LEVEL": "one of " + ", ".join(_LOG_LEVELS) + " (default INFO)",
}
_SECRET_VARIABLES = frozenset(
    {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "PEAKA_API_KEY"}
    | {"BOT_ENCRYPTION_KEY", "DATABASE_URL"}
)

# Set by load_settings(env=...) so that only the given mapping is read (tests, subprocesses).
_ONLY_MAPPING: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "settings_only_mapping", default=False
)


class SettingsError(Exception):
    """The configuration is unusable; ``problems`` has one line per bad variable."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(problems))


class Settings(BaseSettings):
    """Everything the bot reads from its environment. Secrets are ``SecretStr``."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
    )

    slack_bot_token: SecretStr = Field(validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr = Field(validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    peaka_api_key: SecretStr = Field(validation_alias="PEAKA_API_KEY")
    peaka_api_url: str = Field(
        default="https://partner.peaka.studio/api/v1", validation_alias="PEAKA_API_URL"
    )
    peaka_projects: str = Field(validation_alias="PEAKA_PROJECTS")
    port: int = Field(default=3000, ge=0, le=65535, validation_alias="PORT")
    host: str = Field(default="0.0.0.0", validation_alias="HOST")
    # May carry a password, so it stays out of reprs.
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL", repr=False
    )
    poll_interval: float = Field(default=30.0, gt=0, validation_alias="POLL_INTERVAL")
    exports_admins: str = Field(default="", validation_alias="EXPORTS_ADMINS")
    bot_encryption_key: SecretStr | None = Field(
        default=None, validation_alias="BOT_ENCRYPTION_KEY"
    )
    linking_enabled: bool = Field(default=True, validation_alias="LINKING_ENABLED")
    log_format: Literal["text", "json"] = Field(default="text", validation_alias="LOG_FORMAT")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        if _ONLY_MAPPING.get():
            return (init_settings,)
        return (init_settings, env_settings, dotenv_settings)

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_prefix(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("does not start with xoxb- (is it a user or app token?)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_prefix(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("does not start with xapp-")
        return value

    @field_validator("slack_signing_secret", "peaka_api_key")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("is blank")
        return value

    @field_validator("slack_api_url", "peaka_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names onto the base URL, so it must end with "/".
        return value if value.endswith("/") else value + "/"

    @field_validator("peaka_api_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("peaka_projects")
    @classmethod
    def _projects_parse(cls, value: str) -> str:
        ProjectDirectory.parse(value)  # its ValueError says which entry is wrong and why
        return value

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: str) -> str:
        normalize_database_url(value)  # its ValueError lists the accepted forms, never a password
        return value

    @field_validator("exports_admins")
    @classmethod
    def _admin_ids(cls, value: str) -> str:
        bad = [item for item in _split(value) if not _SLACK_USER_ID.match(item)]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))} is not a Slack user id")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in _LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level")
        return level

    @property
    def socket_mode(self) -> bool:
        """True when an app-level token is set: connect out over Socket Mode."""
        return self.slack_app_token is not None

    @property
    def admins(self) -> frozenset[str]:
        """Slack user ids allowed to run admin-only commands."""
        return frozenset(_split(self.exports_admins))

    @property
    def projects(self) -> ProjectDirectory:
        """PEAKA_PROJECTS parsed; the first project is the default."""
        return ProjectDirectory.parse(self.peaka_projects)

    def secret_values(self) -> list[str]:
        """Every secret string in this configuration, for the log redactor."""
        secrets = [
            s.get_secret_value()
            for s in (
                self.slack_bot_token,
                self.slack_signing_secret,
                self.slack_app_token,
                self.peaka_api_key,
                self.bot_encryption_key,
            )
            if s is not None
        ]
        password = re.match(r"^[^:]+://[^:/@]*:([^@]+)@", self.database_url)
        if password:
            secrets.append(password.group(1))
        return secrets


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``env`` alone, or from ``os.environ`` plus ``./.env`` when None.

    Raises SettingsError listing every problem, one line each.
    """
    try:
        if env is None:
            return Settings.model_validate({})
        values = {key.upper(): value for key, value in env.items() if value != ""}
        token = _ONLY_MAPPING.set(True)
        try:
            return Settings.model_validate(values)
        finally:
            _ONLY_MAPPING.reset(token)
    except ValidationError as exc:
        raise SettingsError(_problems(exc.errors())) from None


def _problems(errors: list[ErrorDetails]) -> list[str]:
    lines: list[str] = []
    seen: set[str] = set()
    for error in errors:
        name = str(error["loc"][0]) if error["loc"] else "configuration"
        if name in seen:
            continue
        seen.add(name)
        problem = _what_is_wrong(name, error)
        if "expected" not in problem:  # some validators already say what is valid
            problem += f"; expected {_EXPECTED.get(name, 'a valid value')}"
        lines.append(f"{name}: {problem}")
    return lines


def _what_is_wrong(name: str, error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "missing"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ").removeprefix(f"{name} ")
    shown = "" if name in _SECRET_VARIABLES else f"{str(error.get('input'))[:60]!r} "
    if kind in ("int_parsing", "float_parsing", "int_from_float"):
        return f"{shown}is not a number".strip()
    if kind == "bool_parsing":
        return f"{shown}is not true or false".strip()
    if kind in ("greater_than", "greater_than_equal", "less_than_equal", "less_than"):
        return f"{shown}is out of range".strip()
    if kind == "literal_error":
        return f"{shown}is not one of the allowed values".strip()
    return f"{shown}is invalid".strip()


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]
