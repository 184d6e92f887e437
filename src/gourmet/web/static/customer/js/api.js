// Talking to the JSON API: every answer comes back as { ok, status, data, retryAfter }, where
// data is the order, the slots, or an RFC 9457 problem. A network failure is status 0.

const BUSY_TYPES = new Set([
  "/problems/overloaded",
  "/problems/waiting-room",
  "/problems/database-busy",
  "/problems/database-unavailable",
  "/problems/service-unavailable",
]);
const DEFAULT_RETRY_S = 2;
const MAX_RETRY_S = 60;

export async function send(method, url, { body, headers = {} } = {}) {
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        Accept: "application/json, application/problem+json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        // Gourmet's own pages say so: the server refuses (or treats as a guest's) a write
        // that another site could have forged (CSRF).
        "X-Requested-With": "gourmet",
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch {
    return { ok: false, status: 0, data: null, retryAfter: DEFAULT_RETRY_S };
  }
  let data = null;
  try {
    const text = await response.text();
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  return { ok: response.ok, status: response.status, data, retryAfter: retryAfter(response, data) };
}

function retryAfter(response, data) {
  const header = Number.parseInt(response.headers.get("Retry-After") || "", 10);
  const hinted = Number.isFinite(header) ? header : Number(data?.retry_after_s);
  const seconds = Number.isFinite(hinted) && hinted > 0 ? hinted : DEFAULT_RETRY_S;
  return Math.min(Math.max(Math.ceil(seconds), 1), MAX_RETRY_S);
}

// "Too busy, nothing was done": safe to send again, with the same Idempotency-Key.
export function isBusy(result) {
  if (result.status === 0) return true;
  if (result.status !== 503) return false;
  return !result.data || BUSY_TYPES.has(result.data.type);
}

export function problemSlug(result) {
  const type = result.data?.type || "";
  return type.startsWith("/problems/") ? type.slice("/problems/".length) : "";
}
