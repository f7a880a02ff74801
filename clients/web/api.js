// REST calls for the lobby, the seats' credentials kept in localStorage, and the server's clock.

const STORE = "wargame.seats";
let clockOffset = 0; // server time minus local time, in seconds (from the HTTP Date header)

/** The server's clock in epoch seconds, so that countdowns agree with the deadlines it enforces. */
export function serverNow() {
  return Date.now() / 1000 + clockOffset;
}

let clockFromSocket = false;

/** The server's clock as a socket's welcome or pong states it (`now`, epoch seconds; to a few ms). */
export function noteServerNow(now, sentAt = null) {
  if (typeof now !== "number" || !Number.isFinite(now)) return;
  const local = Date.now() / 1000;
  // With a ping's send time, the server read its clock about half a round trip ago.
  const halfTrip = sentAt === null ? 0 : Math.max(0, local - sentAt) / 2;
  clockOffset = now + halfTrip - local;
  clockFromSocket = true;
}

function noteServerClock(response) {
  if (clockFromSocket) return; // the socket's figure is to the millisecond; the Date header to the second
  const date = Date.parse(response.headers.get("date") || "");
  if (Number.isNaN(date)) return;
  // The header is truncated to the second and may be up to ~2 s old (Uvicorn refreshes it once a second),
  // so it reads between 2 s behind and exactly the server's time: only correct clocks clearly apart.
  const raw = date / 1000 - Date.now() / 1000;
  clockOffset = raw > 1 ? raw + 0.5 : raw < -3 ? raw + 1 : 0;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function call(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "offline", "The server cannot be reached; check the network and try again.");
  }
  noteServerClock(response);
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error || {};
    throw new ApiError(response.status, error.code || "http_error", error.message || `HTTP ${response.status}`);
  }
  return data;
}

export const api = {
  scenarios: () => call("GET", "/api/scenarios"),
  network: () => call("GET", "/api/network"),
  /** `scenario`: a shipped scenario's id, or `{ file: text }` for the facilitator's own YAML file. */
  /** `pace`: `{rounds?, phase_minutes?}`, what the facilitator changed of the scenario's. */
  createGame: (scenario, title, facilitator, pace = {}) =>
    call("POST", "/api/games", {
      ...(typeof scenario === "string" ? { scenario } : { scenario_file: scenario.file }),
      title: title || null,
      facilitator: facilitator || "Facilitator",
      ...pace,
    }),
  joinInfo: (code) => call("GET", `/api/join/${encodeURIComponent(code.trim().toUpperCase())}`),
  claimSeat: (gameId, body) => call("POST", `/api/games/${gameId}/seats`, body),
  view: (gameId, token) => call("GET", `/api/games/${gameId}/view`, undefined, token),
  me: (gameId, token) => call("GET", `/api/games/${gameId}/me`, undefined, token),
  reassign: (gameId, seatId, player, token) =>
    call("POST", `/api/games/${gameId}/seats/${seatId}/reassign`, { player }, token),
  seatBots: (gameId, token) => call("POST", `/api/games/${gameId}/bots`, {}, token),
  release: (gameId, seatId, token) => call("DELETE", `/api/games/${gameId}/seats/${seatId}`, undefined, token),
  deleteGame: (gameId, token) => call("DELETE", `/api/games/${gameId}`, undefined, token),
  /** Play a command as the seat over REST (the review's forms, which hold no socket). */
  command: (gameId, command, token) => call("POST", `/api/games/${gameId}/commands`, command, token),
  timeline: (gameId, token) => call("GET", `/api/games/${gameId}/review/timeline`, undefined, token),
  /** A new game sharing this one's events up to `atSeq`; `seed` null keeps the dice of the original. */
  fork: (gameId, atSeq, seed, token) =>
    call("POST", `/api/games/${gameId}/fork`, { at_seq: atSeq, seed }, token),
};

// --- credentials: one seat per game in this browser ------------------------------------------------

function readAll() {
  try {
    return JSON.parse(localStorage.getItem(STORE) || "{}");
  } catch {
    return {};
  }
}

export const credentials = {
  all: () => readAll(),
  get: (gameId) => readAll()[gameId] || null,
  save(gameId, seat) {
    const all = readAll();
    all[gameId] = { ...seat, saved: Date.now() };
    localStorage.setItem(STORE, JSON.stringify(all));
  },
  /** The facilitator's seat of a game just made (`POST /api/games`, an import or a fork: `GameCreated`). */
  saveCreated(made, title) {
    this.save(made.game_id, {
      token: made.facilitator_key, role: "facilitator", member: null, player: made.seat.player,
      seat_id: made.seat.seat_id, join_code: made.join_code, title,
    });
  },
  forget(gameId) {
    const all = readAll();
    delete all[gameId];
    localStorage.setItem(STORE, JSON.stringify(all));
  },
};
