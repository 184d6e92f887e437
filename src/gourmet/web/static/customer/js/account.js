// The customer's account: signing in and up, signing out, reordering a past order, and the
// header's "Sign in"/"Account" link. Loaded on every page; each part runs only where its
// elements are. Everything goes through the public accounts API; the session cookie is HttpOnly,
// so the header link reads a hint this script keeps in localStorage (a stale hint only means the
// account page sends the customer to sign in).

import { isBusy, problemSlug, send } from "./api.js";
import { addLine, describeLine, indexMenu } from "./cart.js";
import { readJSON } from "./format.js";

const HINT_KEY = "gourmet.account";

// -- the header link -------------------------------------------------------------------------

function setSignedIn(signedIn) {
  try {
    if (signedIn) window.localStorage.setItem(HINT_KEY, "1");
    else window.localStorage.removeItem(HINT_KEY);
  } catch {
    // Storage disabled: the link just keeps saying "Sign in".
  }
  updateHeaderLink();
}

function signedInHint() {
  try {
    return window.localStorage.getItem(HINT_KEY) === "1";
  } catch {
    return false;
  }
}

function updateHeaderLink() {
  for (const link of document.querySelectorAll("[data-account-link]")) {
    link.textContent = signedInHint() ? "Account" : "Sign in";
  }
}

// -- where to go after signing in --------------------------------------------------------------

export function localPath(target) {
  if (typeof target !== "string" || !target.startsWith("/")) return "/account";
  if (target.startsWith("//") || target.includes("\\") || /\s/.test(target)) return "/account";
  return target;
}

// -- the sign-in and sign-up forms -------------------------------------------------------------

function seconds(result) {
  const hinted = Number(result.data?.retry_after_s);
  return Number.isFinite(hinted) && hinted > 0 ? Math.ceil(hinted) : result.retryAfter;
}

function problemText(result, kind) {
  const slug = problemSlug(result);
  if (result.status === 0) {
    return { text: "We could not reach Gourmet. Check your connection and try again." };
  }
  if (isBusy(result)) {
    return { text: `We are very busy right now. Please try again in ${seconds(result)} seconds.` };
  }
  if (result.status === 429) {
    return { text: `Too many attempts, try again in ${seconds(result)} seconds.` };
  }
  if (kind === "signin" && result.status === 401) {
    return { text: "Email or password is not right." };
  }
  if (result.status === 409 || slug === "email-taken") {
    return {
      field: "email",
      text: "There is already an account with this email. Sign in instead.",
    };
  }
  if (slug === "weak-password") {
    return { field: "password", text: "Choose a password of at least 10 characters." };
  }
  if (slug === "invalid-email") {
    return { field: "email", text: "Give an email address like name@example.com." };
  }
  return { text: "Something went wrong. Please check what you typed and try again." };
}

function setUpForm(form) {
  const kind = form.dataset.accountForm;
  const formError = form.querySelector("[data-form-error]");
  const button = form.querySelector("button[type=submit]");
  const fieldError = (name) => form.querySelector(`[data-error-for="${name}"]`);
  let submitting = false;

  function clearErrors() {
    formError.textContent = "";
    for (const error of form.querySelectorAll("[data-error-for]")) error.textContent = "";
    for (const input of form.querySelectorAll("input")) input.removeAttribute("aria-invalid");
  }

  function showError({ field, text }) {
    const target = field ? fieldError(field) : null;
    if (target) {
      target.textContent = text;
      const input = form.elements.namedItem(field);
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } else {
      formError.textContent = text;
      formError.focus();
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submitting) return;
    clearErrors();
    const email = form.elements.namedItem("email").value.trim();
    const password = form.elements.namedItem("password").value;
    if (!email) return showError({ field: "email", text: "Enter your email address." });
    if (!password) return showError({ field: "password", text: "Enter your password." });
    const body = { email, password };
    if (kind === "signup") body.name = form.elements.namedItem("name").value.trim();
    submitting = true;
    button.disabled = true;
    const result =
      kind === "signup"
        ? await send("POST", "/api/accounts", { body })
        : await send("POST", "/api/session", { body });
    submitting = false;
    button.disabled = false;
    if (result.ok) {
      setSignedIn(true);
      window.location.assign(localPath(form.dataset.next));
      return;
    }
    showError(problemText(result, kind));
  });
}

// -- the account page: sign out and reorder ----------------------------------------------------

function setUpAccountPage() {
  setSignedIn(true); // the server rendered this page for a signed-in customer
  const error = document.querySelector("[data-account-error]");
  const notice = document.querySelector("[data-reorder-notice]");
  const noticeText = notice.querySelector("[data-reorder-text]");
  const checkoutLink = notice.querySelector("a");
  const orders = readJSON("reorder-data") || {};

  function fail(text) {
    error.textContent = text;
    error.focus();
  }

  const deleting = document.querySelector("[data-delete-account]");
  deleting.addEventListener("submit", async (event) => {
    event.preventDefault();
    const said = deleting.querySelector("[data-delete-error]");
    const button = deleting.querySelector("button[type=submit]");
    button.disabled = true;
    const password = deleting.elements.namedItem("password").value;
    const result = await send("POST", "/api/me/delete", { body: { password } });
    button.disabled = false;
    if (result.ok) {
      setSignedIn(false);
      window.location.assign("/");
      return;
    }
    said.textContent = result.data?.type?.endsWith("/wrong-credentials")
      ? "That is not your password; your account is unchanged."
      : result.data?.detail || "Your account could not be deleted just now. Please try again.";
  });
  const signOut = document.querySelector("[data-sign-out]");
  signOut.addEventListener("click", async () => {
    error.textContent = "";
    signOut.disabled = true;
    const result = await send("DELETE", "/api/session");
    signOut.disabled = false;
    if (!result.ok) {
      fail("We could not sign you out just now. Please try again.");
      return;
    }
    setSignedIn(false);
    window.location.assign("/");
  });

  for (const button of document.querySelectorAll("[data-reorder]")) {
    button.addEventListener("click", async () => {
      error.textContent = "";
      notice.hidden = true;
      const lines = orders[button.dataset.reorder] || [];
      button.disabled = true;
      const result = await send("GET", "/api/menu");
      button.disabled = false;
      if (!result.ok || !result.data) {
        fail("We could not check the menu just now. Please try again in a moment.");
        return;
      }
      const index = indexMenu(result.data);
      const dropped = [];
      let added = 0;
      for (const line of lines) {
        const view = describeLine(line, index);
        if (view.problem || !index.has(line.itemId)) {
          dropped.push(view.name);
          continue;
        }
        addLine({
          itemId: line.itemId,
          optionIds: line.optionIds,
          notes: line.notes || "",
          quantity: line.quantity,
          name: view.name,
          unitCents: view.unitCents,
          optionNames: view.optionNames,
        });
        added += 1;
      }
      if (dropped.length === 0) {
        window.location.assign("/checkout");
        return;
      }
      const names = [...new Set(dropped)].join(", ");
      noticeText.textContent = added
        ? `Not available any more, so left out: ${names}. The rest of the order is in your cart.`
        : `None of this order can be ordered right now (${names} not available).`;
      checkoutLink.hidden = added === 0;
      notice.hidden = false;
      notice.focus();
    });
  }
}

// -- start -------------------------------------------------------------------------------------

for (const form of document.querySelectorAll("[data-account-form]")) {
  if (form.dataset.accountForm === "signin") setSignedIn(false);
  setUpForm(form);
}
if (document.querySelector("[data-sign-out]")) setUpAccountPage();
updateHeaderLink();
