// The tests' stand-in for Stripe.js (served by tests/payments/stripe_standin.py in place of
// https://js.stripe.com/v3/): the same calls the checkout page makes, Stripe(key),
// stripe.elements({clientSecret}), elements.create("payment").mount(node) and
// stripe.confirmPayment(...), backed by the stand-in's API. The "Payment Element" is a choice
// of Stripe's test cards; a card that needs 3-D Secure is authenticated as a customer would.
(function () {
  const origin = new URL(document.currentScript.src).origin;
  const CARDS = [
    ["pm_card_visa", "Visa 4242 (succeeds)"],
    ["pm_card_chargeDeclined", "Visa 0002 (declined)"],
    ["pm_card_threeDSecure2Required", "Visa 3155 (3-D Secure)"],
  ];

  async function call(path, params) {
    const response = await fetch(origin + path, {
      method: "POST",
      body: new URLSearchParams(params),
    });
    return response.json();
  }

  window.Stripe = function (publishableKey) {
    if (!String(publishableKey).startsWith("pk_")) throw new Error("Invalid publishable key");
    return {
      elements({ clientSecret }) {
        let select = null;
        return {
          clientSecret,
          create(kind) {
            return {
              mount(node) {
                select = document.createElement("select");
                select.setAttribute("aria-label", "Card (Stripe test mode)");
                select.dataset.standinCard = kind;
                for (const [value, label] of CARDS) select.add(new Option(label, value));
                node.replaceChildren(select);
              },
            };
          },
          chosen() {
            return select.value;
          },
        };
      },
      async confirmPayment({ elements, clientSecret }) {
        const secret = clientSecret || elements.clientSecret;
        const id = secret.split("_secret_")[0];
        let answer = await call(`/v1/payment_intents/${id}/confirm`, {
          client_secret: secret,
          payment_method: elements.chosen(),
        });
        if (answer.error) return { error: answer.error };
        if (answer.status === "requires_action") {
          answer = await call(`/v1/payment_intents/${id}/authenticate`, { client_secret: secret });
          if (answer.error) return { error: answer.error };
        }
        return { paymentIntent: answer };
      },
    };
  };
})();
