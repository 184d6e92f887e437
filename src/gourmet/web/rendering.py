"""How Gourmet renders a page: the layout's shared values, the busy and loading fallbacks, and
pages that depend only on the menu, rendered once per menu version.

Every page can be read without JavaScript. The scripts under ``static/customer/js`` add the cart
(kept in the browser), the item dialog, checkout through the JSON API and live tracking; they
only ever talk to the public API, so the pages need no endpoints of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime, tzinfo
from typing import Any, Final

from litestar import MediaType, Request, Response
from litestar.response import Template
from markupsafe import Markup

from gourmet.config import Settings
from gourmet.menu.endpoints import MENU_RETRY_S
from gourmet.menu.service import CachedMenu, MenuCache
from gourmet.money import Money
from gourmet.observability.status.service import StatusBoard
from gourmet.problems import ServiceUnavailable
from gourmet.web.security import PAGE_HEADERS

BUSY_RETRY_S: Final = 5


def clock_time(moment: datetime, tz: tzinfo) -> str:
    """ "6:45 PM" in the restaurant's time zone (static/customer/js/format.js writes the same)."""
    local = moment.astimezone(tz)
    return f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def day_label(moment: datetime, tz: tzinfo) -> str:
    """ "Tue, Nov 24" in the restaurant's time zone (static/customer/js/format.js the same)."""
    local = moment.astimezone(tz)
    return f"{local:%a, %b} {local.day}"


def json_for_html(data: bytes) -> Markup:
    """JSON safe inside ``<script type="application/json">``: ``<``, ``>`` and ``&`` escaped, so
    no string in it can close the element. (Those characters only occur inside JSON strings.)"""
    text = data.decode().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above for this one context


class RenderedPages:
    """Pages that depend only on the menu, rendered once per menu version.

    The menu page is the first thing every customer loads, so in a rush it must cost about what
    the cached ``/api/menu`` costs: rendering 40 items with Jinja takes a millisecond, sending
    ready bytes almost nothing. One entry per template, replaced when its key (menu ETag and
    banner) changes, so memory stays bounded.
    """

    def __init__(self) -> None:
        self._pages: dict[str, tuple[Hashable, bytes]] = {}

    def get(self, template: str, key: Hashable, render: Callable[[], str]) -> bytes:
        entry = self._pages.get(template)
        if entry is not None and entry[0] == key:
            return entry[1]
        body = render().encode()
        self._pages[template] = (key, body)
        return body


class Pages:
    """Renders pages with what every layout needs: the currency, the time zone and the status
    banner of the moment. One per process; handlers receive it as the ``pages`` dependency."""

    def __init__(self, settings: Settings, money: Money, status_board: StatusBoard) -> None:
        self.settings = settings
        self.money = money
        self._status_board = status_board
        self._rendered = RenderedPages()

    @property
    def tz(self) -> tzinfo:
        return self.settings.tz

    def context(self, **context: Any) -> dict[str, Any]:
        """What every page's layout needs, plus the page's own values."""
        return {
            "money": self.money,
            "signed_money": self.money.signed,
            "currency": self.money.currency,
            "timezone": self.settings.restaurant.timezone,
            # An operator's incident (state, expected resolution), or the automatic notice.
            "status_banner": self._status_board.banner(),
            **context,
        }

    def page(
        self,
        template: str,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> Template:
        """A page rendered for this request."""
        return Template(
            template_name=template,
            context=self.context(**context),
            status_code=status_code,
            headers=headers or PAGE_HEADERS,
        )

    def busy(self, problem: ServiceUnavailable) -> Template:
        """The page in place of one whose data cannot be read now: try again shortly."""
        retry_after = int(problem.headers.get("Retry-After", BUSY_RETRY_S))
        return self.page(
            "customer/errors/busy.html",
            status_code=503,
            headers={**PAGE_HEADERS, "Retry-After": str(retry_after)},
            detail=problem.detail,
            retry_after_s=max(retry_after, 1),
        )

    def menu_loading(self) -> Template:
        """Before the first menu load (a cold start with the database away): retry shortly."""
        return self.page(
            "customer/menu/loading.html",
            status_code=503,
            headers={**PAGE_HEADERS, "Retry-After": str(MENU_RETRY_S)},
            retry_after_s=MENU_RETRY_S,
        )

    def menu_bound(
        self, request: Request[Any, Any, Any], template: str, cached: CachedMenu, **extra: Any
    ) -> Response[bytes]:
        """``template`` from the per-menu-version cache (rendered now if the menu changed)."""
        context = self.context(**extra)
        engine = request.app.template_engine
        assert engine is not None

        def render() -> str:
            menu_json = json_for_html(cached.body)
            html: str = engine.get_template(template).render(
                **context, menu=cached.menu, menu_json=menu_json
            )
            return html

        body = self._rendered.get(template, (cached.etag, context["status_banner"]), render)
        return Response(body, media_type=MediaType.HTML, headers=PAGE_HEADERS)

    async def menu_bound_or_fallback(
        self, request: Request[Any, Any, Any], menu_cache: MenuCache, template: str, **extra: Any
    ) -> Response[bytes] | Template:
        """A page built on the menu, or the busy page (database down) or the loading page (no
        menu yet) in its place."""
        try:
            cached = await menu_cache.read()
        except ServiceUnavailable as problem:
            return self.busy(problem)
        if cached is None:
            return self.menu_loading()
        return self.menu_bound(request, template, cached, **extra)
