"""Email addresses as they come in: one mailbox each, or refused with what is wrong.

An address is a recipient of mail, so anything that could make it more than one is refused at
the door: a list (``a@x.com,b@x.com``), a header smuggled in (CR/LF), a display name or angle
brackets, spaces, quoting. email-validator checks the syntax (RFC 5321/5322, internationalized
domains); deliverability is not asked (no DNS lookups on a checkout's path).
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from gourmet.problems import Problem


class InvalidEmail(Problem):
    status = 422
    slug = "invalid-email"
    title = "Not an email address"


def one_mailbox(address: str, *, field: str = "email") -> str:
    """The address, surrounding spaces trimmed and its domain normalized; InvalidEmail (422,
    naming ``field`` and saying what is wrong) unless it is exactly one mailbox."""
    try:
        checked = validate_email(
            address.strip(" "),  # what a pasted address carries; CR, LF or tabs are refused
            check_deliverability=False,
            allow_display_name=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as exc:
        raise InvalidEmail(
            f"Give one email address like name@example.com: {exc}", field=field
        ) from exc
    return checked.normalized
