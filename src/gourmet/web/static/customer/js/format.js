// Formatting shared by the pages: money from integer cents, times in the restaurant's zone.
// The server writes the same strings (gourmet/money.py; web/rendering.py: clock_time, day_label).

// The restaurant's currency (GOURMET_RESTAURANT__CURRENCY), carried by the page; symbols come from the
// Unicode CLDR through Intl, as they do on the server through Babel.
const currency = document.body.dataset.currency || "USD";
const moneyFormat = new Intl.NumberFormat("en-US", { style: "currency", currency });

export function money(cents) {
  return moneyFormat.format(cents / 100);
}

export function signedMoney(cents) {
  return cents > 0 ? `+${money(cents)}` : money(cents);
}

// Intl may separate "PM" with a narrow no-break space; the server writes a plain one.
const tidy = (text) => text.replace(/[\u202f\u00a0]/g, " ");

export function timeFormats(timeZone) {
  const time = new Intl.DateTimeFormat("en-US", { timeZone, hour: "numeric", minute: "2-digit" });
  const day = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "short",
    month: "short",
    day: "numeric",
  });
  return {
    time: (value) => tidy(time.format(new Date(value))),
    day: (value) => tidy(day.format(new Date(value))),
  };
}

export function restaurantTimeZone() {
  return document.body.dataset.timezone || undefined;
}

// Read a JSON island (<script type="application/json">) written by the server.
export function readJSON(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : null;
}

// Build an element with text content only: data never goes through innerHTML.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
