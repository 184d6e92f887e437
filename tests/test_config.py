"""Settings are read in groups, ``GOURMET_<GROUP>__<NAME>``, and a name that is no setting is an
error that says what it likely meant: a deployment still using a flat name from before the
grouping, or a misspelt one, must not run on a default it did not choose."""

from __future__ import annotations

import re
from pathlib import Path

import pydantic
import pytest

from gourmet.config import DatabaseSettings, Settings, unknown_variables, variable_name
from gourmet.config.groups import Group

ROOT = Path(__file__).resolve().parents[1]


def test_a_group_is_read_from_its_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOURMET_DATABASE__POOL_TIMEOUT_S", "4.5")
    monkeypatch.setenv("GOURMET_SERVER__TRUSTED_PROXIES", '["10.0.0.0/8"]')
    monkeypatch.setenv("GOURMET_RESTAURANT__CURRENCY", "EUR")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database.pool_timeout_s == 4.5
    assert settings.server.trusted_proxies == ["10.0.0.0/8"]
    assert settings.restaurant.currency == "EUR"
    assert settings.database.pool_max_waiting == 64  # the rest of the group keeps its defaults


@pytest.mark.parametrize(
    ("variable", "meant"),
    [
        ("GOURMET_POOL_TIMEOUT_S", "GOURMET_DATABASE__POOL_TIMEOUT_S"),
        ("GOURMET_DATABASE_URL", "GOURMET_DATABASE__URL"),
        ("GOURMET_STAFF_TOKEN", "GOURMET_SECURITY__STAFF_TOKEN"),
        ("GOURMET_PAYMENT_TIMEOUT_S", "GOURMET_PAYMENTS__TIMEOUT_S"),
        ("GOURMET_ORDER_VIEWS_HELD", "GOURMET_ORDERS__VIEWS_HELD"),
    ],
)
def test_a_flat_name_from_before_the_groups_is_refused_with_its_new_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, meant: str
) -> None:
    monkeypatch.setenv(variable, "1")
    with pytest.raises(pydantic.ValidationError, match=f"did you mean {meant}"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_a_misspelt_name_in_a_group_is_refused() -> None:
    problems = unknown_variables({"GOURMET_DATABASE__POOL_TIMEOUT": "1", "PATH": "/bin"})
    assert problems == [
        "GOURMET_DATABASE__POOL_TIMEOUT names no setting (settings are read as"
        " GOURMET_<GROUP>__<NAME>: docs/operating/configuration.md)"
    ]
    assert unknown_variables({"GOURMET_PROFILE": "incident", "GOURMET_LOGS__LEVEL": "INFO"}) == []


def test_a_changed_copy_is_checked_as_when_read() -> None:
    base = Settings(database=DatabaseSettings(url="postgresql://x@/y"))
    changed = base.changed(database={"pool_max_size": 7}, security={"cookie_secure": True})
    assert (changed.database.pool_max_size, changed.security.cookie_secure) == (7, True)
    assert changed.database.url == "postgresql://x@/y"
    assert base.database.pool_max_size is None  # the original is untouched
    with pytest.raises(pydantic.ValidationError, match="less than or equal to 200"):
        base.changed(database={"pool_max_size": 500})
    with pytest.raises(pydantic.ValidationError, match="Extra inputs are not permitted"):
        base.changed(database={"pool_size": 5})


def test_the_incident_profile_fills_only_what_was_not_set() -> None:
    old = Settings(profile="incident", database=DatabaseSettings(pool_timeout_s=5))
    assert (old.database.pool_timeout_s, old.database.pool_max_waiting) == (5, 0)
    assert (old.server.backlog, old.orders.views_held) == (2048, 0)


def test_every_setting_is_documented() -> None:
    rows = [
        line
        for line in (ROOT / "docs/operating/configuration.md").read_text().splitlines()
        if line.startswith("| `GOURMET_")
    ]
    missing = []
    for group_name, field in Settings.model_fields.items():
        group = field.annotation
        names = group.model_fields if isinstance(group, type) and issubclass(group, Group) else {}
        for name in names or [group_name]:
            variable = variable_name(group_name, name) if names else f"GOURMET_{name.upper()}"
            if not any(_documents(row, variable) for row in rows):
                missing.append(variable)
    assert missing == []


def _documents(row: str, variable: str) -> bool:
    """A row names the variable whole, or as a suffix of its group's (``/ `_MAX_SIZE` ``)."""
    if f"`{variable}`" in row or f"`{variable}=" in row:
        return True
    group = variable.split("__")[0] + "__"
    suffixes = re.findall(r"`(_[A-Z_]+)`", row)
    return group in row and any(variable.endswith(suffix) for suffix in suffixes)
