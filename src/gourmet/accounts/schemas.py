"""Request and response shapes of the accounts API. A password never appears in a response."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

Role = Literal["customer", "staff", "manager", "admin"]
StaffRole = Literal["staff", "manager", "admin"]

# Bounds that keep a request cheap: argon2 hashes what it is given, so a password has a ceiling.
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Password = Annotated[str, msgspec.Meta(max_length=256)]
Name = Annotated[str, msgspec.Meta(max_length=100)]


class SignUp(msgspec.Struct, frozen=True):
    email: Email
    password: Password
    name: Name = ""


class SignIn(msgspec.Struct, frozen=True):
    email: Email
    password: Password


class ResetAsked(msgspec.Struct, frozen=True):
    email: Email


class NewPassword(msgspec.Struct, frozen=True):
    """A reset link's token and the password it sets."""

    token: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    password: Password


class PasswordAgain(msgspec.Struct, frozen=True):
    """The account's password, asked again before something that cannot be undone."""

    password: Password


class Told(msgspec.Struct, frozen=True):
    detail: str


class NewStaffAccount(msgspec.Struct, frozen=True):
    """An account an admin creates for a member of staff (customers sign up themselves)."""

    email: Email
    password: Password
    role: StaffRole
    name: Name = ""


class RoleChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: StaffRole


class AccountView(msgspec.Struct, frozen=True):
    id: int
    email: str
    name: str
    role: Role
    created_at: datetime
