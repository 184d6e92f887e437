"""Every route the app builds has a deliberate admission rule and a metric label of its own.

The admission rules (``gourmet/routes.py``) are written by hand, the routes by their handlers:
a new route that nobody gave a rule would silently get the LOW default, the first to be refused
in a rush. This test builds the real app and fails naming each route without a rule.
"""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from gourmet.app import create_app
from gourmet.config import DatabaseSettings, Settings
from gourmet.routes import ADMISSION_RULES
from gourmet.telemetry.metrics import RouteLabels

EXAMPLE_VALUES = {"int": "7", "str": "some-token", "path": "some/file.js"}
PARAMETER = re.compile(r"\{([^}:]+):([^}]+)\}")


@pytest.fixture(scope="module")
def app() -> Litestar:
    # Built only, never started: no database is reached.
    return create_app(
        Settings(database=DatabaseSettings(url="postgresql://nobody@127.0.0.1:9/none"))
    )


def http_routes(app: Litestar) -> list[HTTPRoute]:
    return [route for route in app.routes if isinstance(route, HTTPRoute)]


def example_path(template: str) -> str:
    """A concrete path the route answers: each parameter replaced by a value of its type."""
    return PARAMETER.sub(lambda match: EXAMPLE_VALUES[match.group(2)], template)


def test_every_route_and_method_has_an_admission_rule_of_its_own(app: Litestar) -> None:
    routes = http_routes(app)
    assert len(routes) > 40  # the app really was built
    missing = [
        f"{method} {route.path}"
        for route in routes
        for method in sorted(route.methods)
        if not any(rule.matches(method, example_path(route.path)) for rule in ADMISSION_RULES)
    ]
    assert not missing, "routes without an admission rule in gourmet/routes.py: " + ", ".join(
        missing
    )


def test_a_request_never_routed_is_labelled_with_its_routes_template(app: Litestar) -> None:
    """Shed requests and the menu fast path never reach Litestar's router, yet their metrics
    must carry the route's template, not the raw path (and not "other")."""
    labels = RouteLabels(route.path for route in app.routes)
    for route in http_routes(app):
        template = PARAMETER.sub(lambda match: "{" + match.group(1) + "}", route.path)
        assert labels({"path": example_path(route.path)}) == template, route.path
    assert labels({"path": "/no/such/page"}) == "other"
    assert labels({"path": "/x", "path_template": "/given/{x}"}) == "/given/{x}"


def test_the_check_fails_for_a_route_without_a_rule() -> None:
    """The rule check can fail: a path no rule covers matches none."""
    assert not any(rule.matches("GET", "/reports/daily") for rule in ADMISSION_RULES)
