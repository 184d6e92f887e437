"""What a manager's change can run into, each with the status and words a manager can act on."""

from __future__ import annotations

from gourmet.problems import NotFound, Problem


class InvalidValue(Problem):
    """A value the request's schema allows but the rules do not; ``field`` names it."""

    status = 422
    slug = "invalid-value"
    title = "Invalid value"

    def __init__(self, detail: str, *, field: str, **extra: object) -> None:
        super().__init__(detail, field=field, **extra)


class OverlappingHours(InvalidValue):
    slug = "overlapping-hours"
    title = "Opening periods overlap"


class UnknownReference(InvalidValue):
    slug = "unknown-reference"
    title = "The request refers to something that does not exist"


class CategoryNotFound(NotFound):
    slug = "category-not-found"
    title = "No such category"


class ItemNotFound(NotFound):
    slug = "item-not-found"
    title = "No such menu item"


class ZoneNotFound(NotFound):
    slug = "zone-not-found"
    title = "No such delivery zone"


class Conflict(Problem):
    status = 409
    slug = "conflict"
    title = "Conflicts with what is stored"


class NameTaken(Conflict):
    slug = "name-taken"
    title = "That name is already used"


class CategoryNotEmpty(Conflict):
    slug = "category-not-empty"
    title = "The category still has items"


class OptionInUse(Conflict):
    slug = "option-in-use"
    title = "Options of past orders cannot be removed"


class ZoneInUse(Conflict):
    slug = "zone-in-use"
    title = "Zones of past orders cannot be removed"


class PrefixTaken(Conflict):
    slug = "postcode-prefix-taken"
    title = "That postcode prefix belongs to another zone"


class RestaurantNotSetUp(Conflict):
    slug = "restaurant-not-set-up"
    title = "The restaurant is not set up yet"
