// Paying an order by card with Stripe's Payment Element, on the order's page. The order is
// placed and waiting; its payment intent is made once (however often this page is opened) and
// confirmed here, 3-D Secure included. The order goes to the kitchen when Stripe tells the
// restaurant the payment succeeded: this page then updates by itself, like any change.

import { isBusy, send } from "./api.js";

const mount = document.querySelector("[data-stripe-payment]");
const payButton = document.querySelector("[data-stripe-pay]");
const errorBox = document.querySelector("[data-payment-error]");
const liveState = document.querySelector("[data-live-state]");
const token = document.querySelector("[data-order-token]")?.dataset.orderToken;

let stripe = null;
let elements = null;

async function prepare() {
  const url = `/api/orders/${encodeURIComponent(token)}/payment-intent`;
  const result = await send("POST", url);
  if (!result.ok) {
    errorBox.textContent = isBusy(result)
      ? `We are very busy; please reload this page in ${result.retryAfter} s.`
      : result.data?.detail || "The card form could not be opened. You can pay at pickup.";
    return;
  }
  const intent = result.data;
  if (intent.status === "succeeded") return; // paid: the page shows it as soon as we hear
  stripe = window.Stripe(intent.publishable_key);
  elements = stripe.elements({ clientSecret: intent.client_secret });
  elements.create("payment").mount(mount);
  payButton.hidden = false;
}

async function pay() {
  payButton.disabled = true;
  errorBox.textContent = "";
  let error;
  try {
    ({ error } = await stripe.confirmPayment({
      elements,
      // A bank's page, when the card needs one, brings the customer back here.
      confirmParams: { return_url: window.location.href },
      redirect: "if_required",
    }));
  } catch {
    error = { message: "We could not reach the card provider. Please try again." };
  } finally {
    payButton.disabled = false;
  }
  if (error) {
    errorBox.textContent = error.message || "The card was not accepted. Try another card.";
    return;
  }
  payButton.hidden = true;
  liveState.textContent = "Payment made. Confirming it with the restaurant…";
}

if (mount && payButton && token && typeof window.Stripe === "function") {
  payButton.addEventListener("click", pay);
  prepare();
}
