"""Settings: every tunable of Gourmet, read from the environment.

Settings come in groups, one model each (groups.py), read from ``GOURMET_<GROUP>__<NAME>``: the
database's pool timeout is ``GOURMET_DATABASE__POOL_TIMEOUT_S``, read as
``settings.database.pool_timeout_s``. The profile, the environment and the data directory are
read from ``GOURMET_PROFILE``, ``GOURMET_ENVIRONMENT`` and ``GOURMET_DATA_DIR``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gourmet.config.groups import (
    AdmissionSettings,
    DatabaseSettings,
    Group,
    KitchenSettings,
    LogsSettings,
    NotificationsSettings,
    OrdersSettings,
    PaymentsSettings,
    RestaurantSettings,
    SecuritySettings,
    ServerSettings,
)

PREFIX = "GOURMET_"
DELIMITER = "__"

# What the platform of 10 November did: wait 30 s for a connection, queue without limit, and let
# PostgreSQL run any statement or idle transaction for ever.
INCIDENT_DEFAULTS: dict[str, dict[str, object]] = {
    "database": {
        "pool_timeout_s": 30.0,
        "pool_max_waiting": 0,
        "statement_timeout_ms": 0,
        "idle_in_transaction_timeout_ms": 0,
        "lock_timeout_ms": 0,
    },
    "server": {
        "backlog": 2048,  # gunicorn's default: the kernel queues thousands of doomed requests
        # Connections a worker accepts: the cap every replay of the old platform has used,
        # whatever the hardened default becomes (it must hold the waiting room, which the old
        # one lacked).
        "max_connections": 4096,
    },
    "orders": {"views_held": 0},  # every status read went to the database
}

# Connections a worker keeps for everything but the waiting room (boards, tracking, the menu).
CONNECTIONS_BESIDE_THE_LINE = 1024
MIN_SECRET_LENGTH = 24
MIN_SECRET_DISTINCT = 12  # "aaaa...", "abab..." and the like are not secrets


class Settings(BaseSettings):
    """One place for configuration; values are data, never literals in code."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_nested_delimiter=DELIMITER, env_file=".env", extra="ignore"
    )

    profile: Literal["hardened", "incident"] = "hardened"
    # development: conveniences (a generated staff token); production: refuses them.
    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    admission: AdmissionSettings = Field(default_factory=AdmissionSettings)
    payments: PaymentsSettings = Field(default_factory=PaymentsSettings)
    notifications: NotificationsSettings = Field(default_factory=NotificationsSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    orders: OrdersSettings = Field(default_factory=OrdersSettings)
    kitchen: KitchenSettings = Field(default_factory=KitchenSettings)
    restaurant: RestaurantSettings = Field(default_factory=RestaurantSettings)
    logs: LogsSettings = Field(default_factory=LogsSettings)

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_variables(cls, values: Any) -> Any:
        unknown = unknown_variables(os.environ)
        if unknown:
            raise ValueError("; ".join(unknown))
        return values

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.environment != "production":
            return self
        token = self.security.staff_token
        if not token or len(token) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"GOURMET_SECURITY__STAFF_TOKEN must be set to a secret of at least"
                f" {MIN_SECRET_LENGTH} characters in production (a generated development token"
                " is not allowed)"
            )
        if len(set(token)) < MIN_SECRET_DISTINCT:
            raise ValueError(
                f"GOURMET_SECURITY__STAFF_TOKEN has fewer than {MIN_SECRET_DISTINCT} different"
                " characters: not a secret (generate one: python3 -c 'import secrets;"
                " print(secrets.token_urlsafe(32))')"
            )
        if not self.security.cookie_secure:
            raise ValueError(
                "GOURMET_SECURITY__COOKIE_SECURE must be true in production: session cookies"
                " travel over HTTPS only (serve Gourmet behind a TLS proxy)"
            )
        problem = self.payments.live_problem()
        if problem:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _line_leaves_room_for_others(self) -> Settings:
        # Each customer held in line keeps a connection open: a line as long as the cap would
        # leave no connection for the kitchen board, the tracking pages and the menu. (The
        # incident profile has no waiting room.)
        room_left = self.server.max_connections - CONNECTIONS_BESIDE_THE_LINE
        if self.profile == "hardened" and self.admission.waiting_room_size > room_left:
            raise ValueError(
                f"GOURMET_ADMISSION__WAITING_ROOM_SIZE ({self.admission.waiting_room_size}) must"
                f" leave {CONNECTIONS_BESIDE_THE_LINE} of GOURMET_SERVER__MAX_CONNECTIONS"
                f" ({self.server.max_connections}) to the rest of the site: customers held in"
                " line keep their connections open"
            )
        return self

    @model_validator(mode="after")
    def _pooler_needs_a_direct_listener(self) -> Settings:
        if self.database.pooler == "pgbouncer" and not self.database.listen_url:
            raise ValueError(
                "GOURMET_DATABASE__POOLER=pgbouncer needs GOURMET_DATABASE__LISTEN_URL: LISTEN"
                " cannot work through a transaction-mode pooler; point it at PostgreSQL itself"
            )
        return self

    @model_validator(mode="after")
    def _apply_profile(self) -> Settings:
        """The incident profile reproduces the old platform, except where a value is set."""
        if self.profile == "incident":
            for group_name, values in INCIDENT_DEFAULTS.items():
                group = getattr(self, group_name)
                for name, value in values.items():
                    if name not in group.model_fields_set:
                        setattr(group, name, value)
        return self

    @property
    def hardened(self) -> bool:
        """Admission control, menu cache and deadlines are on (off in the incident profile)."""
        return self.profile == "hardened"

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.restaurant.timezone)

    @property
    def staff_token_file(self) -> Path:
        return self.data_dir / "staff-token"

    def resolved_staff_token(self) -> str:
        """The configured staff token, or a development one generated once under ``data_dir``."""
        if self.security.staff_token:
            return self.security.staff_token
        path = self.staff_token_file
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        path.write_text(token + "\n")
        path.chmod(0o600)
        return token

    def changed(self, **groups: Mapping[str, object]) -> Settings:
        """A copy with some settings of some groups changed, checked as when read:
        ``settings.changed(security={"cookie_secure": True})``."""
        values = self.model_dump()
        for group_name, changes in groups.items():
            values[group_name].update(changes)
        return type(self)(_env_file=None, **values)  # type: ignore[call-arg]


