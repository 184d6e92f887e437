// Formatting shared by the pages: money from integer cents, times in the restaurant's zone.
// The server writes the same strings (web/pages.py: money, clock_time, day_label).

export function money(cents) {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100).toLocaleString("en-US");
  const part = String(abs % 100).padStart(2, "0");
  return `${sign}$${whole}.${part}`;
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
