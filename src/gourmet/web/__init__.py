"""Every page Gourmet serves (customer and staff), its templates and its static assets.

Templates live under ``templates/customer`` and ``templates/staff``, assets under
``static/customer`` and ``static/staff``; the server renders them itself (Jinja2), no CDN.
"""

from __future__ import annotations

from pathlib import Path

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

from gourmet.web import account_pages, menu_pages, order_pages, staff_pages, status_page
from gourmet.web.static_files import static_router

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine)


def routes() -> list[ControllerRouterHandler]:
    return [
        *menu_pages.ROUTES,
        *order_pages.ROUTES,
        *account_pages.ROUTES,
        *status_page.ROUTES,
        *staff_pages.ROUTES,
        static_router(STATIC_DIR),
    ]
