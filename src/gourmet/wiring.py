"""How one process's services are built: each once, around a pool sized from the connection
budget, with the background worker that moves money and mail (the composition root,
:mod:`gourmet.app`, calls :func:`build_services` in its lifespan)."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

import httpx

from gourmet.accounts.guards import Gate
from gourmet.accounts.limits import AccessLimits, KnownDevices
from gourmet.accounts.service import AccountService
from gourmet.accounts.throttle import ClientLimit, SignInThrottle, ThrottlePolicy
from gourmet.config import PaymentsSettings, Settings
from gourmet.db.notifications import (
    MENU_CHANNEL,
    ORDER_CHANNEL,
    RULES_CHANNEL,
    STATUS_CHANNEL,
    NotificationHub,
)
from gourmet.db.pool import GuardedPool
from gourmet.db.rate_counter import RateCounter
from gourmet.db.setup import guarded_pool
from gourmet.kitchen.busy import AutoBusy, BusyMode
from gourmet.kitchen.orders import AutoAccept, KitchenOrders, UnpaidExpiry
from gourmet.kitchen.past_orders import PastOrders
from gourmet.kitchen.printer import PrintTickets
from gourmet.kitchen.tickets import PRINT, TicketPrinters
from gourmet.management.rules import RulesEditor
from gourmet.management.service import MenuEditor
from gourmet.management.snooze import Snoozes
from gourmet.menu.service import MenuCache
from gourmet.money import Money
from gourmet.notify.sms import SandboxSms
from gourmet.notify.smtp import SmtpSender
from gourmet.observability.ops.timeseries import Recorder
from gourmet.observability.status.service import StatusBoard
from gourmet.ordering import repository as order_repo
from gourmet.ordering.checkout.service import OrderingService
from gourmet.ordering.money.by_hand import HandRefunds
from gourmet.ordering.money.intents import CardIntents
from gourmet.ordering.money.refunds import payment_jobs
from gourmet.ordering.money.service import PaymentService
from gourmet.ordering.notifications.notices import EMAIL, SMS, CustomerMail, Notices, ReadyText
from gourmet.ordering.notifications.outbox import Handler, OutboxWorker, RetryPolicy
from gourmet.ordering.tracking.book import OrderBook
from gourmet.payments.breaker import BreakerConfig, BreakerState, CircuitBreaker
from gourmet.payments.breaker_provider import BreakerIntents, BreakerProvider
from gourmet.payments.client import HttpPaymentProvider, PaymentTimeouts
from gourmet.payments.provider import PaymentProvider
from gourmet.payments.stripe_provider import StripeProvider
from gourmet.reports.service import DailySales, SalesReports
from gourmet.resilience import deadline
from gourmet.resilience.client_address import ClientAddress
from gourmet.services import Runtime, Services
from gourmet.web.rendering import Pages

PAYMENT_RECORD_MARGIN_S = 0.3


async def build_services(runtime: Runtime, conninfo: str) -> Services:
    """Every long-lived service, once, around a pool sized from the connection budget."""
    settings = runtime.settings
    pool = await guarded_pool(settings, conninfo)
    runtime.limiter.raise_floor(pool.pool.max_size)
    if settings.database.pool_max_waiting:  # a bounded queue: admit no more than the pool takes in
        runtime.limiter.lower_ceiling(pool.pool.max_size + settings.database.pool_max_waiting)
    # Do not wait for the database: the process must start (and stay live) while it is down.
    await pool.pool.open(wait=False)
    menu_cache = MenuCache(pool, cached=settings.hardened)
    order_book = OrderBook(pool, capacity=settings.orders.views_held)
    # LISTEN keeps a session: straight to PostgreSQL when the pools go through PgBouncer.
    hub = NotificationHub(settings.database.listen_url or conninfo, pool, pool.health)
    hub.on(MENU_CHANNEL, menu_cache.on_change, background=True)
    hub.on(ORDER_CHANNEL, order_book.on_change)
    hub.on_lost(order_book.lost)
    http = httpx.AsyncClient()
    breaker = CircuitBreaker(
        BreakerConfig(
            failure_threshold=settings.payments.breaker_failures,
            open_for_s=settings.payments.breaker_open_s,
        )
    )
    provider = payment_provider(settings, http, breaker)
    money = Money.of(settings.restaurant.currency)
    notices = Notices(
        email=settings.notifications.smtp_url is not None, sms=settings.notifications.sms != "off"
    )
    in_browser = isinstance(provider, BreakerIntents)
    payments = (
        PaymentService(
            pool,
            order_book,
            provider,
            settings.restaurant.currency,
            notices,
            confirms_in_browser=in_browser,
        )
        if provider
        else None
    )
    card_intents = (
        CardIntents(
            pool,
            payments,
            provider,
            currency=settings.restaurant.currency,
        )
        if payments is not None and isinstance(provider, BreakerIntents)
        else None
    )
    status_board = StatusBoard(
        pool,
        shed_total=runtime.shed_total,
        breaker_open=lambda: breaker.state == BreakerState.OPEN,
        tz=settings.tz,
    )
    hub.on(STATUS_CHANNEL, status_board.reload, background=True)
    accounts = AccountService(
        pool,
        session_hours=settings.security.session_hours,
        send_reset=notices.password_reset,
        forget_orders=order_repo.forget_customer,
    )
    ordering = OrderingService(
        pool,
        order_book,
        tz=settings.tz,
        slot_days_ahead=settings.restaurant.slot_days_ahead,
        money=money,
        payments=payments,
        slots_cached=settings.hardened,
        notices=notices,
        statement_timeout_s=settings.database.statement_timeout_ms / 1000 or math.inf,
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
        card_intents=card_intents,
        money=money,
        notices=notices,
        busy=BusyMode(pool, order_book, notices, on_change=ordering.forget_slots),
        ordering=ordering,
        kitchen_orders=KitchenOrders(
            pool,
            order_book,
            notices,
            on_release=ordering.forget_slots,
            tickets=TicketPrinters(settings.kitchen.printers),
        ),
        past_orders=PastOrders(pool, settings.tz),
        refunds=HandRefunds(pool, order_book, money, notices),
        reports=SalesReports(pool, settings.tz, settings.restaurant.currency),
        accounts=accounts,
        access_limits=access_limits(settings, pool, runtime.staff_token),
        gate=Gate(runtime.staff_token, accounts),
        menu_editor=MenuEditor(pool),
        rules_editor=RulesEditor(pool, on_change=ordering.forget_slots),
        status_board=status_board,
        recorder=Recorder(pool),
        pages=Pages(settings, money, status_board),
    )


def access_limits(settings: Settings, pool: GuardedPool, secret: str) -> AccessLimits:
    """Sign-in, sign-up and checkout limits, counted in PostgreSQL: shared by every worker and
    replica."""
    counter = RateCounter(pool)
    return AccessLimits(
        addresses=ClientAddress(settings.server.trusted_proxies),
        throttle=SignInThrottle(
            counter,
            ThrottlePolicy(
                window_s=settings.security.sign_in_window_s,
                per_account_from_address=settings.security.sign_in_failures,
                per_address=settings.security.sign_in_failures_per_address,
                per_account=settings.security.sign_in_failures_per_account,
            ),
        ),
        sign_ups=ClientLimit(
            counter, "sign-up", settings.security.sign_ups_per_hour, window_s=3600
        ),
        resets=ClientLimit(
            counter, "password-reset", settings.security.password_resets_per_hour, window_s=3600
        ),
        checkouts=ClientLimit(
            counter,
            "checkout",
            settings.security.checkouts_per_client,
            settings.security.checkout_window_s,
        ),
        devices=KnownDevices(secret.encode()),
    )


def payment_provider(
    settings: Settings, http: httpx.AsyncClient, breaker: CircuitBreaker
) -> PaymentProvider | None:
    """The card provider, behind a circuit breaker; None when not configured."""
    # Never wait on the provider past the request's own deadline, keeping a moment to record
    # the outcome and answer.
    budget = (
        partial(deadline.current_timeout_with_margin, margin_s=PAYMENT_RECORD_MARGIN_S)
        if settings.hardened
        else None
    )
    if settings.payments.provider == "stripe":
        return BreakerIntents(stripe_provider(settings.payments, budget), breaker)
    if not settings.payments.url:
        return None
    provider = HttpPaymentProvider(
        http,
        base_url=settings.payments.url,
        timeouts=PaymentTimeouts(
            read_s=settings.payments.timeout_s, total_s=settings.payments.timeout_s
        ),
        budget=budget,
    )
    return BreakerProvider(provider, breaker)


def stripe_provider(
    payments: PaymentsSettings, budget: Callable[[float], float] | None = None
) -> StripeProvider:
    """Stripe, from the settings' keys (checked present when the settings were read)."""
    assert payments.stripe_secret_key
    assert payments.stripe_webhook_secret
    assert payments.stripe_publishable_key
    return StripeProvider(
        secret_key=payments.stripe_secret_key.get_secret_value(),
        publishable_key=payments.stripe_publishable_key,
        webhook_secret=payments.stripe_webhook_secret.get_secret_value(),
        api_url=payments.stripe_api_url,
        timeout_s=payments.timeout_s,
        budget=budget,
    )


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
    if settings.notifications.smtp_url is not None:
        handlers[EMAIL] = CustomerMail(
            services.pool,
            SmtpSender(settings.notifications.smtp_url),
            from_address=settings.notifications.mail_from,
            public_url=settings.server.public_url,
            tz=settings.tz,
            money=services.money,
        )
    if settings.notifications.sms == "sandbox":
        handlers[SMS] = ReadyText(services.pool, SandboxSms(settings.data_dir / "sms.jsonl"))
    if settings.kitchen.printers:
        handlers[PRINT] = PrintTickets(services.pool, settings.tz)
    expiry = UnpaidExpiry(
        services.pool,
        services.kitchen_orders,
        timedelta(minutes=settings.payments.unpaid_expiry_minutes),
    )
    chores: list[Callable[[], Awaitable[object]]] = [
        expiry,
        DailySales(services.pool, services.reports),
        Snoozes(services.pool, settings.tz),
    ]
    if settings.kitchen.auto_accept:
        chores.append(AutoAccept(services.pool, services.kitchen_orders))
    if settings.kitchen.auto_busy_backlog:
        chores.append(
            AutoBusy(
                services.pool,
                services.busy,
                backlog=settings.kitchen.auto_busy_backlog,
                extra_minutes=settings.kitchen.auto_busy_minutes,
            )
        )
    return OutboxWorker(
        services.pool,
        handlers,
        every_s=settings.notifications.outbox_every_s,
        lease_s=settings.notifications.outbox_lease_s,
        retry=RetryPolicy(max_attempts=settings.notifications.outbox_max_attempts),
        chores=tuple(chores),
    )
