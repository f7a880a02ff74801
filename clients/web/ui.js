// Shared view helpers: the htm binding, names, numbers, the countdown and refusals shown beside controls.
import { h } from "preact";
import { useEffect, useState } from "preact/hooks";
import htm from "htm";
import { serverNow } from "./api.js";

export const html = htm.bind(h);

/** Where the screens' columns become one (style.css's `@media (max-width: 700px)`). */
export const ONE_COLUMN = "(max-width: 700px)";

export const ROLE_NAMES = {
  delegation: "Delegation",
  observer: "Observer",
  umpire: "Umpire",
  red_cell: "Red cell",
  facilitator: "Facilitator",
};

/** How the cells that are not a member state are named where they act: notes, ratings, the improvement plan. */
export const CELLS = { chair: "white cell", umpire: "umpire", observer: "observer" };

export const words = (s) => String(s ?? "").replaceAll("_", " ");

/** A form's state once its command is accepted: `cleared`, unless the player edited it while the answer was on its
 * way (typing the next message, say): then what they typed stays.  `sent` is the state the command was made from. */
export const clearedUnlessEdited = (sent, cleared) => (now) => (now === sent ? cleared : now);

/** Minutes as a reader says them: "45 min", "1 h", "2 h 15 min". */
export function duration(minutes) {
  const m = Math.round(minutes);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ""}`;
}

/** The average rating of feedback forms, or null with none. */
export function meanRating(forms) {
  return forms.length ? forms.reduce((sum, f) => sum + f.rating, 0) / forms.length : null;
}

/** How the council's business reads in a list: a consultation, with who joined it; a collective-defence invocation. */
export function consultationLine(view, c) {
  return `Consultation requested by ${memberName(view, c.requested_by)}${c.joined_by.length ? `, joined by ${memberList(view, c.joined_by)}` : ""}`;
}

export function invocationLine(view, i) {
  return `Collective defence for ${memberName(view, i.victim)}: ${i.status}`;
}

export function memberName(view, code) {
  return view?.members?.[code]?.name || code;
}

export function memberList(view, codes) {
  return codes.map((c) => memberName(view, c)).join(", ");
}

export function percent(x) {
  return `${Math.round(x * 100)}%`;
}

export function number(x, digits = 1) {
  if (x === null || x === undefined) return "—";
  return Number(x).toLocaleString("en-GB", { maximumFractionDigits: digits });
}

/** The seat heading a member's delegation, as [seat id, seat]; null in a game that records no head. */
export function headOf(view, member) {
  return Object.entries(view?.seats || {}).find(([, s]) => s.member === member && s.head) || null;
}

/** The delegations a person plays that are done with the phase under way: those the phase's early end waits for
 * (`in_the_room`; game_rules/control.py). */
export function doneInTheRoom(view) {
  return view.done.filter((m) => view.in_the_room.includes(m));
}

/** Whether this seat commits its member state: only the head of a delegation requests consultation, tables,
 * takes positions, votes, invokes and pledges (game_rules/commands.py, NATIONAL_VOICE_COMMANDS). */
export function speaksFor(view, seat) {
  if (seat.role !== "delegation") return false;
  const head = headOf(view, seat.member);
  return !head || head[0] === seat.seat_id;
}

/** Said to a delegation's other players where the head's controls would be. */
export function HeadNote({ view, seat }) {
  if (seat.role !== "delegation" || speaksFor(view, seat)) return null;
  const [, head] = headOf(view, seat.member);
  const says =
    ` heads the delegation of ${memberName(view, seat.member)} and alone speaks for it: consultation requests, ` +
    "proposals and positions in council, invocations and pledges. Deliberate with them under Messages, Own " +
    "delegation; the facilitator can make you head.";
  return html`<p class="note" data-testid="head-note"><b>${head.player}</b>${says}</p>`;
}

/** Whether the phase on screen opens this member command (the white cell may act in any phase). */
export function phaseAllows(view, type) {
  const spec = (view?.phases || []).find((p) => p.name === view.phase);
  return !!spec && view.status === "running" && spec.allows.includes(type);
}

/** The phases that open a command, for hints such as "opens in the council phase". */
export function phasesFor(view, type) {
  return (view?.phases || []).filter((p) => p.allows.includes(type)).map((p) => p.name);
}

export function PhaseHint({ view, type }) {
  if (!view || phaseAllows(view, type) || view.status !== "running") return null;
  const where = phasesFor(view, type);
  if (!where.length) return null;
  return html`<span class="hint">opens in the ${where.join(" and ")} phase${where.length > 1 ? "s" : ""}</span>`;
}

function clock(seconds) {
  // Rounded, not ceiled: 0:00 shows for the last half second, so the countdown visibly reaches zero before
  // the server's advance (due within a quarter second of the deadline) moves play on.
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** Time left in the phase: from the server's `deadline` (epoch seconds), or PAUSED with what remains. */
export function Countdown({ view }) {
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 250);
    return () => clearInterval(timer);
  }, []);
  if (!view) return null;
  if (view.status === "lobby") return html`<span class="countdown" data-testid="countdown">not started</span>`;
  if (view.status === "ended") return html`<span class="countdown" data-testid="countdown">ended</span>`;
  if (view.status === "paused" || view.paused_remaining !== null) {
    return html`<span class="countdown paused" data-testid="countdown"
      >PAUSED · ${clock(view.paused_remaining || 0)} left</span
    >`;
  }
  if (view.deadline === null || view.deadline === undefined) return null;
  const left = view.deadline - serverNow();
  return html`<span class=${"countdown" + (left < 30 ? " urgent" : "")} data-testid="countdown" role="timer"
    >${clock(left)}</span
  >`;
}

/** The server's refusal of the command a control sent, in plain words, right next to that control. */
export function Refusal({ game, for: key }) {
  const reason = game.refusals[key];
  if (!reason) return null;
  return html`<span class="refusal" role="alert" data-refusal=${key}>${reason}</span>`;
}

/** A button that sends one command; its refusal (if any) appears beside it. */
export function ActButton({ game, id, command, children, kind = "", disabled = false, label }) {
  const busy = !!game.pending[id];
  return html`<span class="act">
    <button type="button" class=${kind} disabled=${disabled || busy} aria-label=${label}
      onClick=${() => game.act(id, typeof command === "function" ? command() : command)}>
      ${children}
    </button>
    <${Refusal} game=${game} for=${id} />
  </span>`;
}

/** Checkboxes for choosing member states (recipients, co-requesters, parties). */
export function MemberPicker({ view, value, onChange, exclude = [], legend, name }) {
  const codes = Object.keys(view.members).filter((c) => !exclude.includes(c));
  const toggle = (code) =>
    onChange(value.includes(code) ? value.filter((c) => c !== code) : [...value, code]);
  return html`<fieldset class="picker">
    <legend>${legend}</legend>
    ${codes.map(
      (code) => html`<label key=${code}>
        <input type="checkbox" name=${name} value=${code} checked=${value.includes(code)}
          onChange=${() => toggle(code)} />
        ${memberName(view, code)}
      </label>`,
    )}
  </fieldset>`;
}
