"""Server-rendered pages (Jinja2) and their static assets, all served by Gourmet itself."""

from __future__ import annotations

from pathlib import Path

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

from gourmet.web.account_pages import ROUTES as ACCOUNT_ROUTES
from gourmet.web.pages import ROUTES as PAGE_ROUTES

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine)


def routes() -> list[ControllerRouterHandler]:
    static = create_static_files_router(path="/static", directories=[STATIC_DIR])
    return [*PAGE_ROUTES, *ACCOUNT_ROUTES, static]
