"""Server-side pricing and cart validation, without a database."""

from __future__ import annotations

import pytest

from gourmet.menu.schemas import Item, ModifierGroup, Option
from gourmet.ordering.checkout.pricing import price_cart, tax_cents, tip_cents
from gourmet.ordering.errors import (
    InvalidCart,
    InvalidTip,
    ItemUnavailable,
    OptionRulesBroken,
    QuantityOutOfRange,
    UnknownItem,
)
from gourmet.ordering.schemas import CartLine

SIZE = ModifierGroup(
    id=1,
    name="Size",
    min_choices=1,
    max_choices=1,
    options=[Option(10, "Small", 0, True), Option(11, "Large", 300, True)],
)
EXTRAS = ModifierGroup(
    id=2,
    name="Extras",
    min_choices=0,
    max_choices=2,
    options=[
        Option(20, "Cheese", 100, True),
        Option(21, "Olives", 50, True),
        Option(22, "Truffle", 900, False),
        Option(23, "Basil", 0, True),
    ],
)


def item(item_id: int, price: int, *groups: ModifierGroup, available: bool = True) -> Item:
    return Item(
        id=item_id,
        category_id=1,
        name=f"Item {item_id}",
        description="",
        price_cents=price,
        allergens=[],
        dietary=[],
        available=available,
        modifier_groups=list(groups),
    )


MENU = {1: item(1, 1000, SIZE, EXTRAS), 2: item(2, 450), 3: item(3, 700, available=False)}


def test_prices_options_and_quantities() -> None:
    cart = price_cart(
        [CartLine(item_id=1, quantity=2, option_ids=[11, 20, 21]), CartLine(item_id=2, quantity=3)],
        MENU,
    )
    assert [line.unit_price_cents for line in cart.lines] == [1450, 450]
    assert [line.line_total_cents for line in cart.lines] == [2900, 1350]
    assert cart.subtotal_cents == 4250
    assert [o.name for o in cart.lines[0].options] == ["Large", "Cheese", "Olives"]


def test_quantities_by_item_adds_lines_of_the_same_item() -> None:
    cart = price_cart(
        [
            CartLine(item_id=1, quantity=1, option_ids=[10]),
            CartLine(item_id=1, quantity=2, option_ids=[11]),
        ],
        MENU,
    )
    assert cart.quantities_by_item() == {1: 3}


@pytest.mark.parametrize(
    ("line", "error", "words"),
    [
        (CartLine(item_id=99), UnknownItem, "no menu item 99"),
        (CartLine(item_id=3), ItemUnavailable, "not available"),
        (CartLine(item_id=2, quantity=0), QuantityOutOfRange, "between 1 and 50"),
        (CartLine(item_id=2, quantity=51), QuantityOutOfRange, "between 1 and 50"),
        (CartLine(item_id=1, option_ids=[]), OptionRulesBroken, "at least 1 of Size"),
        (CartLine(item_id=1, option_ids=[10, 11]), OptionRulesBroken, "at most 1 of Size"),
        (
            CartLine(item_id=1, option_ids=[10, 20, 21, 23]),
            OptionRulesBroken,
            "at most 2 of Extras",
        ),
        (CartLine(item_id=1, option_ids=[10, 10]), OptionRulesBroken, "chosen twice"),
        (CartLine(item_id=1, option_ids=[10, 77]), OptionRulesBroken, "no option 77"),
        (CartLine(item_id=1, option_ids=[10, 22]), ItemUnavailable, "Truffle"),
        (CartLine(item_id=2, option_ids=[10]), OptionRulesBroken, "no option 10"),
    ],
)
def test_invalid_lines_are_refused_with_a_reason(
    line: CartLine, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        price_cart([line], MENU)


def test_empty_and_oversized_carts_are_refused() -> None:
    with pytest.raises(InvalidCart, match="empty"):
        price_cart([], MENU)
    with pytest.raises(InvalidCart, match="at most 50 lines"):
        price_cart([CartLine(item_id=2)] * 51, MENU)


@pytest.mark.parametrize(
    ("amount", "rate_bp", "expected"),
    [(1000, 1000, 100), (1005, 1000, 101), (1004, 1000, 100), (999, 888, 89), (0, 888, 0)],
)
def test_tax_rounds_half_up_in_integer_cents(amount: int, rate_bp: int, expected: int) -> None:
    assert tax_cents(amount, rate_bp) == expected


@pytest.mark.parametrize(
    ("percent", "amount", "expected"),
    [(None, None, 0), (15, None, 150), (10, None, 105), (None, 250, 250), (0, None, 0)],
)
def test_a_tip_is_a_share_of_the_subtotal_rounded_half_up_or_an_amount(
    percent: int | None, amount: int | None, expected: int
) -> None:
    subtotal = 1000 if percent != 10 else 1045  # 10% of $10.45 is 104.5 cents: 105
    assert tip_cents(subtotal, percent, amount) == expected


def test_a_tip_cannot_be_both_a_share_and_an_amount() -> None:
    with pytest.raises(InvalidTip):
        tip_cents(1000, 10, 100)
