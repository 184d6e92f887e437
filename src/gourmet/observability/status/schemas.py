"""Shapes of the status feed and of incident posts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal

import msgspec

IncidentState = Literal["investigating", "identified", "monitoring", "resolved"]
ComponentName = Literal["ordering", "tracking", "payments"]
ComponentState = Literal["operational", "degraded", "outage"]
COMPONENTS: tuple[ComponentName, ...] = ("ordering", "tracking", "payments")


class PublicIncidentUpdate(msgspec.Struct, frozen=True):
    """An update as everyone may read it: what and when, never who (authors are staff emails,
    or what an operator signed with the shared token)."""

    state: IncidentState
    message: str
    expected_resolution_at: datetime | None
    at: datetime


class IncidentUpdate(PublicIncidentUpdate, frozen=True):
    """An update as the staff see it."""

    author: str


class PublicIncident(msgspec.Struct, frozen=True):
    id: int
    title: str
    state: IncidentState
    message: str
    components: list[ComponentName]
    expected_resolution_at: datetime | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    updates: Sequence[PublicIncidentUpdate]


class Incident(PublicIncident, frozen=True):
    updates: Sequence[IncidentUpdate]


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


class PublicStatusFeed(msgspec.Struct, frozen=True):
    """What ``/api/status`` tells anyone."""

    overall: ComponentState
    components: list[Component]
    incidents: Sequence[PublicIncident]  # open ones first, then those resolved in the last days
    banner: str | None
    generated_at: datetime


class StatusFeed(PublicStatusFeed, frozen=True):
    """The same for the staff, with who wrote each update."""

    incidents: Sequence[Incident]
