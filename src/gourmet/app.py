"""The composition root: builds each service once and registers it for injection.

``create_app`` builds the Litestar application and its :class:`~gourmet.services.Runtime`; the
lifespan (:func:`running`) opens the pool and builds the services; ``create_server_app`` wraps
the application in the plain ASGI layers that must run before routing (metrics, the menu fast
path, admission control, the access log); ``gourmet.worker`` adds what only a served worker needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from datetime import timedelta

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig

from gourmet import routes, web
from gourmet.accounts import endpoints as accounts_endpoints
from gourmet.asgi import ASGIApp
from gourmet.config import Settings
from gourmet.db.embedded import resolve_database_url
from gourmet.db.held import HoldConnectionPerRequest
from gourmet.db.plan import checkout_capacity
from gourmet.http_errors import EXCEPTION_HANDLERS
from gourmet.json_bodies import decode_strictly
from gourmet.kitchen import endpoints as kitchen_endpoints
from gourmet.management import endpoints as management_endpoints
from gourmet.menu.endpoints import MenuFastPath, get_menu
from gourmet.observability import health
from gourmet.observability.ops import endpoints as ops_endpoints
from gourmet.observability.sampler import Sampler
from gourmet.observability.status import endpoints as status_endpoints
from gourmet.openapi import JsonDocument
from gourmet.ordering.checkout import card_endpoints
from gourmet.ordering.checkout import endpoints as ordering_endpoints
from gourmet.ordering.checkout.endpoints import OrderStatusFastPath
from gourmet.ordering.checkout.retention import KeyPruner
from gourmet.reports import endpoints as reports_endpoints
from gourmet.resilience import deadline
from gourmet.resilience.admission import AdmissionMiddleware
from gourmet.resilience.draining import CloseConnectionsWhenLeaving
from gourmet.resilience.limiter import AdaptiveLimiter, LimiterConfig
from gourmet.resilience.waiting_room import Tickets, WaitingRoom
from gourmet.services import RUNTIME_KEY, Runtime, Services, dependencies, runtime_of
from gourmet.telemetry import metrics
from gourmet.telemetry.logging import RequestLog, configure_logging
from gourmet.telemetry.metrics import RequestMetrics, RouteLabels
from gourmet.wiring import build_services, outbox_worker

MENU_WARM_TIMEOUT_S = 5.0


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings()
    configure_logging(settings.logs.json_lines, settings.logs.level)
    conninfo = resolve_database_url(
        settings.database.url, settings.data_dir, settings.database.name
    )
    runtime = Runtime(
        settings,
        staff_token=settings.resolved_staff_token(),
        limiter=AdaptiveLimiter(
            LimiterConfig(
                initial_limit=settings.admission.limiter_initial,
                min_limit=settings.admission.limiter_min,
                max_limit=settings.admission.limiter_max,
                burst_wait_s=settings.admission.limiter_burst_wait_ms / 1000,
            )
        ),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        async with running(runtime, conninfo):
            yield

    return Litestar(
        route_handlers=[
            get_menu,
            *ordering_endpoints.ROUTES,
            *card_endpoints.ROUTES,
            *accounts_endpoints.ROUTES,
            *kitchen_endpoints.ROUTES,
            *management_endpoints.ROUTES,
            reports_endpoints.router,
            *health.ROUTES,
            *status_endpoints.ROUTES,
            *ops_endpoints.ROUTES,
            *web.routes(),
        ],
        dependencies=dependencies(runtime),
        template_config=web.template_config(),
        logging_config=None,  # ours (configure_logging), not Litestar's
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=decode_strictly,
        request_max_body_size=settings.server.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Gourmet",
            version="0.1.0",
            path="/api/schema",
            render_plugins=[JsonDocument()],
        ),
        state=State({RUNTIME_KEY: runtime}),
    )


@contextlib.asynccontextmanager
async def running(runtime: Runtime, conninfo: str) -> AsyncIterator[Services]:
    """The process's life: services and background tasks up, then drained and closed."""
    services = await build_services(runtime, conninfo)
    runtime.start(services)
    runtime.lifecycle.listen()
    settings = runtime.settings
    sampler = Sampler(
        services.pool,
        services.menu_cache,
        runtime.limiter if settings.hardened else None,
        runtime.admission,
        services.status_board,
        services.order_book,
    )
    pruner = KeyPruner(
        services.pool,
        retention=timedelta(hours=settings.orders.idempotency_retention_hours),
        every_s=settings.orders.idempotency_prune_every_s,
    )
    tasks = [
        asyncio.create_task(services.hub.run(), name="notification-hub"),
        asyncio.create_task(outbox_worker(settings, services).run(), name="outbox-worker"),
        asyncio.create_task(pruner.run(), name="idempotency-key-pruner"),
        asyncio.create_task(services.order_book.run(), name="order-view-refresher"),
        asyncio.create_task(services.pool.leases.watch(), name="leak-watchdog"),
        asyncio.create_task(sampler.run(), name="metrics-sampler"),
        asyncio.create_task(services.recorder.run(), name="ops-recorder"),
        asyncio.create_task(health.leave_with_parent(), name="parent-watch"),
    ]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(services.menu_cache.loaded.wait(), MENU_WARM_TIMEOUT_S)
    metrics.CHECKOUT_CAPACITY.set(settings.admission.checkouts_per_worker)
    metrics.CHECKOUT_CAPACITY_PLANNED.set(
        checkout_capacity(
            settings.server.workers * settings.server.replicas,
            settings.admission.checkouts_per_worker,
        )
    )
    health.say_ready()
    try:
        yield services
    finally:
        runtime.lifecycle.draining = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await services.http.aclose()
        if services.card_intents is not None:
            await services.card_intents.aclose()
        await services.pool.pool.close()


