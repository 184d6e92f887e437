// Rescue an order whose card payment did not go through: another card, or pay at pickup.
// Used by checkout (right after a decline) and by the tracking page (awaiting payment).

import { isBusy, send } from "./api.js";

const CHOICE_TEXT = {
  another_card: "Try another card",
  retry: "Try the card again",
};

export function setUpPaymentRecovery(panel, { token, onPaid }) {
  const text = panel.querySelector("[data-payment-recovery-text]");
  const retryButton = panel.querySelector("[data-retry-card]");
  const pickupButton = panel.querySelector("[data-pay-at-pickup]");
  const cardSelect = panel.querySelector("#retry-card-token");
  const errorBox = panel.querySelector("[data-payment-error]") || text;
  let orderToken = token;
  let working = false;

  async function act(url, body) {
    if (working || !orderToken) return;
    working = true;
    for (const button of [retryButton, pickupButton]) if (button) button.disabled = true;
    const result = await send("POST", url, { body });
    working = false;
    for (const button of [retryButton, pickupButton]) if (button) button.disabled = false;
    if (result.ok) {
      onPaid(result.data);
      return;
    }
    if (isBusy(result)) {
      errorBox.textContent =
        "We are very busy; nothing was changed. " + `Please try again in ${result.retryAfter} s.`;
      return;
    }
    errorBox.textContent =
      result.data?.detail || "That did not work. Please try again, or choose to pay at pickup.";
  }

  retryButton?.addEventListener("click", () =>
    act(`/api/orders/${encodeURIComponent(orderToken)}/payment`, {
      card_token: cardSelect.value,
    }),
  );
  pickupButton?.addEventListener("click", () =>
    act(`/api/orders/${encodeURIComponent(orderToken)}/pay-at-pickup`),
  );

  return {
    show(problem) {
      orderToken = problem.order_token || orderToken;
      const choices = problem.choices || ["another_card", "pay_at_pickup"];
      text.textContent =
        problem.detail ||
        "Your order is saved, but its payment did not go through. " +
          "Try another card, or pay at pickup.";
      if (errorBox !== text) errorBox.textContent = "";
      if (retryButton) {
        const cardChoice = choices.find((choice) => choice in CHOICE_TEXT);
        retryButton.hidden = !cardChoice;
        retryButton.textContent = CHOICE_TEXT[cardChoice] || CHOICE_TEXT.another_card;
        const field = cardSelect?.closest(".field");
        if (field) field.hidden = !cardChoice;
      }
      pickupButton.hidden = !choices.includes("pay_at_pickup");
      panel.hidden = false;
    },
    hide() {
      panel.hidden = true;
    },
  };
}
