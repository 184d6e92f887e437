// A forgotten password: ask for a link by email (/account/forgot), then choose a new password
// with it (/account/reset#token=...: the token stays in the fragment, never sent in a URL).

import { isBusy, send } from "./api.js";

function sayError(form, text) {
  const box = form.querySelector("[data-form-error]");
  box.textContent = text;
  box.focus();
}

function problem(result) {
  if (result.status === 0) return "We could not reach Gourmet. Check your connection and try again.";
  if (isBusy(result)) return `We are very busy right now. Please try again in ${result.retryAfter} seconds.`;
  if (result.status === 429) return `Too many attempts, try again in ${result.retryAfter} seconds.`;
  return result.data?.detail || "Something went wrong. Please try again.";
}

function setUpAsk(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const email = form.elements.namedItem("email").value.trim();
    const result = await send("POST", "/api/password-resets", { body: { email } });
    button.disabled = false;
    if (!result.ok) {
      sayError(form, problem(result));
      return;
    }
    const told = document.querySelector("[data-told]");
    told.textContent = result.data.detail;
    told.hidden = false;
    form.hidden = true;
  });
}

function setUpUse(form) {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token") || "";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const password = form.elements.namedItem("password").value;
    const result = await send("POST", "/api/password-resets/use", { body: { token, password } });
    button.disabled = false;
    if (result.ok) {
      window.location.assign("/account");
      return;
    }
    sayError(form, result.data?.type?.endsWith("/weak-password")
      ? "Choose a password of at least 10 characters."
      : problem(result));
  });
}

const form = document.querySelector("[data-reset-form]");
if (form?.dataset.resetForm === "ask") setUpAsk(form);
if (form?.dataset.resetForm === "use") setUpUse(form);
