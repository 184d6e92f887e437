"""Money as customers read it: integer cents in the restaurant's currency, "$1,250.00".

One formatter for everything the server writes (pages, problem details) and one rule for the
pages' scripts (``static/customer/js/format.js`` formats with ``Intl.NumberFormat`` for the
currency the page carries). Both take the symbol from the Unicode CLDR (Babel here, the browser's
Intl there), so they agree for whatever ISO 4217 currency ``GOURMET_RESTAURANT__CURRENCY`` names.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.numbers import get_currency_precision, get_currency_symbol, is_currency

LOCALE = "en_US"  # the pages' language (static/customer/js/format.js uses the same)
MINOR_DIGITS = 2  # prices are stored in cents


def check_currency(code: str) -> str:
    """``code`` if it is an ISO 4217 currency counted in hundredths, else ValueError."""
    if not is_currency(code, LOCALE):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code (say USD or EUR)")
    if get_currency_precision(code) != MINOR_DIGITS:
        raise ValueError(f"{code!r} is not a currency counted in hundredths (cents)")
    return code


@dataclass(frozen=True)
class Money:
    """Formats integer cents in one currency: ``Money.of("USD")(1250) == "$12.50"``."""

    currency: str
    symbol: str

    @classmethod
    def of(cls, currency: str) -> Money:
        return cls(currency, get_currency_symbol(check_currency(currency), LOCALE))

    def __call__(self, cents: int) -> str:
        """1250 → "$12.50", -50 → "-$0.50", 123456 → "$1,234.56"."""
        sign = "-" if cents < 0 else ""
        whole, part = divmod(abs(cents), 100)
        return f"{sign}{self.symbol}{whole:,}.{part:02d}"

    def signed(self, cents: int) -> str:
        """A price change: 300 → "+$3.00", -50 → "-$0.50"."""
        return f"+{self(cents)}" if cents > 0 else self(cents)
