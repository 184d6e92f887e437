"""The long-lived services of one process, typed, and how handlers and guards receive them.

``create_app`` makes a :class:`Runtime` before anything is served: the settings, the staff
token and the limiter, which the ASGI layers in front of Litestar need
at once. The lifespan opens the pool and builds every service that needs it, once, into
:class:`Services`. Nothing is looked up by name: a handler declares a typed parameter
(``ordering: NamedDependency[OrderingService]``) and Litestar injects it from
:func:`dependencies`; the role guards get the ``gate`` dependency the same way
(:func:`gourmet.accounts.guards.gate_of`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from litestar import Litestar
from litestar.di import Provide

from gourmet.accounts.guards import GATE, Gate
from gourmet.accounts.limits import AccessLimits
from gourmet.accounts.service import AccountService
from gourmet.config import Settings
from gourmet.db.notifications import NotificationHub
from gourmet.db.pool import GuardedPool
from gourmet.kitchen.busy import BusyMode
from gourmet.kitchen.orders import KitchenOrders
from gourmet.kitchen.past_orders import PastOrders
from gourmet.management.rules import RulesEditor
from gourmet.management.service import MenuEditor
from gourmet.menu.service import CachedMenu, MenuCache
from gourmet.money import Money
from gourmet.observability.health import Lifecycle
from gourmet.observability.ops.timeseries import Recorder
from gourmet.observability.status.service import StatusBoard
from gourmet.ordering.checkout.service import OrderingService
from gourmet.ordering.money.by_hand import HandRefunds
from gourmet.ordering.money.intents import CardIntents
from gourmet.ordering.money.service import PaymentService
from gourmet.ordering.notifications.notices import Notices
from gourmet.ordering.tracking.book import OrderBook
from gourmet.payments.breaker import CircuitBreaker
from gourmet.payments.provider import PaymentProvider
from gourmet.reports.service import SalesReports
from gourmet.resilience.admission import AdmissionMiddleware
from gourmet.resilience.limiter import AdaptiveLimiter
from gourmet.web.rendering import Pages

RUNTIME_KEY = "gourmet"  # the one entry Gourmet keeps in app.state, read by runtime_of()


@dataclass(frozen=True)
class Services:
    """Everything built once per process when it starts, after the pool."""

    pool: GuardedPool
    hub: NotificationHub
    http: httpx.AsyncClient
    breaker: CircuitBreaker
    menu_cache: MenuCache
    order_book: OrderBook
    payments: PaymentService | None
    payment_provider: PaymentProvider | None  # behind the breaker; refunds use it too
    card_intents: CardIntents | None  # with a provider whose card form runs in the browser
    money: Money
    notices: Notices
    busy: BusyMode
    ordering: OrderingService
    kitchen_orders: KitchenOrders
    past_orders: PastOrders
    refunds: HandRefunds
    reports: SalesReports
    accounts: AccountService
    access_limits: AccessLimits
    gate: Gate
    menu_editor: MenuEditor
    rules_editor: RulesEditor
    status_board: StatusBoard
    recorder: Recorder
    pages: Pages


@dataclass
class Runtime:
    """One process's Gourmet: what exists from ``create_app`` on, and its services once the
    lifespan has started them."""

    settings: Settings
    staff_token: str
    limiter: AdaptiveLimiter
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    # The admission layer, when asgi_stack puts one in front (the hardened profile).
    admission: AdmissionMiddleware | None = None
    _services: Services | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("Gourmet's services exist only while its lifespan runs")
        return self._services

    def start(self, services: Services) -> None:
        self._services = services

    def replace(self, **changes: Any) -> None:
        """Swap some services (tests: a cold cache, say)."""
        self._services = dataclasses.replace(self.services, **changes)

    def cached_menu(self) -> CachedMenu | None:
        """The menu ready to send, for the fast path; None before the lifespan loaded it."""
        if self._services is None:
            return None
        return self._services.menu_cache.current

    def order_json(self, token: str) -> bytes | None:
        """A held order known to be current, as JSON, for the fast path; else None."""
        if self._services is None:
            return None
        return self._services.order_book.fresh_json(token)

    def shed_total(self) -> int:
        return sum(self.admission.shed.values()) if self.admission is not None else 0


def runtime_of(app: Litestar) -> Runtime:
    """The runtime ``create_app`` registered on ``app`` (for the ASGI layers and the tests)."""
    runtime = app.state.get(RUNTIME_KEY)
    if not isinstance(runtime, Runtime):
        raise TypeError("this Litestar app was not made by gourmet.app.create_app")
    return runtime


def dependencies(runtime: Runtime) -> dict[str, Provide]:
    """The dependencies every handler may declare, by name, each with its type."""

    def provide(get: Callable[[], object]) -> Provide:
        return Provide(get, sync_to_thread=False)

    return {
        "settings": provide(lambda: runtime.settings),
        "lifecycle": provide(lambda: runtime.lifecycle),
        "access_limits": provide(lambda: runtime.services.access_limits),
        GATE: provide(lambda: runtime.services.gate),
        "pool": provide(lambda: runtime.services.pool),
        "hub": provide(lambda: runtime.services.hub),
        "menu_cache": provide(lambda: runtime.services.menu_cache),
        "payments": provide(lambda: runtime.services.payments),
        "card_intents": provide(lambda: runtime.services.card_intents),
        "ordering": provide(lambda: runtime.services.ordering),
        "kitchen_orders": provide(lambda: runtime.services.kitchen_orders),
        "past_orders": provide(lambda: runtime.services.past_orders),
        "refunds": provide(lambda: runtime.services.refunds),
        "reports": provide(lambda: runtime.services.reports),
        "busy": provide(lambda: runtime.services.busy),
        "accounts": provide(lambda: runtime.services.accounts),
        "menu_editor": provide(lambda: runtime.services.menu_editor),
        "rules_editor": provide(lambda: runtime.services.rules_editor),
        "status_board": provide(lambda: runtime.services.status_board),
        "recorder": provide(lambda: runtime.services.recorder),
        "pages": provide(lambda: runtime.services.pages),
    }
