"""What signing up and signing in can run into, each with a status and words to act on."""

from __future__ import annotations

from gourmet.problems import NotFound, Problem


class EmailTaken(Problem):
    status = 409
    slug = "email-taken"
    title = "Email already registered"


class WeakPassword(Problem):
    status = 422
    slug = "weak-password"
    title = "Password too weak"


class WrongCredentials(Problem):
    """The same answer for an unknown email and a wrong password: no account discovery."""

    status = 401
    slug = "wrong-credentials"
    title = "Wrong email or password"


class Forbidden(Problem):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class InvalidResetLink(Problem):
    """A reset link that is unknown, already used or expired: the same answer for each."""

    status = 400
    slug = "invalid-reset-link"
    title = "This link no longer works"


class LastAdmin(Problem):
    status = 409
    slug = "last-admin"
    title = "The last admin stays"


class NoSuchAccount(NotFound):
    slug = "no-such-account"
