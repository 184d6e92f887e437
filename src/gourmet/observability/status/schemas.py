"""Shapes of the status feed and of incident posts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

IncidentState = Literal["investigating", "identified", "monitoring", "resolved"]
ComponentName = Literal["ordering", "tracking", "payments"]
ComponentState = Literal["operational", "degraded", "outage"]
COMPONENTS: tuple[ComponentName, ...] = ("ordering", "tracking", "payments")


class IncidentUpdate(msgspec.Struct, frozen=True):
    state: IncidentState
    message: str
    expected_resolution_at: datetime | None
    author: str
    at: datetime


class Incident(msgspec.Struct, frozen=True):
    id: int
    title: str
    state: IncidentState
    message: str
    components: list[ComponentName]
    expected_resolution_at: datetime | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    updates: list[IncidentUpdate]


class IncidentPost(msgspec.Struct, frozen=True):
    """A new incident, or (with the id in the path) an update of one."""

    state: IncidentState
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=120)] | None = None
    components: list[ComponentName] | None = None
    expected_resolution_at: datetime | None = None


class Component(msgspec.Struct, frozen=True):
    name: ComponentName
    state: ComponentState
    reason: str | None = None


class StatusFeed(msgspec.Struct, frozen=True):
    overall: ComponentState
    components: list[Component]
    incidents: list[Incident]  # open ones first, then those resolved in the last days
    banner: str | None
    generated_at: datetime
