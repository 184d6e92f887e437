"""Test fixtures: a real PostgreSQL (embedded unless GOURMET_DATABASE__URL is set), migrated once
per session, emptied and refilled with a small fixture menu before every test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import anyio
import psycopg
import pytest
from litestar import Litestar
from psycopg.rows import dict_row

from gourmet.app import asgi_stack, create_app
from gourmet.config import (
    AdmissionSettings,
    DatabaseSettings,
    SecuritySettings,
    ServerSettings,
    Settings,
)
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
from gourmet.ordering.checkout.slots import OpeningPeriod
from tests.serving import Client, serve

ROOT = Path(__file__).resolve().parent.parent
# One database per test session: concurrent runs (a developer's and an agent's, or xdist workers)
# on the same server must not drop each other's database.
TEST_DATABASE = f"gourmet_test_{os.getpid()}"
STAFF_TOKEN = "test-staff-token-0123456789"
# Every table the migrations made (the migration tool's own bookkeeping aside), read from the
# catalog: a table added by a new migration is emptied between tests without anyone listing it.
TABLES_SQL = (
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    " AND tablename NOT LIKE '%yoyo%' ORDER BY tablename"
)
# Who uses the shared embedded cluster: one file per test session, named by its pid. The last
# session to end stops the cluster (concurrent runs share it; none stops it under another).
USERS_DIR = ROOT / "var" / "test-pgdata-users"


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
def embedded_server() -> Iterator[EmbeddedPostgres | None]:
    """The embedded cluster the tests run on, or None when GOURMET_DATABASE__URL names one.
    Stopped when the session ends, unless another test session still uses it."""
    if os.environ.get("GOURMET_DATABASE__URL"):
        yield None
        return
    USERS_DIR.mkdir(parents=True, exist_ok=True)
    me = USERS_DIR / str(os.getpid())
    me.touch()
    server = start_embedded(ROOT / "var" / "test-pgdata")
    try:
        yield server
    finally:
        me.unlink(missing_ok=True)
        if not any(_alive(int(user.name)) for user in USERS_DIR.iterdir() if user.name.isdigit()):
            server.stop()


def _stale_test_databases(admin_url: str) -> list[str]:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datname ~ '^gourmet_test_[0-9]+$'"
            )
        ]
    return [name for name in names if not _alive(int(name.rsplit("_", 1)[1]))]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def application_tables(conn: Conn) -> list[str]:
    rows = await (await conn.execute(TABLES_SQL)).fetchall()
    return [row["tablename"] for row in rows]


CLOSE_DEADLINE_S = 5.0
_tables: list[str] = []  # the schema is migrated once a session: read once


async def empty_tables(conn: Conn) -> None:
    if not _tables:
        _tables.extend(await application_tables(conn))
    await conn.execute(f"TRUNCATE {', '.join(_tables)} RESTART IDENTITY CASCADE")


@pytest.fixture(scope="session")
def admin_url(embedded_server: EmbeddedPostgres | None) -> str:
    if embedded_server is None:
        return os.environ["GOURMET_DATABASE__URL"]
    return embedded_server.admin_url


@pytest.fixture(scope="session")
def database_url(admin_url: str) -> Iterator[str]:
    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{TEST_DATABASE}"))
    for stale in _stale_test_databases(admin_url):  # left by sessions that were killed
        drop_database(admin_url, stale)
    drop_database(admin_url, TEST_DATABASE)
    ensure_database(admin_url, TEST_DATABASE)
    migrate.upgrade(url)
    yield url
    drop_database(admin_url, TEST_DATABASE)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database=DatabaseSettings(url=database_url, pool_min_size=1, pool_max_size=8),
        security=SecuritySettings(staff_token=STAFF_TOKEN, checkouts_per_client=0),
        server=ServerSettings(max_body_bytes=16 * 1024),
        admission=AdmissionSettings(limiter_initial=100),
    )


async def load_fixture_menu(conn: Conn) -> FixtureMenu:
    await empty_tables(conn)
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
    connection = await psycopg.AsyncConnection.connect(
        database_url, autocommit=True, row_factory=dict_row
    )
    try:
        yield connection
    finally:
        # Bounded, as every teardown that waits on another party: a stuck close fails the test
        # instead of stalling the whole run (pytest-timeout cannot interrupt anyio's teardown).
        with anyio.move_on_after(CLOSE_DEADLINE_S):
            await connection.close()


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
