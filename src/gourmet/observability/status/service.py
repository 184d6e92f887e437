"""The status board: what customers are told, from the system's own state and from operators.

Component states are derived every time from live signals, so the page turns "degraded" the
moment the system sheds load, without waiting for a human: ordering and tracking are out while
the database is unreachable; ordering is degraded while requests are being shed or time out
waiting for a connection; payments are degraded while the provider's circuit breaker is open.
Operators' incidents (title, state, message, expected resolution) are cached in the process and
reloaded when any process posts one (NOTIFY ``status_changed``), so a page view costs no query.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from gourmet.db.pool import GuardedPool
from gourmet.observability.status import repository
from gourmet.observability.status.schemas import (
    COMPONENTS,
    Component,
    ComponentName,
    ComponentState,
    Incident,
    IncidentPost,
    PublicIncident,
    PublicIncidentUpdate,
    PublicStatusFeed,
    StatusFeed,
)
from gourmet.problems import NotFound, Problem

WINDOW_S = 60.0  # "recently" for shedding and timeouts
_SEVERITY: dict[ComponentState, int] = {"operational": 0, "degraded": 1, "outage": 2}
BUSY_BANNER = (
    "We are very busy right now. Orders still go through, but you may be asked to retry in a "
    "few seconds. Anything we have confirmed is safe."
)
DOWN_BANNER = (
    "Ordering is briefly unavailable while we fix a problem. The menu stays open; please try "
    "again in a few minutes."
)


# What an expected resolution may be; the database checks the same bounds (migration 0009).
ETA_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
ETA_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class InvalidResolutionTime(Problem):
    status = 422
    slug = "invalid-expected-resolution"
    title = "Impossible expected resolution"


def check_expected_resolution(eta: datetime | None) -> None:
    """An expected resolution is a moment with its time zone, between 2000 and 2200: a date
    that cannot be shown (year 0 once in UTC) must never reach the page every customer reads."""
    if eta is None:
        return
    if eta.tzinfo is None or eta.utcoffset() is None:
        raise InvalidResolutionTime(
            "expected_resolution_at needs a time zone (e.g. 2030-01-01T18:30:00Z).",
            field="expected_resolution_at",
        )
    if not ETA_EARLIEST <= eta < ETA_LATEST:  # aware datetimes compare without overflowing
        raise InvalidResolutionTime(
            "expected_resolution_at must fall between the years 2000 and 2200.",
            field="expected_resolution_at",
        )


class StatusBoard:
    def __init__(
        self,
        pool: GuardedPool,
        *,
        shed_total: Callable[[], int],
        breaker_open: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
        tz: tzinfo = UTC,
    ) -> None:
        self._pool = pool
        self.tz = tz  # customers read times in the restaurant's
        self._shed_total = shed_total
        self._breaker_open = breaker_open
        self._clock = clock
        self._incidents: list[Incident] = []
        self._public_incidents: list[PublicIncident] = []
        # (time, requests shed so far, connection waits that timed out so far), once a second.
        self._samples: deque[tuple[float, int, int]] = deque(maxlen=int(WINDOW_S) + 5)

    async def reload(self, _payload: str = "") -> None:
        """The hub's handler for ``status_changed``: re-read the incidents."""
        async with self._pool.connection() as conn:
            self._incidents = await repository.recent_incidents(conn)
        self._public_incidents = [public_incident(incident) for incident in self._incidents]

    def observe(self) -> None:
        """Called every second (by the metrics sampler) to remember the recent counters."""
        self._samples.append((self._clock(), self._shed_total(), self._pool.acquire_timeouts))

    async def post(self, post: IncidentPost, author: str, incident_id: int | None = None) -> int:
        check_expected_resolution(post.expected_resolution_at)
        async with self._pool.connection() as conn, conn.transaction():
            if incident_id is None:
                incident_id = await repository.create_incident(conn, post, author)
            elif not await repository.update_incident(conn, incident_id, post, author):
                raise NotFound(f"There is no incident {incident_id}.")
        await self.reload()
        return incident_id

    def components(self) -> list[Component]:
        derived = {name: self._derived(name) for name in COMPONENTS}
        for incident in self.open_incidents():
            for name in incident.components:
                # Until the cause is identified, an operator's incident means "down".
                state: ComponentState = (
                    "outage" if incident.state == "investigating" else "degraded"
                )
                if _SEVERITY[state] > _SEVERITY[derived[name].state]:
                    derived[name] = Component(name, state, incident.title)
        return [derived[name] for name in COMPONENTS]

    def open_incidents(self) -> list[Incident]:
        return [i for i in self._incidents if i.state != "resolved"]

    def banner(self) -> str | None:
        """What customer pages say at the top, or None when all is well."""
        for incident in self.open_incidents():
            eta = incident.expected_resolution_at
            until = f" Expected back by {eta.astimezone(self.tz):%H:%M}." if eta else ""
            return f"{incident.title}: {incident.message}{until}"
        states = {c.state for c in self.components()}
        if "outage" in states:
            return DOWN_BANNER
        if "degraded" in states:
            return BUSY_BANNER
        return None

    def feed(self) -> StatusFeed:
        components = self.components()
        overall = max((c.state for c in components), key=_SEVERITY.__getitem__)
        return StatusFeed(
            overall=overall,
            components=components,
            incidents=self._incidents,
            banner=self.banner(),
            generated_at=datetime.now(UTC),
        )

    def public_feed(self) -> PublicStatusFeed:
        """The feed anyone may read: as :meth:`feed`, without who wrote each update."""
        staff = self.feed()
        return PublicStatusFeed(
            overall=staff.overall,
            components=staff.components,
            incidents=self._public_incidents,
            banner=staff.banner,
            generated_at=staff.generated_at,
        )

    def _derived(self, name: ComponentName) -> Component:
        if name in ("ordering", "tracking") and not self._pool.health.up:
            return Component(name, "outage", "our database cannot be reached")
        if name == "ordering":
            shed, timeouts = self._recent_growth()
            if shed or timeouts:
                return Component(name, "degraded", "very busy: some requests are turned away")
        if name == "payments" and self._breaker_open():
            return Component(name, "degraded", "the card provider is failing")
        return Component(name, "operational")

    def _recent_growth(self) -> tuple[int, int]:
        if not self._samples:
            return 0, 0
        now = self._clock()
        old = next((s for s in self._samples if now - s[0] <= WINDOW_S), self._samples[-1])
        return self._shed_total() - old[1], self._pool.acquire_timeouts - old[2]


def public_incident(incident: Incident) -> PublicIncident:
    """A copy without the authors. A copy, not the same object typed as its parent: the encoder
    writes every field an object has, whatever type the response declares."""
    return PublicIncident(
        id=incident.id,
        title=incident.title,
        state=incident.state,
        message=incident.message,
        components=incident.components,
        expected_resolution_at=incident.expected_resolution_at,
        created_at=incident.created_at,
        updated_at=incident.updated_at,
        resolved_at=incident.resolved_at,
        updates=[
            PublicIncidentUpdate(u.state, u.message, u.expected_resolution_at, u.at)
            for u in incident.updates
        ],
    )
