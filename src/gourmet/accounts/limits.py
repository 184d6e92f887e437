"""What stands at the doors of sign-in, sign-up and checkout: who the client is, the shared
counts of their attempts, and the browsers an account has signed in from before."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from gourmet.accounts.throttle import ClientLimit, SignInThrottle
from gourmet.resilience.client_address import ClientAddress

DEVICE_COOKIE = "gourmet_device"
DEVICE_COOKIE_MAX_AGE_S = 365 * 24 * 3600


class KnownDevices:
    """A browser that signed in to an account keeps a cookie that says so: an HMAC of the
    account's email under a key derived from the server's secret. It cannot be made for an
    account without signing in to it, and proves nothing about any other."""

    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(b"gourmet known devices\x00" + secret).digest()

    def cookie_for(self, account: str) -> str:
        digest = hmac.new(self._key, account.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def knows(self, cookie: str | None, account: str) -> bool:
        return bool(cookie) and hmac.compare_digest(str(cookie), self.cookie_for(account))


@dataclass(frozen=True)
class AccessLimits:
    addresses: ClientAddress
    throttle: SignInThrottle
    sign_ups: ClientLimit
    checkouts: ClientLimit
    resets: ClientLimit  # asking for reset links and using them, per client address
    devices: KnownDevices

    def client(self, peer: str | None, forwarded_for: str | None) -> str:
        return self.addresses.of(peer, forwarded_for)
