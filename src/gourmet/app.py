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
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from functools import partial

import httpx
from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig

from gourmet import routes, web
from gourmet.accounts import endpoints as accounts_endpoints
from gourmet.accounts.guards import Gate
from gourmet.accounts.limits import AccessLimits, KnownDevices
from gourmet.accounts.service import AccountService
from gourmet.accounts.throttle import ClientLimit, SignInThrottle, ThrottlePolicy
from gourmet.asgi import ASGIApp
from gourmet.config import Settings
from gourmet.db.embedded import resolve_database_url
from gourmet.db.notifications import (
    MENU_CHANNEL,
    ORDER_CHANNEL,
    RULES_CHANNEL,
    STATUS_CHANNEL,
    NotificationHub,
)
from gourmet.db.plan import checkout_capacity
from gourmet.db.pool import GuardedPool
from gourmet.db.rate_counter import RateCounter
from gourmet.db.setup import guarded_pool
from gourmet.http_errors import EXCEPTION_HANDLERS
from gourmet.json_bodies import decode_strictly
from gourmet.kitchen import endpoints as kitchen_endpoints
from gourmet.management import endpoints as management_endpoints
from gourmet.management.rules import RulesEditor
from gourmet.management.service import MenuEditor
from gourmet.menu.endpoints import MenuFastPath, get_menu
from gourmet.menu.service import MenuCache
from gourmet.money import Money
from gourmet.notify.sms import SandboxSms
from gourmet.notify.smtp import SmtpSender
from gourmet.observability import health
from gourmet.observability.ops import endpoints as ops_endpoints
from gourmet.observability.ops.timeseries import Recorder
from gourmet.observability.sampler import Sampler
from gourmet.observability.status import endpoints as status_endpoints
from gourmet.observability.status.service import StatusBoard
from gourmet.openapi import JsonDocument
from gourmet.ordering import endpoints as ordering_endpoints
from gourmet.ordering.busy import AutoBusy, BusyMode
from gourmet.ordering.endpoints import OrderStatusFastPath
from gourmet.ordering.notices import EMAIL, SMS, CustomerMail, Notices, ReadyText
from gourmet.ordering.outbox import Handler, OutboxWorker, RetryPolicy
from gourmet.ordering.payment import PaymentService
from gourmet.ordering.refunds import UnpaidExpiry, payment_jobs
from gourmet.ordering.retention import KeyPruner
from gourmet.ordering.service import OrderingService
from gourmet.ordering.tracking import OrderBook
from gourmet.payments.breaker import BreakerConfig, BreakerState, CircuitBreaker
from gourmet.payments.breaker_provider import BreakerProvider
from gourmet.payments.client import HttpPaymentProvider, PaymentTimeouts
from gourmet.payments.provider import PaymentProvider
from gourmet.resilience import deadline
from gourmet.resilience.admission import AdmissionMiddleware
from gourmet.resilience.client_address import ClientAddress
from gourmet.resilience.draining import CloseConnectionsWhenLeaving
from gourmet.resilience.limiter import AdaptiveLimiter, LimiterConfig
from gourmet.resilience.waiting_room import Tickets, WaitingRoom
from gourmet.services import RUNTIME_KEY, Runtime, Services, dependencies, runtime_of
from gourmet.telemetry import metrics
from gourmet.telemetry.logging import RequestLog, configure_logging
from gourmet.telemetry.metrics import RequestMetrics, RouteLabels
from gourmet.web.rendering import Pages

