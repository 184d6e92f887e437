"""The one model of the checkout page's retries (gourmet_tools.checkout_page), answer by answer:
what checkout.js and api.js do with each, as the replay, the benchmarks, the Locust journeys and
the capacity simulation all follow it."""

from __future__ import annotations

import pytest
from gourmet_tools.checkout_page import (
    MAX_AUTOMATIC_RETRIES,
    MAX_LINE_WAIT_S,
    NO_ANSWER,
    OLD_AGAIN_AFTER_S,
    OLD_SPINNER_S,
    Answer,
    CheckoutPage,
    OldCheckoutPage,
)

LINE = {"type": "/problems/waiting-room", "ticket": "t-1", "retry_after_s": 4}


@pytest.mark.parametrize(
    ("answer", "action", "wait_s"),
    [
        (Answer(201), "placed", 0.0),
        (Answer(200), "placed", 0.0),  # a replay of the same key: the order exists
        (Answer(503, retry_after="3"), "retry", 3),  # busy, no body: as Retry-After says
        (Answer(503, problem={"type": "/problems/overloaded"}), "retry", 2),  # no hint: 2 s
        (Answer(503, retry_after="600"), "retry", 60),  # at most a minute
        (Answer(503, retry_after="0"), "retry", 2),  # nonsense: the default
        (Answer(503, problem=LINE), "retry", 4),  # in line: the body's hint
        (Answer(NO_ANSWER), "retry", 2),  # a lost connection is busy too
        (Answer(429, retry_after="5"), "refused", 0.0),  # too many attempts: shown, not retried
        (Answer(422, problem={"type": "/problems/validation"}), "refused", 0.0),
        (Answer(500), "refused", 0.0),  # an error that is not "busy" ends the checkout
        (Answer(503, problem={"type": "/problems/payment-unavailable"}), "refused", 0.0),
    ],
)
def test_each_answer_gets_what_the_page_does(answer: Answer, action: str, wait_s: float) -> None:
    step = CheckoutPage(0.0, "key").after(answer, 1.0)
    assert (step.action, step.wait_s) == (action, wait_s)


def test_the_ticket_is_sent_back_and_a_wait_in_line_is_not_counted() -> None:
    page = CheckoutPage(0.0, "key")
    assert page.after(Answer(503, problem=LINE), 1.0).action == "retry"
    assert page.headers() == {
        "Idempotency-Key": "key",
        "X-Requested-With": "gourmet",
        "Gourmet-Ticket": "t-1",
    }
    assert page.retries == 0


def test_the_page_stops_after_its_retries_or_ten_minutes() -> None:
    page = CheckoutPage(0.0, "key")
    for _ in range(MAX_AUTOMATIC_RETRIES):
        assert page.after(Answer(503), 1.0).action == "retry"
    assert page.after(Answer(503), 1.0).action == "gave-up"
    late = CheckoutPage(0.0, "key")
    assert late.after(Answer(503), MAX_LINE_WAIT_S).action == "gave-up"


def test_a_storm_client_ignores_retry_after() -> None:
    page = CheckoutPage(0.0, "key", storm_wait_s=0.0)
    assert page.after(Answer(503, retry_after="30"), 1.0).wait_s == 0.0


def test_an_answer_is_read_from_the_wire() -> None:
    body = b'{"type":"/problems/waiting-room","ticket":"t-9"}'
    answer = Answer.from_http(503, {"retry-after": "7"}, body)
    assert (answer.busy, answer.retry_after_s, answer.type) == (True, 7, "/problems/waiting-room")
    assert Answer.from_http(503, {}, b"<html>").problem is None


@pytest.mark.parametrize(
    ("answer", "action", "wait_s"),
    [
        (Answer(201), "placed", 0.0),
        (Answer(503, retry_after="30"), "retry", OLD_AGAIN_AFTER_S),  # clicked again, not 30 s
        (Answer(504), "retry", OLD_AGAIN_AFTER_S),  # the proxy's timeout page
        (Answer(500), "retry", OLD_AGAIN_AFTER_S),
        (Answer(NO_ANSWER), "retry", OLD_AGAIN_AFTER_S),
    ],
)
def test_the_old_page_sends_no_key_and_its_customer_clicks_again(
    answer: Answer, action: str, wait_s: float
) -> None:
    page = OldCheckoutPage(0.0)
    assert page.headers() == {}  # no Idempotency-Key: each click is a new order
    assert page.spinner_s == OLD_SPINNER_S
    step = page.after(answer, 1.0)
    assert (step.action, step.wait_s) == (action, wait_s)
    assert CheckoutPage(0.0, "k").spinner_s is None  # Gourmet's page waits for its answer