def asgi_stack(app: Litestar) -> ASGIApp:
    """The layers in front of Litestar, outermost first: request metrics, the menu from its
    cache, admission control (deadlines and shedding), then the access log. A shed request is
    counted, never logged one by one: under a 10x spike a log line per refusal costs more than
    the refusal itself (see README, Benchmarks); the sampler logs a summary each second. The
    incident profile has only metrics, the log and the old platform's connection per request."""
    runtime = runtime_of(app)
    settings = runtime.settings
    labels = RouteLabels([route.path for route in app.routes])
    if not settings.hardened:
        held = HoldConnectionPerRequest(app, lambda: runtime.services.pool)
        return RequestMetrics(
            RequestLog(held, ok_sample=settings.logs.ok_sample, label=labels), label=labels
        )
    admission = AdmissionMiddleware(
        RequestLog(
            app,
            skip_ok_paths=routes.QUIET_PATHS,
            ok_sample=settings.logs.ok_sample,
            slow_ms=settings.logs.slow_ms,
            deadline_left=deadline.remaining_in_scope,
            label=labels,
        ),
        runtime.limiter,
        rules=routes.ADMISSION_RULES,
        deadline_s=settings.admission.deadline_s,
        retry_after_s=settings.admission.shed_retry_after_s,
        room=WaitingRoom.from_settings(runtime.limiter, settings),
        tickets=Tickets(runtime.staff_token.encode()),
        hold_s=settings.admission.waiting_room_hold_s,
        checkout_budget_s=settings.admission.checkout_budget_s,
        max_body_bytes=settings.server.max_body_bytes,
    )
    runtime.admission = admission
    # Reads answered from memory go first: the menu, and the orders held current.
    fast = OrderStatusFastPath(MenuFastPath(admission, runtime.cached_menu), runtime.order_json)
    return CloseConnectionsWhenLeaving(
        RequestMetrics(fast, label=labels), lambda: runtime.lifecycle.closing_connections
    )


def create_server_app(settings: Settings | None = None) -> ASGIApp:
    """The granian factory target: the Litestar app behind its ASGI layers.

    What exists now (modules, routes, templates: about 90,000 objects) lives as long as the
    process, so it is frozen out of the garbage collector's full passes, as Instagram does. Each
    such pass otherwise stops the event loop for tens of milliseconds (53 ms measured over a
    fresh app), and under a spike that is every request of that moment answered late."""
    app = asgi_stack(create_app(settings))
    gc.collect()
    gc.freeze()
    return app
