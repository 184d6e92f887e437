"""Properties that must hold for every input, not only the examples the other tests picked
(hypothesis): pricing, the status workflow, slot starts and the adaptive limiter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from gourmet.menu.schemas import Item, ModifierGroup, Option
from gourmet.ordering.checkout.pricing import BASIS_POINTS, price_cart, tax_cents
from gourmet.ordering.checkout.slots import OpeningPeriod, SlotRules
from gourmet.ordering.errors import OptionRulesBroken, QuantityOutOfRange
from gourmet.ordering.schemas import MAX_QUANTITY, CartLine
from gourmet.ordering.workflow import TRANSITIONS, check_transition, next_status_options
from gourmet.problems import Problem
from gourmet.resilience.limiter import AdaptiveLimiter, LimiterConfig, Permit, Priority

# -- pricing ---------------------------------------------------------------------------------


@st.composite
def items(draw: st.DrawFn, item_id: int) -> Item:
    groups = []
    next_option = item_id * 100
    for group_index in range(draw(st.integers(0, 2))):
        options = []
        for _ in range(draw(st.integers(1, 4))):
            next_option += 1
            delta = draw(st.integers(-500, 500))
            options.append(Option(next_option, f"o{next_option}", delta, available=True))
        low = draw(st.integers(0, len(options)))
        high = draw(st.integers(max(low, 1), len(options)))
        groups.append(ModifierGroup(group_index, f"g{group_index}", low, high, options))
    price = draw(st.integers(0, 100_000))
    return Item(item_id, 1, f"item {item_id}", "", price, [], [], True, groups)


@st.composite
def menus_and_carts(draw: st.DrawFn) -> tuple[dict[int, Item], list[CartLine]]:
    menu = {i: draw(items(i)) for i in range(1, draw(st.integers(1, 5)) + 1)}
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        item = menu[draw(st.sampled_from(sorted(menu)))]
        chosen: list[int] = []
        for group in item.modifier_groups:
            count = draw(st.integers(group.min_choices, group.max_choices))
            picked = draw(st.permutations([o.id for o in group.options]))[:count]
            chosen.extend(picked)
        lines.append(CartLine(item.id, draw(st.integers(1, 5)), chosen, ""))
    return menu, lines


def expected_subtotal(menu: dict[int, Item], lines: list[CartLine]) -> int:
    total = 0
    for line in lines:
        item = menu[line.item_id]
        deltas = sum(
            o.price_delta_cents
            for g in item.modifier_groups
            for o in g.options
            if o.id in line.option_ids
        )
        total += max(item.price_cents + deltas, 0) * line.quantity
    return total


@given(menus_and_carts())
def test_a_valid_cart_costs_the_sum_of_its_lines_in_any_order(
    case: tuple[dict[int, Item], list[CartLine]],
) -> None:
    menu, lines = case
    cart = price_cart(lines, menu)
    assert cart.subtotal_cents == expected_subtotal(menu, lines) >= 0
    shuffled = lines[:]
    random.Random(len(lines)).shuffle(shuffled)
    assert price_cart(shuffled, menu).subtotal_cents == cart.subtotal_cents
    assert sum(cart.quantities_by_item().values()) == sum(line.quantity for line in lines)


@given(menus_and_carts(), st.one_of(st.integers(max_value=0), st.integers(MAX_QUANTITY + 1)))
def test_a_quantity_out_of_range_is_refused(
    case: tuple[dict[int, Item], list[CartLine]], quantity: int
) -> None:
    menu, lines = case
    bad = CartLine(lines[0].item_id, quantity, lines[0].option_ids, "")
    with pytest.raises(QuantityOutOfRange):
        price_cart([bad, *lines[1:]], menu)


@given(menus_and_carts())
def test_an_option_of_another_item_is_refused(
    case: tuple[dict[int, Item], list[CartLine]],
) -> None:
    menu, lines = case
    line = lines[0]
    foreign = [
        o.id
        for item in menu.values()
        if item.id != line.item_id
        for g in item.modifier_groups
        for o in g.options
    ]
    assume(foreign)
    with pytest.raises(OptionRulesBroken):
        price_cart([CartLine(line.item_id, 1, [*line.option_ids, foreign[0]], "")], menu)


@given(st.integers(0, 10**9), st.integers(0, 5000))
def test_tax_is_within_half_a_cent_and_never_falls_as_the_amount_rises(
    taxable: int, rate: int
) -> None:
    tax = tax_cents(taxable, rate)
    assert abs(tax * BASIS_POINTS - taxable * rate) <= BASIS_POINTS // 2
    assert tax_cents(taxable + 1, rate) >= tax


# -- the status workflow ---------------------------------------------------------------------

FULFILMENTS = ("pickup", "delivery")


@given(st.sampled_from(sorted(TRANSITIONS)), st.sampled_from(sorted(TRANSITIONS)))
def test_staff_may_make_exactly_the_moves_offered(current: str, target: str) -> None:
    for fulfilment in FULFILMENTS:
        offered = next_status_options(current, fulfilment)  # type: ignore[arg-type]
        try:
            check_transition(current, target, fulfilment, "out of dough")  # type: ignore[arg-type]
        except Problem:
            assert target not in offered
        else:
            assert target in offered


@given(st.lists(st.integers(0, 10), min_size=12, max_size=12), st.sampled_from(FULFILMENTS))
def test_every_order_ends_and_keeps_to_its_kind(choices: list[int], fulfilment: str) -> None:
    status = "received"
    seen = [status]
    for choice in choices:
        options = sorted(next_status_options(status, fulfilment))  # type: ignore[arg-type]
        if not options:
            break
        status = options[choice % len(options)]
        seen.append(status)
    assert not next_status_options(status, fulfilment)  # type: ignore[arg-type]
    assert len(seen) == len(set(seen))  # no status is visited twice: the workflow has no loop
    wrong_end = "delivered" if fulfilment == "pickup" else "completed"
    assert wrong_end not in seen


# -- slot starts -----------------------------------------------------------------------------

TIMEZONES = ("America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC")


@st.composite
def slot_rules(draw: st.DrawFn) -> SlotRules:
    periods = []
    for weekday in range(7):
        opens = draw(st.integers(0, 1380))
        closes = draw(st.integers(opens + 1, 1440))
        if draw(st.booleans()):
            periods.append(OpeningPeriod(weekday, opens, closes))
    slot = draw(st.sampled_from([5, 10, 15, 20, 30, 45, 60]))
    lead = draw(st.integers(0, 120))
    return SlotRules(tuple(periods), slot, lead, ZoneInfo(draw(st.sampled_from(TIMEZONES))))


@settings(max_examples=60)
@given(
    slot_rules(),
    st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
)
def test_slot_starts_are_open_ordered_ahead_and_recognised(rules: SlotRules, now: datetime) -> None:
    starts = rules.starts(now, 2)
    assert starts == sorted(set(starts))
    earliest = now + timedelta(minutes=rules.lead_minutes)
    for start in starts:
        assert start >= earliest
        assert rules.is_open(start)
        assert rules.is_start(start, now, 2)
    assert rules.starts(now, 2, limit=3) == starts[:3]
    # A minute past a start is never a start.
    for start in starts[:5]:
        assert not rules.is_start(start + timedelta(minutes=1), now, 2)


# -- the adaptive limiter --------------------------------------------------------------------


class LimiterMachine(RuleBasedStateMachine):
    """Any sequence of admissions and releases, fast or slow, dropped or not: the limit stays
    within its bounds, in flight counts exactly the permits out, and a class is refused only
    when its share is full."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 1000.0
        config = LimiterConfig(
            initial_limit=10, min_limit=2, max_limit=40, window_s=0.0, window_min_samples=3
        )
        self.limiter = AdaptiveLimiter(config, clock=lambda: self.now)
        self.permits: list[Permit] = []

    @rule(priority=st.sampled_from(list(Priority)))
    def try_acquire(self, priority: Priority) -> None:
        full = self.limiter.in_flight >= self.limiter.capacity(priority)
        permit = self.limiter.try_acquire(priority)
        assert (permit is None) == full
        if permit is not None:
            self.permits.append(permit)

    @precondition(lambda self: self.permits)
    @rule(index=st.integers(0, 10**6), latency=st.floats(0.001, 5.0), dropped=st.booleans())
    def release(self, index: int, latency: float, dropped: bool) -> None:
        permit = self.permits.pop(index % len(self.permits))
        self.now += latency
        if dropped:
            permit.dropped()
        else:
            permit.success(latency)

    @invariant()
    def bounded_and_counted(self) -> None:
        config = self.limiter.config
        assert config.min_limit <= self.limiter.limit <= config.max_limit
        assert self.limiter.in_flight == len(self.permits)
        low, critical = Priority.LOW, Priority.CRITICAL
        assert 1 <= self.limiter.capacity(low) <= self.limiter.capacity(critical)


TestLimiter = LimiterMachine.TestCase
