"""Delivery terms: which zone a postcode is in, its fee and its minimum order."""

from __future__ import annotations

from collections.abc import Sequence

from gourmet.money import Money
from gourmet.ordering.checkout.pricing import PricedCart
from gourmet.ordering.checkout.slot_repository import Zone
from gourmet.ordering.errors import AddressRequired, BelowMinimumOrder, OutsideDeliveryZone
from gourmet.ordering.schemas import CheckoutRequest


def normalize_postcode(postcode: str) -> str:
    return "".join(postcode.split()).upper()


def match_zone(postcode: str, zones: Sequence[Zone]) -> Zone | None:
    """The zone with the longest matching postcode prefix, if any."""
    best: tuple[int, Zone] | None = None
    for zone in zones:
        for prefix in zone.prefixes:
            norm = normalize_postcode(prefix)
            if postcode.startswith(norm) and (best is None or len(norm) > best[0]):
                best = (len(norm), zone)
    return best[1] if best else None


def delivery_terms(
    request: CheckoutRequest, cart: PricedCart, zones: Sequence[Zone], money: Money
) -> tuple[Zone | None, int]:
    """The order's delivery zone and fee (none for pickup), or the problem that stops it."""
    if request.fulfilment == "pickup":
        return None, 0
    if request.address is None:
        raise AddressRequired("Delivery needs an address with a postcode.", field="address")
    zone = match_zone(normalize_postcode(request.address.postcode), zones)
    if zone is None:
        raise OutsideDeliveryZone(
            f"We do not deliver to {request.address.postcode}. Pickup is always possible.",
            field="address.postcode",
        )
    if cart.subtotal_cents < zone.min_order_cents:
        missing = zone.min_order_cents - cart.subtotal_cents
        raise BelowMinimumOrder(
            f"Delivery to {zone.name} needs an order of at least "
            f"{money(zone.min_order_cents)}; add {money(missing)} more.",
            min_order_cents=zone.min_order_cents,
            missing_cents=missing,
        )
    return zone, zone.fee_cents
