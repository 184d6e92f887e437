"""Settings: every tunable of Gourmet, read from the environment (prefix ``GOURMET_``)."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """One place for configuration; values are data, never literals in code."""

    model_config = SettingsConfigDict(env_prefix="GOURMET_", env_file=".env", extra="ignore")

    profile: Literal["hardened", "incident"] = "hardened"

    # Database: an explicit URL, or the embedded PostgreSQL kept under ``data_dir``.
    database_url: str | None = None
    data_dir: Path = Path("var")
    database_name: str = "gourmet"

    # Pool guards (see db/pool.py).
    pool_min_size: int = Field(default=2, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    pool_timeout_s: float = Field(default=2.0, gt=0, description="longest wait for a connection")
    pool_max_waiting: int = Field(default=64, ge=0, description="0 means unbounded")
    pool_max_lifetime_s: float = Field(default=1800.0, gt=0)
    pool_check_idle_s: float = Field(
        default=1.0, ge=0, description="check connections idle longer than this before use"
    )
    statement_timeout_ms: int = Field(default=2000, ge=0)
    idle_in_transaction_timeout_ms: int = Field(default=5000, ge=0)
    lock_timeout_ms: int = Field(default=1000, ge=0)

    # HTTP server.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)

    # Staff credential until accounts land: a bearer token (see README, "Staff access").
    staff_token: str | None = None

    # Restaurant.
    timezone: str = "America/New_York"
    slot_days_ahead: int = Field(default=2, ge=1, le=14)

    @field_validator("pool_max_size")
    @classmethod
    def _pool_bounds(cls, value: int) -> int:
        if value > 200:
            raise ValueError("pool_max_size above 200 would exhaust any PostgreSQL")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone
        return value

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def staff_token_file(self) -> Path:
        return self.data_dir / "staff-token"

    def resolved_staff_token(self) -> str:
        """The configured staff token, or a development one generated once under ``data_dir``."""
        if self.staff_token:
            return self.staff_token
        path = self.staff_token_file
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        path.write_text(token + "\n")
        path.chmod(0o600)
        return token
