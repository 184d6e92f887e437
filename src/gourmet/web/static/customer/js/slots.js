// The time-slot picker of checkout: GET /api/slots, grouped by day, full slots shown but
// disabled, and a way to select a slot the server proposed (the next free one).

import { isBusy, send } from "./api.js";
import { el } from "./format.js";

export class SlotPicker {
  constructor(select, status, { formats, paused }) {
    this.select = select;
    this.status = status;
    this.formats = formats;
    this.paused = paused; // ordering paused: every slot is unavailable, none is "full"
    this.loadedFor = null;
  }

  get value() {
    return this.select.value;
  }

  // Load the slots of ``fulfilment``; ``current()`` says which fulfilment is still wanted when
  // the answer arrives (the customer may have switched meanwhile).
  async load(fulfilment, current, keep = null) {
    this.loadedFor = fulfilment;
    this.status.textContent = "Loading times\u2026";
    const url = `/api/slots?fulfilment=${encodeURIComponent(fulfilment)}`;
    const result = await send("GET", url);
    if (current() !== fulfilment) return;
    if (!result.ok) {
      this.loadedFor = null;
      this.status.textContent = isBusy(result)
        ? "We are very busy and could not load the times. Choose \u201cAs soon as possible\u201d, " +
          `or try again in ${result.retryAfter} s.`
        : "We could not load the times. Please try again.";
      return;
    }
    this.render(result.data.slots, keep ?? this.select.value);
  }

  render(slots, selected) {
    const { time, day } = this.formats;
    const groups = new Map();
    let free = 0;
    for (const slot of slots) {
      const label = day(slot.start);
      if (!groups.has(label)) groups.set(label, el("optgroup", { label }));
      const few = slot.remaining <= 3 ? ` (${slot.remaining} left)` : "";
      const text = slot.available
        ? `${time(slot.start)}${few}`
        : `${time(slot.start)} \u2014 ${this.paused ? "unavailable" : "full"}`;
      if (slot.available) free += 1;
      groups
        .get(label)
        .append(el("option", { value: slot.start, text, disabled: !slot.available }));
    }
    const placeholder = el("option", { value: "", text: "Choose a time" });
    this.select.replaceChildren(placeholder, ...groups.values());
    if (selected) this.choose(selected);
    if (slots.length === 0) this.status.textContent = "No times are open in the next days.";
    else if (free === 0) this.status.textContent = "Every time is taken right now.";
    else this.status.textContent = "Times marked full cannot be chosen.";
  }

  // Select the slot starting at ``iso``, adding it if the list does not have it (yet).
  choose(iso) {
    const wanted = new Date(iso).getTime();
    let option = [...this.select.options].find(
      (o) => o.value && new Date(o.value).getTime() === wanted,
    );
    if (!option) {
      const text = `${this.formats.time(iso)}, ${this.formats.day(iso)}`;
      option = el("option", { value: iso, text });
      this.select.append(option);
    }
    option.disabled = false;
    this.select.value = option.value;
  }
}

// How soon "as soon as possible" is now, for this cart: the kitchen's quote, carried by the slot
// list (the orders ahead, then the cart's longest prep time, never sooner than the lead time:
// RestaurantRules.quote_minutes on the server). Nothing is said if it cannot load.
export async function showAsapQuote(fulfilment, target, prepTimes) {
  const result = await send("GET", `/api/slots?fulfilment=${encodeURIComponent(fulfilment)}`);
  const quote = result.ok ? result.data.asap_quote : null;
  if (!quote) {
    target.textContent = "";
    return;
  }
  const own = Math.max(0, ...prepTimes.map((prep) => prep ?? quote.default_prep_minutes));
  const minutes = Math.max(quote.lead_minutes, Math.ceil(quote.ahead_minutes + own));
  target.textContent = `(ready in about ${minutes} min)`;
}