def variable_name(group: str, name: str) -> str:
    """The environment variable of one setting: ``GOURMET_DATABASE__POOL_TIMEOUT_S``."""
    return f"{PREFIX}{group}{DELIMITER}{name}".upper()


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """What is wrong with each ``GOURMET_`` variable that names no setting, with the name it
    likely meant (settings were a flat list until they were grouped)."""
    groups: dict[str, type[Group]] = {
        name: field.annotation
        for name, field in Settings.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, Group)
    }
    top = {f"{PREFIX}{name}".upper() for name in Settings.model_fields if name not in groups}
    problems = []
    for variable in environ:
        if not variable.startswith(PREFIX) or variable in top:
            continue
        group_name, _, name = variable.removeprefix(PREFIX).lower().partition(DELIMITER)
        group = groups.get(group_name)
        if group is not None and (not name or name in group.model_fields):
            continue
        problems.append(f"{variable} names no setting{_suggestion(groups, variable)}")
    return problems


def _suggestion(groups: Mapping[str, type[Group]], variable: str) -> str:
    flat = variable.removeprefix(PREFIX).lower()
    for group_name, group in groups.items():
        for name in group.model_fields:
            if flat in (name, f"{group_name}_{name}", f"{group_name.rstrip('s')}_{name}"):
                return f" (did you mean {variable_name(group_name, name)}?)"
    return " (settings are read as GOURMET_<GROUP>__<NAME>: docs/operating/configuration.md)"
