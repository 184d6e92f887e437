"""Security headers of every HTML page Gourmet serves."""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

# Scripts, styles and data only from Gourmet itself: the pages have no inline script, handler or
# style, so a stolen note or name can never run in a customer's browser.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PAGE_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# Pages with a customer's secrets (a tracking token, an account) or a manager's tools: never kept
# anywhere but the browser that asked.
PRIVATE_HEADERS: Final = {**PAGE_HEADERS, "Cache-Control": "private, no-store"}
# The ops page draws with plotly.js, which sets element styles at run time: only that page
# allows inline styles; scripts stay Gourmet's own everywhere.
OPS_PAGE_HEADERS: Final = {
    **PAGE_HEADERS,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    ),
}

STRIPE_JS_ORIGIN: Final = "https://js.stripe.com"
STRIPE_API_ORIGIN: Final = "https://api.stripe.com"


def with_card_provider(headers: dict[str, str], js_url: str, api_url: str | None) -> dict[str, str]:
    """``headers`` for a page that runs the card provider's own form (Stripe's Payment
    Element): its script, its API and its frames allowed, and nothing else beside Gourmet's.
    Stripe requires Stripe.js loaded from Stripe; 3-D Secure opens in a frame of
    hooks.stripe.com (Stripe's documented Content-Security-Policy)."""
    js = origin_of(js_url)
    api = origin_of(api_url) if api_url else STRIPE_API_ORIGIN
    frames = [js]
    if js == STRIPE_JS_ORIGIN:
        frames += ["https://*.js.stripe.com", "https://hooks.stripe.com"]
        js = f"{js} https://*.js.stripe.com"
    policy = (
        headers["Content-Security-Policy"]
        .replace("script-src 'self'", f"script-src 'self' {js}")
        .replace("connect-src 'self'", f"connect-src 'self' {api}")
    )
    return {**headers, "Content-Security-Policy": f"{policy}; frame-src {' '.join(frames)}"}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


MAX_NEXT: Final = 200


def local_path(target: str | None, fallback: str) -> str:
    """``target`` when it is a path on this site, else ``fallback``: a sign-in link must never
    send anyone to another site (an open redirect lends our name to phishing)."""
    if (
        not target
        or len(target) > MAX_NEXT
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(c.isspace() or c == "\\" for c in target)
    ):
        return fallback
    return target
