"""Server-side pricing: the only prices that count are computed here from the database's menu."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gourmet.menu.schemas import Item, Option
from gourmet.ordering.errors import (
    InvalidCart,
    InvalidTip,
    ItemUnavailable,
    OptionRulesBroken,
    QuantityOutOfRange,
    UnknownItem,
)
from gourmet.ordering.schemas import MAX_LINES, MAX_QUANTITY, MAX_UNITS, CartLine

BASIS_POINTS = 10_000


@dataclass(frozen=True)
class PricedOption:
    option_id: int
    group: str
    name: str
    price_delta_cents: int


@dataclass(frozen=True)
class PricedLine:
    item_id: int
    name: str
    quantity: int
    unit_price_cents: int
    options: tuple[PricedOption, ...]
    notes: str

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity


@dataclass(frozen=True)
class PricedCart:
    lines: tuple[PricedLine, ...]

    @property
    def subtotal_cents(self) -> int:
        return sum(line.line_total_cents for line in self.lines)

    def quantities_by_item(self) -> dict[int, int]:
        totals: dict[int, int] = {}
        for line in self.lines:
            totals[line.item_id] = totals.get(line.item_id, 0) + line.quantity
        return totals


def tax_cents(taxable_cents: int, rate_bp: int) -> int:
    """Tax rounded half up to the cent, in integers only (no float ever touches money)."""
    return (taxable_cents * rate_bp + BASIS_POINTS // 2) // BASIS_POINTS


def tip_cents(subtotal_cents: int, percent: int | None, amount_cents: int | None) -> int:
    """The tip: ``percent`` of the subtotal (rounded half up to the cent), or ``amount_cents``;
    none without either. Both at once is refused."""
    if percent is not None and amount_cents is not None:
        raise InvalidTip("Give the tip as a percentage or as an amount, not both.")
    if percent is not None:
        return (subtotal_cents * percent + 50) // 100
    return amount_cents or 0


def price_cart(lines: Sequence[CartLine], items: Mapping[int, Item]) -> PricedCart:
    """Validate every line against the menu and price it; raise the first problem found."""
    if not lines:
        raise InvalidCart("The cart is empty; add at least one item.")
    if len(lines) > MAX_LINES:
        raise InvalidCart(f"A cart holds at most {MAX_LINES} lines.")
    cart = PricedCart(tuple(_price_line(index, line, items) for index, line in enumerate(lines)))
    units = sum(line.quantity for line in cart.lines)
    if units > MAX_UNITS:
        raise QuantityOutOfRange(
            f"An online order holds at most {MAX_UNITS} items in all ({units} asked); "
            "for a larger order, please call the restaurant."
        )
    return cart


def _price_line(index: int, line: CartLine, items: Mapping[int, Item]) -> PricedLine:
    where = f"lines[{index}]"
    item = items.get(line.item_id)
    if item is None:
        raise UnknownItem(f"There is no menu item {line.item_id}.", line=index)
    if not item.available:
        raise ItemUnavailable(f"{item.name} is not available right now.", line=index)
    if not 1 <= line.quantity <= MAX_QUANTITY:
        raise QuantityOutOfRange(
            f"Quantity of {item.name} must be between 1 and {MAX_QUANTITY} ({where}).", line=index
        )
    if len(set(line.option_ids)) != len(line.option_ids):
        raise OptionRulesBroken(f"An option is chosen twice for {item.name}.", line=index)
    chosen = set(line.option_ids)
    options: list[PricedOption] = []
    known: set[int] = set()
    for group in item.modifier_groups:
        picked: list[Option] = [o for o in group.options if o.id in chosen]
        known.update(o.id for o in group.options)
        if len(picked) < group.min_choices:
            raise OptionRulesBroken(
                f"{item.name}: choose at least {group.min_choices} of {group.name}.", line=index
            )
        if len(picked) > group.max_choices:
            raise OptionRulesBroken(
                f"{item.name}: choose at most {group.max_choices} of {group.name}.", line=index
            )
        for option in picked:
            if not option.available:
                raise ItemUnavailable(
                    f"{item.name}: {option.name} is not available right now.", line=index
                )
            options.append(
                PricedOption(option.id, group.name, option.name, option.price_delta_cents)
            )
    if unknown := chosen - known:
        raise OptionRulesBroken(
            f"{item.name} has no option {min(unknown)}; choose from its own groups.", line=index
        )
    unit = item.price_cents + sum(o.price_delta_cents for o in options)
    return PricedLine(
        item_id=item.id,
        name=item.name,
        quantity=line.quantity,
        unit_price_cents=max(unit, 0),
        options=tuple(options),
        notes=line.notes,
    )
