"""Test fixtures: a real PostgreSQL (embedded unless GOURMET_DATABASE_URL is set), migrated once
per session, emptied and refilled with a small fixture menu before every test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from litestar import Litestar
from psycopg.rows import dict_row

from gourmet.app import asgi_stack, create_app
from gourmet.config import Settings
from gourmet.db import migrate
from gourmet.db.embedded import (
    EmbeddedPostgres,
    drop_database,
    ensure_database,
    start_embedded,
)
from gourmet.db.types import Conn
from gourmet.management import repository as management_repo
from gourmet.menu import repository as menu_repo
from gourmet.ordering.slots import OpeningPeriod
from tests.serving import Client, serve

ROOT = Path(__file__).resolve().parent.parent
# One database per test session: concurrent runs (a developer's and an agent's, or xdist workers)
# on the same server must not drop each other's database.
TEST_DATABASE = f"gourmet_test_{os.getpid()}"
STAFF_TOKEN = "test-staff-token-0123456789"
TABLES = (
    "restaurant, category, item, modifier_group, modifier_option, opening_hours, slot_capacity,"
    " slot_booking, delivery_zone, orders, order_line, order_line_option, order_status_history,"
    " checkout_request, incident, incident_update, account, account_session, rate_counter,"
    " outbox, special_day, busy_mode"
)


@dataclass(frozen=True)
class FixtureMenu:
    pizza: int
    size_small: int
    size_large: int
    extra_cheese: int
    extra_olives: int
    extra_basil: int
    soup: int  # stock 3
    salad: int  # unavailable
    cake: int


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def embedded_server() -> EmbeddedPostgres | None:
    """The embedded cluster the tests run on, or None when GOURMET_DATABASE_URL names one."""
    if os.environ.get("GOURMET_DATABASE_URL"):
        return None
    return start_embedded(ROOT / "var" / "test-pgdata")


@pytest.fixture(scope="session")
def admin_url(embedded_server: EmbeddedPostgres | None) -> str:
    if embedded_server is None:
        return os.environ["GOURMET_DATABASE_URL"]
    return embedded_server.admin_url


@pytest.fixture(scope="session")
def database_url(admin_url: str) -> Iterator[str]:
    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{TEST_DATABASE}"))
    drop_database(admin_url, TEST_DATABASE)
    ensure_database(admin_url, TEST_DATABASE)
    migrate.upgrade(url)
    yield url
    drop_database(admin_url, TEST_DATABASE)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        staff_token=STAFF_TOKEN,
        pool_min_size=1,
        pool_max_size=8,
        max_body_bytes=16 * 1024,
        # Room for every request of the concurrency tests to race in the database; admission
        # control itself is tested in tests/resilience.
        limiter_initial=100,
        # Every test customer comes from one address; the limit is tested on its own.
        checkouts_per_client=0,
    )


async def load_fixture_menu(conn: Conn) -> FixtureMenu:
    await conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    await management_repo.configure_restaurant(
        conn,
        name="Test Kitchen",
        tax_rate_bp=1000,
        slot_minutes=15,
        lead_minutes=10,
        opening=[OpeningPeriod(day, 0, 1440) for day in range(7)],
        capacity={"pickup": 10, "delivery": 5},
        zones=[("Centre", ["AB1"], 300, 1500)],
    )
    mains = await menu_repo.insert_category(conn, "Mains", 0)
    pizza = await menu_repo.insert_item(
        conn,
        category_id=mains,
        name="Pizza",
        description="",
        price_cents=1000,
        allergens=["gluten"],
    )
    small, large = await menu_repo.insert_modifier_group(
        conn, pizza, "Size", 1, 1, [("Small", 0), ("Large", 300)]
    )
    cheese, olives, basil = await menu_repo.insert_modifier_group(
        conn, pizza, "Extras", 0, 2, [("Cheese", 100), ("Olives", 50), ("Basil", 0)], 1
    )
    soup = await menu_repo.insert_item(
        conn, category_id=mains, name="Soup", description="", price_cents=500, stock=3
    )
    salad = await menu_repo.insert_item(
        conn, category_id=mains, name="Salad", description="", price_cents=700, available=False
    )
    cake = await menu_repo.insert_item(
        conn, category_id=mains, name="Cake", description="", price_cents=400
    )
    return FixtureMenu(pizza, small, large, cheese, olives, basil, soup, salad, cake)


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[Conn]:
    async with await psycopg.AsyncConnection.connect(
        database_url, autocommit=True, row_factory=dict_row
    ) as connection:
        yield connection


@pytest.fixture
async def menu(conn: Conn) -> FixtureMenu:
    return await load_fixture_menu(conn)


@pytest.fixture
def app(settings: Settings, menu: FixtureMenu) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[Client]:
    """A client for the whole stack the server runs (ASGI layers included)."""
    async with serve(asgi_stack(app)) as test_client:
        yield test_client


STAFF_HEADERS = {"Authorization": f"Bearer {STAFF_TOKEN}"}
