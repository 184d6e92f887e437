// The header's cart count, on every page.
import { itemCount, loadCart, onCartChange } from "./cart.js";

function update() {
  const count = itemCount(loadCart());
  for (const badge of document.querySelectorAll("[data-cart-count]")) {
    badge.textContent = count ? `(${count})` : "";
  }
}

onCartChange(update);
update();
