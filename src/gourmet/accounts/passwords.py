"""Password and email rules, and argon2 hashing (argon2-cffi's defaults: argon2id, 64 MiB).

Hashing is deliberately slow and memory-hungry: the service runs it off the event loop, a few at
a time (see :class:`gourmet.accounts.service.AccountService`).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gourmet.accounts.errors import WeakPassword
from gourmet.notify.addresses import one_mailbox

MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()


def normalize_email(email: str) -> str:
    """One mailbox (InvalidEmail, 422, otherwise), lower-cased: one account per address,
    however it is typed."""
    return one_mailbox(email).lower()


def check_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
