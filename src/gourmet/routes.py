"""The route table of the layers in front of Litestar: who is admitted first, whose successes
are not logged.

Paths are declared once, by their handlers (the Litestar decorators). The ASGI layers that run
before routing need to know some of them: admission control (a priority per route, or "never
limited"), the access log (successful requests too frequent to log) and the menu fast path.
They read it here. Metric labels need no table: they are matched against the app's own routes
(:class:`gourmet.telemetry.metrics.RouteLabels`). ``tests/test_routes.py`` fails when a route
the app builds has no rule of its own here, naming it.
"""

from __future__ import annotations

from typing import Final

from gourmet.menu.endpoints import MENU_PATH
from gourmet.resilience.admission import READS, Rule
from gourmet.resilience.limiter import Priority

POSTS: Final = frozenset({"POST"})
PREFLIGHT: Final = frozenset({"OPTIONS"})

# First match wins. A request no rule matches (an unknown path: a 404) gets the middleware's
# default priority, LOW; every route the app has must match a rule written for it.
ADMISSION_RULES: Final[tuple[Rule, ...]] = (
    # Never limited: no database work, or the operators' own view of the process.
    Rule("/*", None, PREFLIGHT),  # Litestar answers OPTIONS for every route by itself
    Rule("/healthz", None),
    Rule("/readyz", None),
    Rule("/metrics", None),
    Rule("/static/*", None),
    Rule(MENU_PATH, None, READS),  # served from the in-process cache
    Rule("/", None, READS),  # the menu page, rendered from the cache
    Rule("/checkout", None, READS),  # a form; its data comes from the API
    Rule("/status", None, READS),  # customers must always be able to read it
    Rule("/api/status", None, READS),
    Rule("/ops/login", None, READS),  # the sign-in form
    # Critical: the people running the restaurant, and customers following a placed order.
    # The staff's pages look up the session behind their cookie: they take a connection.
    Rule("/kitchen", Priority.CRITICAL, READS),
    Rule("/phone", Priority.CRITICAL, READS),  # the phone order form; its data from the API
    Rule("/ops", Priority.CRITICAL, READS),
    Rule("/ops/login", Priority.CRITICAL, POSTS),  # counted by the sign-in throttle
    # Reports wait in a rush: a year of figures must never cost checkout anything.
    Rule("/manage/reports", Priority.LOW, READS),
    Rule("/manage/staff", Priority.LOW, READS),
    Rule("/api/manage/reports", Priority.LOW, READS),
    Rule("/manage", Priority.CRITICAL, READS),
    Rule("/api/ops/*", Priority.CRITICAL),  # operators need their figures most in a spike
    Rule("/api/manage/*", Priority.CRITICAL),  # the pause switch must work in a stampede
    Rule("/orders/*", Priority.CRITICAL, READS),  # the tracking page: one indexed read
    # Searching past orders can wait in a rush (it may read many); moving orders cannot.
    Rule("/api/staff/orders/search", Priority.LOW, READS),
    Rule("/kitchen/orders", Priority.LOW, READS),
    Rule("/api/staff/*", Priority.CRITICAL),  # the kitchen board must keep moving
    Rule("/api/orders/*", Priority.CRITICAL, READS),  # tracking a placed order
    # The card provider saying a payment ended: it sends an order to the kitchen, or money back.
    Rule("/api/payments/*", Priority.CRITICAL, POSTS),
    # Checkout, and what a customer needs on the way to it.
    Rule("/api/orders", Priority.CHECKOUT, POSTS, queued=True),  # waits its turn in line
    Rule("/api/orders/*", Priority.CHECKOUT, POSTS),  # paying an order
    Rule("/api/slots", Priority.CHECKOUT, READS),  # the checkout form needs them
    Rule("/api/session", Priority.CHECKOUT),  # signing in on the way to checkout
    Rule("/api/accounts", Priority.CHECKOUT),
    # Low: what can wait a few seconds in a stampede.
    Rule("/api/password-resets", Priority.LOW, POSTS),  # can wait out a rush
    Rule("/api/password-resets/*", Priority.LOW, POSTS),
    Rule("/api/me", Priority.LOW),
    Rule("/api/me/*", Priority.LOW),
    Rule("/account", Priority.LOW, READS),  # the account page reads the order history
    Rule("/account/*", Priority.LOW, READS),  # the sign-in and sign-up forms
    Rule("/api/admin/*", Priority.LOW),  # creating staff accounts
    Rule("/api/schema", Priority.LOW, READS),  # the OpenAPI document and its viewers
    Rule("/api/schema/*", Priority.LOW, READS),
)

# Successful requests to these paths get no access line: at thousands a second they would
# drown everything else (their errors and slow answers are still logged).
QUIET_PATHS: Final = frozenset({MENU_PATH, "/healthz", "/readyz", "/metrics"})