MENU_WARM_TIMEOUT_S = 5.0
PAYMENT_RECORD_MARGIN_S = 0.3


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings()
    configure_logging(settings.log_json, settings.log_level)
    conninfo = resolve_database_url(
        settings.database_url, settings.data_dir, settings.database_name
    )
    runtime = Runtime(
        settings,
        staff_token=settings.resolved_staff_token(),
        limiter=AdaptiveLimiter(
            LimiterConfig(
                initial_limit=settings.limiter_initial,
                min_limit=settings.limiter_min,
                max_limit=settings.limiter_max,
                burst_wait_s=settings.limiter_burst_wait_ms / 1000,
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
            *accounts_endpoints.ROUTES,
            kitchen_endpoints.router,
            *management_endpoints.ROUTES,
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
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Gourmet",
            version="0.1.0",
            path="/api/schema",
            render_plugins=[JsonDocument()],
        ),
        state=State({RUNTIME_KEY: runtime}),
    )


async def build_services(runtime: Runtime, conninfo: str) -> Services:
    """Every long-lived service, once, around a pool sized from the connection budget."""
    settings = runtime.settings
    pool = await guarded_pool(settings, conninfo)
    runtime.limiter.raise_floor(pool.pool.max_size)
    if settings.pool_max_waiting:  # a bounded queue: admit no more than the pool takes in
        runtime.limiter.lower_ceiling(pool.pool.max_size + settings.pool_max_waiting)
    # Do not wait for the database: the process must start (and stay live) while it is down.
    await pool.pool.open(wait=False)
    menu_cache = MenuCache(pool, cached=settings.hardened)
    order_book = OrderBook(pool, capacity=settings.order_views_held)
    # LISTEN keeps a session: straight to PostgreSQL when the pools go through PgBouncer.
    hub = NotificationHub(settings.listen_database_url or conninfo, pool, pool.health)
    hub.on(MENU_CHANNEL, menu_cache.on_change, background=True)
    hub.on(ORDER_CHANNEL, order_book.on_change)
    hub.on_lost(order_book.lost)
    http = httpx.AsyncClient()
    breaker = CircuitBreaker(
        BreakerConfig(
            failure_threshold=settings.breaker_failures, open_for_s=settings.breaker_open_s
        )
    )
    provider = payment_provider(settings, http, breaker)
    money = Money.of(settings.currency)
    notices = Notices(email=settings.smtp_url is not None, sms=settings.sms != "off")
    payments = (
        PaymentService(pool, order_book, provider, settings.currency, notices) if provider else None
    )
    status_board = StatusBoard(
        pool,
        shed_total=runtime.shed_total,
        breaker_open=lambda: breaker.state == BreakerState.OPEN,
    )
    hub.on(STATUS_CHANNEL, status_board.reload, background=True)
    accounts = AccountService(pool, session_hours=settings.session_hours)
    ordering = OrderingService(
        pool,
        order_book,
        tz=settings.tz,
        slot_days_ahead=settings.slot_days_ahead,
        money=money,
        payments=payments,
        slots_cached=settings.hardened,
        notices=notices,
    )
    hub.on(ORDER_CHANNEL, ordering.slot_cache.on_change)
    hub.on(RULES_CHANNEL, ordering.slot_cache.on_change)
    hub.on_lost(ordering.slot_cache.forget)
    return Services(
        pool=pool,
        hub=hub,
        http=http,
        breaker=breaker,
        menu_cache=menu_cache,
        order_book=order_book,
        payments=payments,
        payment_provider=provider,
        money=money,
        notices=notices,
        busy=BusyMode(pool, order_book, notices, on_change=ordering.forget_slots),
        ordering=ordering,
        accounts=accounts,
        access_limits=access_limits(settings, pool, runtime.staff_token),
        gate=Gate(runtime.staff_token, accounts),
        menu_editor=MenuEditor(pool),
        rules_editor=RulesEditor(pool, on_change=ordering.forget_slots),
        status_board=status_board,
        recorder=Recorder(pool),
        pages=Pages(settings, money, status_board),
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
        retention=timedelta(hours=settings.idempotency_retention_hours),
        every_s=settings.idempotency_prune_every_s,
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
    metrics.CHECKOUT_CAPACITY.set(settings.checkouts_per_worker)
    metrics.CHECKOUT_CAPACITY_PLANNED.set(
        checkout_capacity(settings.workers * settings.replicas, settings.checkouts_per_worker)
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
        await services.pool.pool.close()


def asgi_stack(app: Litestar) -> ASGIApp:
    """The layers in front of Litestar, outermost first: request metrics, the menu from its
    cache, admission control (deadlines and shedding), then the access log. A shed request is
    counted, never logged one by one: under a 10x spike a log line per refusal costs more than
    the refusal itself (see README, Benchmarks); the sampler logs a summary each second. The
    incident profile has only metrics and the log."""
    runtime = runtime_of(app)
    settings = runtime.settings
    labels = RouteLabels([route.path for route in app.routes])
    if not settings.hardened:
        return RequestMetrics(
            RequestLog(app, ok_sample=settings.log_ok_sample, label=labels), label=labels
        )
    admission = AdmissionMiddleware(
        RequestLog(
            app,
            skip_ok_paths=routes.QUIET_PATHS,
            ok_sample=settings.log_ok_sample,
            slow_ms=settings.log_slow_ms,
            deadline_left=deadline.remaining_in_scope,
            label=labels,
        ),
        runtime.limiter,
        rules=routes.ADMISSION_RULES,
        deadline_s=settings.deadline_s,
        retry_after_s=settings.shed_retry_after_s,
        room=WaitingRoom.from_settings(runtime.limiter, settings),
        tickets=Tickets(runtime.staff_token.encode()),
        hold_s=settings.waiting_room_hold_s,
        max_body_bytes=settings.max_body_bytes,
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


def access_limits(settings: Settings, pool: GuardedPool, secret: str) -> AccessLimits:
    """Sign-in, sign-up and checkout limits, counted in PostgreSQL: shared by every worker and
    replica."""
    counter = RateCounter(pool)
    return AccessLimits(
        addresses=ClientAddress(settings.trusted_proxies),
        throttle=SignInThrottle(
            counter,
            ThrottlePolicy(
                window_s=settings.sign_in_window_s,
                per_account_from_address=settings.sign_in_failures,
                per_address=settings.sign_in_failures_per_address,
                per_account=settings.sign_in_failures_per_account,
            ),
        ),
        sign_ups=ClientLimit(counter, "sign-up", settings.sign_ups_per_hour, window_s=3600),
        checkouts=ClientLimit(
            counter, "checkout", settings.checkouts_per_client, settings.checkout_window_s
        ),
        devices=KnownDevices(secret.encode()),
    )


def payment_provider(
    settings: Settings, http: httpx.AsyncClient, breaker: CircuitBreaker
) -> PaymentProvider | None:
    """The card provider, behind a circuit breaker; None when not configured."""
    if not settings.payments_url:
        return None
    provider = HttpPaymentProvider(
        http,
        base_url=settings.payments_url,
        timeouts=PaymentTimeouts(
            read_s=settings.payment_timeout_s, total_s=settings.payment_timeout_s
        ),
        # Never wait on the provider past the request's own deadline, keeping a moment to
        # record the outcome and answer.
        budget=partial(deadline.current_timeout_with_margin, margin_s=PAYMENT_RECORD_MARGIN_S)
        if settings.hardened
        else None,
    )
    return BreakerProvider(provider, breaker)


def outbox_worker(settings: Settings, services: Services) -> OutboxWorker:
    """Refunds (with a provider), customers' emails and texts (when on), and the expiry of
    unpaid orders, in the background."""
    handlers: dict[str, Handler] = {}
    if services.payment_provider is not None:
        handlers |= payment_jobs(
            services.pool,
            services.order_book,
            services.payment_provider,
            services.money,
            services.notices,
        )
    if settings.smtp_url is not None:
        handlers[EMAIL] = CustomerMail(
            services.pool,
            SmtpSender(settings.smtp_url),
            from_address=settings.mail_from,
            public_url=settings.public_url,
            tz=settings.tz,
            money=services.money,
        )
    if settings.sms == "sandbox":
        handlers[SMS] = ReadyText(services.pool, SandboxSms(settings.data_dir / "sms.jsonl"))
    expiry = UnpaidExpiry(
        services.pool, services.ordering, timedelta(minutes=settings.unpaid_expiry_minutes)
    )
    chores: list[Callable[[], Awaitable[object]]] = [expiry]
    if settings.auto_busy_backlog:
        chores.append(
            AutoBusy(
                services.pool,
                services.busy,
                backlog=settings.auto_busy_backlog,
                extra_minutes=settings.auto_busy_minutes,
            )
        )
    return OutboxWorker(
        services.pool,
        handlers,
        every_s=settings.outbox_every_s,
        lease_s=settings.outbox_lease_s,
        retry=RetryPolicy(max_attempts=settings.outbox_max_attempts),
        chores=tuple(chores),
    )
