// One WebSocket per seat (docs/protocol.md): hello with the last seq seen; the view, its updates and who is connected
// in; commands out, answers matched by `ref`; reconnects by itself after a drop and resumes with `since`. Every command
// carries a key of its own, so one whose answer a drop swallowed is sent again after the reconnect and
// answered (`repeated` if it had been played) without ever being played twice.

import { noteServerNow } from "./api.js";

const PING_EVERY = 15000; // ms; a ping without pong in time means the network is gone
const PONG_WITHIN = 8000;
const MAX_BACKOFF = 8000;

/** A command's key: random, 24 hex digits (crypto.randomUUID needs HTTPS, and a seminar may run on plain http). */
function newKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The view an update frame brings `view` to: changed sections replaced, new records at the end of the logs. */
export function updated(view, update) {
  const next = { ...view, ...update.set };
  for (const [log, records] of Object.entries(update.append)) next[log] = [...view[log], ...records];
  return next;
}

export class GameSocket {
  /** `onChange(socket)` is called whenever status, view or seat change. */
  constructor(gameId, token, onChange) {
    this.gameId = gameId;
    this.token = token;
    this.onChange = onChange;
    this.status = "connecting"; // connecting | open | reconnecting | refused | closed
    this.problem = "";
    this.view = null;
    this.seat = null;
    this.connected = null; // the seats with a socket open to the server, as its presence frames say
    this.storage = null; // why the server's database refuses to record the game, while it does (storage frames)
    this.lastSeq = null;
    this.answers = new Map(); // ref -> resolve
    this.unanswered = new Map(); // ref -> command frame: sent again after a reconnect until answered
    this.nextRef = 1;
    this.attempts = 0;
    this.stopped = false;
    this.onOnline = () => this.status === "reconnecting" && this.reconnectNow();
    window.addEventListener("online", this.onOnline);
    this.open();
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}/ws/games/${encodeURIComponent(this.gameId)}`;
  }

  open() {
    clearTimeout(this.retryTimer);
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      const hello = { type: "hello", token: this.token };
      if (this.lastSeq !== null) hello.since = this.lastSeq;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (message) => this.receive(ws, message.data);
    ws.onclose = (event) => this.closed(ws, event);
    ws.onerror = () => {}; // a close always follows; reported there
  }

  receive(ws, data) {
    if (ws !== this.ws) return;
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    switch (frame.type) {
      case "welcome":
        noteServerNow(frame.now);
        this.seat = frame.seat;
        this.status = "open";
        this.attempts = 0;
        this.problem = "";
        this.storage = null; // a socket that joins while the database refuses is told so after its view
        this.startHeartbeat();
        for (const frame of this.unanswered.values()) this.raw(frame);
        break;
      case "event":
        this.lastSeq = Math.max(this.lastSeq ?? 0, frame.seq);
        return; // the view that follows a batch carries the change
      case "view":
        this.lastSeq = frame.seq; // the server's word, even below what we had seen (docs/protocol.md)
        this.view = frame.view;
        break;
      case "update":
        if (!this.view) return; // a socket's whole view always comes first
        this.lastSeq = Math.max(this.lastSeq ?? 0, frame.seq);
        this.view = updated(this.view, frame);
        break;
      case "presence":
        this.connected = new Set(frame.connected);
        break;
      case "storage":
        this.storage = frame.writing ? null : frame.reason;
        break;
      case "ack":
      case "refusal":
      case "pong":
        this.settle(frame);
        return;
      case "error":
        if (frame.code === "bad_hello") {
          this.status = "refused";
          this.problem = frame.reason || "This seat's credential was not accepted.";
        } else if (frame.ref !== undefined && frame.ref !== null) {
          this.settle({ ...frame, type: "refusal" });
          return;
        }
        break;
      default:
        return;
    }
    this.onChange(this);
  }

  settle(frame) {
    const resolve = this.answers.get(String(frame.ref));
    if (resolve) {
      this.answers.delete(String(frame.ref));
      this.unanswered.delete(String(frame.ref));
      resolve(frame);
    }
  }

  closed(ws, event) {
    if (ws !== this.ws) return;
    this.stopHeartbeat();
    if (event.code === 1000 && event.reason) {
      // The server showed this seat out (released, given to another player, a new link, the game deleted): coming
      // back with the same credential cannot work, so say why instead of trying.
      this.status = "refused";
      this.problem = `This browser no longer holds the seat: ${event.reason}.`;
    }
    const ending = this.stopped || this.status === "refused";
    for (const [ref, resolve] of this.answers) {
      if (ending || !this.unanswered.has(ref)) {
        resolve({ type: "lost" }); // a ping, or a command that can no longer be sent again
        this.answers.delete(ref);
        this.unanswered.delete(ref);
      }
    }
    if (ending) {
      if (this.stopped) this.status = "closed";
      this.onChange(this);
      return;
    }
    this.status = "reconnecting";
    this.onChange(this);
    const wait = Math.min(MAX_BACKOFF, 500 * 2 ** this.attempts);
    this.attempts += 1;
    this.retryTimer = setTimeout(() => this.open(), wait);
  }

  reconnectNow() {
    this.attempts = 0;
    this.open();
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => {
      const ws = this.ws;
      const ref = `ping-${this.nextRef++}`;
      const timer = setTimeout(() => ws === this.ws && ws.close(), PONG_WITHIN);
      const sentAt = Date.now() / 1000;
      this.answers.set(ref, (pong) => {
        clearTimeout(timer);
        noteServerNow(pong.now, sentAt); // keeps countdowns true to the server over a long session
      });
      this.raw({ type: "ping", ref });
    }, PING_EVERY);
  }

  stopHeartbeat() {
    clearInterval(this.heartbeat);
  }

  raw(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  /** Send a command; resolves with its answer: an ack, a refusal, or {type: "lost"}/{type: "offline"}.
   * A drop before the answer does not lose it: the command goes again, under its key, once reconnected. */
  command(command) {
    const ref = `c${this.nextRef++}`;
    if (this.status !== "open") return Promise.resolve({ type: "offline" });
    const frame = { type: "command", ref, key: newKey(), command };
    const answer = new Promise((resolve) => this.answers.set(ref, resolve));
    this.unanswered.set(ref, frame);
    this.raw(frame);
    return answer;
  }

  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopHeartbeat();
    window.removeEventListener("online", this.onOnline);
    if (this.ws) this.ws.close();
  }
}
