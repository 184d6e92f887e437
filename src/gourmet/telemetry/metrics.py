"""Prometheus metrics: requests, pool, admission, business; correct with several workers.

With more than one worker, ``PROMETHEUS_MULTIPROC_DIR`` is set (by ``gourmet serve``) before
this module is imported, and prometheus_client writes each process's values to files that
``/metrics`` aggregates. Gauges say how they combine across processes (``livesum``: add the live
workers; ``livemax``: the highest of the live workers). A worker that died (killed, or replaced
by a reload) leaves its files behind: its counters still count, but its gauges are removed at
the next scrape (``forget_dead_workers``), or a dead worker's last "database down" would be
reported for ever.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from gourmet.asgi import ASGIApp, Message, Receive, Scope, Send

# Around our goals: a cached read in a few ms, a checkout in tens of ms, 3 s the hard deadline.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ACQUIRE_BUCKETS = (0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

HTTP_REQUESTS = Counter(
    "gourmet_http_requests", "HTTP requests answered", ["route", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "gourmet_http_request_duration_seconds",
    "Time from request to response head",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "gourmet_http_requests_in_flight", "Requests being served", multiprocess_mode="livesum"
)

POOL_STAT = Gauge(
    "gourmet_db_pool_stat",
    "Every psycopg_pool get_stats() figure, by name",
    ["stat"],
    multiprocess_mode="livesum",
)
POOL_CONNECTIONS = Gauge(
    "gourmet_db_pool_connections",
    "Pooled connections by state",
    ["state"],
    multiprocess_mode="livesum",
)
POOL_MAX = Gauge("gourmet_db_pool_max", "Pool size limit", multiprocess_mode="livesum")
POOL_WAITING = Gauge(
    "gourmet_db_pool_waiting", "Requests waiting for a connection", multiprocess_mode="livesum"
)
POOL_ACQUIRE = Histogram(
    "gourmet_db_pool_acquire_seconds", "Wait for a pooled connection", buckets=ACQUIRE_BUCKETS
)
POOL_TIMEOUTS = Counter("gourmet_db_pool_timeouts", "Connection requests that gave up")
POOL_LEAKS = Counter("gourmet_db_pool_leaks", "Connections held longer than the threshold")
DB_CONNECTIONS_LOST = Counter("gourmet_db_connections_lost", "Pooled connections found broken")
DB_UP = Gauge("gourmet_db_up", "Database reachable (1) or not (0)", multiprocess_mode="livemin")

ADMISSION_LIMIT = Gauge(
    "gourmet_admission_limit", "Adaptive concurrency limit", multiprocess_mode="livesum"
)
ADMISSION_IN_FLIGHT = Gauge(
    "gourmet_admission_in_flight", "Admitted requests in flight", multiprocess_mode="livesum"
)
ADMISSION_SHED = Counter(
    "gourmet_admission_shed", "Requests refused by admission control", ["priority"]
)
ADMISSION_WAITED = Counter(
    "gourmet_admission_waited", "Requests that found the limit full, waited for a slot and got it"
)
WAITING_ROOM_WAITING = Gauge(
    "gourmet_waiting_room_waiting",
    "Order attempts waiting in line for checkout capacity",
    multiprocess_mode="livesum",
)
WAITING_ROOM_AWAY = Gauge(
    "gourmet_waiting_room_away",
    "Customers sent back with a ticket who keep their place in line until they try again",
    multiprocess_mode="livesum",
)
WAITING_ROOM_OUTCOMES = Counter(
    "gourmet_waiting_room_outcomes",
    "Order attempts by how the waiting room ended for them: served (at once or after waiting),"
    " waited (served after waiting), sent_back (hold ran out, or an earlier customer took the"
    " place), turned_away (line full of earlier customers), left (the client went away)",
    ["outcome"],
)
DEADLINE_EXPIRED = Counter("gourmet_deadline_expired", "Requests whose deadline passed")

# The capacity the growth alerts compare with (deploy/prometheus/rules.yml): checkouts/s of
# this process (GOURMET_ADMISSION__CHECKOUTS_PER_WORKER, from make bench), summed per instance; and
# of the whole deployment at full scale-out, by the capacity plan's rule (db/plan.py).
CHECKOUT_CAPACITY = Gauge(
    "gourmet_checkout_capacity",
    "Checkouts per second this process sustains (from make bench, with headroom)",
    multiprocess_mode="livesum",
)
CHECKOUT_CAPACITY_PLANNED = Gauge(
    "gourmet_checkout_capacity_planned",
    "Checkouts per second the deployment sustains at full scale-out (workers x replicas)",
    multiprocess_mode="livemax",
)

ORDERS_PLACED = Counter("gourmet_orders_placed", "Orders placed", ["fulfilment"])
ORDERS_REJECTED = Counter("gourmet_orders_rejected", "Checkouts refused", ["reason"])
ORDER_VIEWS_HELD = Gauge(
    "gourmet_order_views_held", "Orders whose view is held in memory", multiprocess_mode="livesum"
)
ORDER_VIEW_READS = Counter(
    "gourmet_order_view_reads", "Order status reads, by where they were answered from", ["source"]
)
IDEMPOTENCY_KEYS_PRUNED = Counter(
    "gourmet_idempotency_keys_pruned", "Idempotency keys deleted after their retention"
)
OUTBOX_JOBS = Counter(
    "gourmet_outbox_jobs",
    "Outbox jobs run (refunds, notifications), by kind and outcome (done, retry, failed, error)",
    ["kind", "outcome"],
)
UNPAID_ORDERS_EXPIRED = Counter(
    "gourmet_unpaid_orders_expired", "Card orders cancelled for not being paid in time"
)
MENU_CACHE_AGE = Gauge(
    "gourmet_menu_cache_age_seconds", "Age of the cached menu", multiprocess_mode="livemax"
)
MENU_CACHE_RELOADS = Counter("gourmet_menu_cache_reloads", "Menu cache reloads")
EVENT_STREAMS = Gauge(
    "gourmet_event_streams", "Open server-sent event streams", multiprocess_mode="livesum"
)

PARAMETER = re.compile(r"\{([^}:]+)(?::([^}]+))?\}")
# What a path parameter of each converter type matches in a raw path.
_PARAMETER_PATTERNS = {"int": r"-?\d+", "path": r".*"}
OTHER_ROUTE = "other"


class RouteLabels:
    """The route template of a request, for metric labels and access lines: labels must stay a
    small set, never raw paths.

    Litestar writes the template into the scope of every request it routes. A request it never
    routed (refused by admission control, or answered by the menu fast path) is matched here
    against the app's own route paths, so the labels follow the routes the app really has and
    no second list of paths is kept by hand. Templates are indexed by their literal first
    segments, so a match tries a few patterns, not all of them.
    """

    def __init__(self, paths: Iterable[str]) -> None:
        self._static: set[str] = set()
        self._templates: dict[str, list[tuple[re.Pattern[str], str]]] = {}
        for path in paths:
            if "{" not in path:
                self._static.add(path)
                continue
            template = PARAMETER.sub(lambda m: "{" + m.group(1) + "}", path)
            pattern = "".join(
                re.escape(part)
                if i % 3 == 0
                else ""
                if i % 3 == 1
                else f"(?:{_PARAMETER_PATTERNS.get(part, r'[^/]+')})"
                for i, part in enumerate(PARAMETER.split(path))
            )
            self._templates.setdefault(_prefix(path), []).append(
                (re.compile(pattern + "$"), template)
            )

    def __call__(self, scope: Scope) -> str:
        template = scope.get("path_template")
        if template:
            return str(template)
        path: str = scope["path"]
        if path in self._static:
            return path
        segments = path.split("/", 3)
        for depth in (3, 2):  # "/api/orders", then "/static"
            for pattern, label in self._templates.get("/".join(segments[:depth]), ()):
                if pattern.match(path):
                    return label
        return OTHER_ROUTE


def _prefix(template: str) -> str:
    """The literal segments of a template before its first parameter, at most two:
    "/api/orders" of "/api/orders/{token}", "/static" of "/static/{file_path:path}"."""
    literal = []
    for segment in template.split("/")[1:3]:
        if "{" in segment:
            break
        literal.append(segment)
    return "/" + "/".join(literal)


def template_only(scope: Scope) -> str:
    """The label of a request without a route table: its template if routed, else "other"."""
    return str(scope.get("path_template") or OTHER_ROUTE)


class RequestMetrics:
    """Outermost ASGI layer: counts and times every HTTP request, shed ones included."""

    def __init__(
        self,
        app: ASGIApp,
        clock: Callable[[], float] = time.perf_counter,
        label: Callable[[Scope], str] = template_only,
    ) -> None:
        self.app = app
        self._label = label
        self._clock = clock
        self._latency_children: dict[tuple[str, str], Any] = {}
        self._request_children: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = self._clock()
        status = 500  # what the server answers if the app fails before starting a response

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                self._latency(self._label(scope), scope["method"]).observe(self._clock() - started)
            await send(message)

        HTTP_IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, timed_send)
        finally:
            HTTP_IN_FLIGHT.dec()
            self._requests(self._label(scope), scope["method"], status).inc()

    # ``labels()`` takes a lock and validates its arguments on every call; the label sets are
    # few (route templates x methods x statuses), so each child is looked up once and kept.
    def _latency(self, route: str, method: str) -> Any:
        key = (route, method)
        child = self._latency_children.get(key)
        if child is None:
            child = self._latency_children[key] = HTTP_LATENCY.labels(route, method)
        return child

    def _requests(self, route: str, method: str, status: int) -> Any:
        key = (route, method, status)
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = HTTP_REQUESTS.labels(route, method, str(status))
        return child


# prometheus_client's file of a live-mode gauge: gauge_<mode>_<pid>.db
LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+_(\d+)\.db")


def forget_dead_workers(directory: str) -> list[int]:
    """Remove the gauges of processes that no longer run; the pids removed."""
    dead = set()
    for name in os.listdir(directory):
        match = LIVE_GAUGE_FILE.fullmatch(name)
        if match and not _alive(int(match.group(1))):
            dead.add(int(match.group(1)))
    for pid in dead:
        multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
    return sorted(dead)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def exposition() -> tuple[bytes, str]:
    """The metrics page: this process's registry, or all workers' in multiprocess mode."""
    if directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        forget_dead_workers(directory)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


# Counted once per job, when it is settled failed (gourmet_outbox_jobs counts every try): the
# OutboxJobsFailed alert (deploy/prometheus/rules.yml) reads it.
OUTBOX_JOBS_FAILED = Counter(
    "gourmet_outbox_jobs_failed",
    "Outbox jobs given up for good, by kind and outcome (refused: a final answer such as a"
    " refund the provider refused; exhausted: still failing after the retry policy's tries)",
    ["kind", "outcome"],
)
