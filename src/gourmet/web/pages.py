"""Page views: each renders a template; the pages talk to the JSON API from the browser."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = []
