"""Money: one formatter, driven by the currency setting, for the server and the pages."""

from __future__ import annotations

import pydantic
import pytest

from gourmet.config import RestaurantSettings, Settings
from gourmet.money import Money

USD = Money.of("USD")


@pytest.mark.parametrize(
    ("cents", "text"),
    [(0, "$0.00"), (5, "$0.05"), (1250, "$12.50"), (123456, "$1,234.56"), (-50, "-$0.50")],
)
def test_money_formats_integer_cents(cents: int, text: str) -> None:
    assert USD(cents) == text


def test_price_changes_carry_their_sign() -> None:
    assert USD.signed(300) == "+$3.00"
    assert USD.signed(-50) == "-$0.50"
    assert USD.signed(0) == "$0.00"


@pytest.mark.parametrize(
    ("currency", "text"), [("EUR", "€12.50"), ("GBP", "£12.50"), ("CAD", "CA$12.50")]
)
def test_the_symbol_follows_the_currency_setting(currency: str, text: str) -> None:
    assert Money.of(currency)(1250) == text


@pytest.mark.parametrize("currency", ["usd", "ZZZ", "JPY", ""])
def test_a_currency_that_is_not_counted_in_cents_is_refused_at_startup(currency: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="currency"):
        Settings(restaurant=RestaurantSettings(currency=currency))
