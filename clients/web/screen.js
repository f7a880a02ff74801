// The room's screen, for the projector: the clock, how to join, and the public record, large. It is an observer's
// seat (nothing secret reaches it, unlike the console, whose MSEL, briefs and notes must stay off the wall), and
// its credential lives in its address only, so the facilitator's browser can show it in a window beside the console.
import { consultationLine, html, invocationLine, memberList, memberName, words, Countdown, doneInTheRoom } from "./ui.js";
import { Injects, Metrics, Outcomes, Situation } from "./panels.js";
import { JoinCode } from "./facilitator.js";

const STANCES = { concur: "concur", reserve: "concur with a reservation", object: "object" };

function stage(view) {
  if (view.status === "lobby") return "The exercise has not started yet";
  if (view.status === "ended") return `The exercise ended after round ${view.round}`;
  return `Round ${view.round} of ${view.rounds} · ${words(view.phase)}`;
}

/** Where the council stands on each proposal still open: who said what, and who has yet to. */
function OnTheTable({ view }) {
  const open = view.proposals.filter((p) => p.outcome === "pending");
  const consultations = view.consultations || [];
  if (!open.length && !consultations.length && !view.invocations.length) return null;
  const members = Object.keys(view.members);
  return html`<section class="panel" aria-labelledby="table-h">
    <h2 id="table-h">Before the council</h2>
    <ul class="plain on-the-table">
      ${consultations.map((c) => html`<li key=${c.requested_by}>${consultationLine(view, c)}</li>`)}
      ${open.map((p) => {
        const said = Object.entries(p.positions);
        const voted = Object.entries(p.votes || {});
        // Under the silence procedure saying nothing is consent: nobody is waited for, only who broke it counts.
        const silence = p.procedure === "silence";
        const quiet = silence ? [] : members.filter((m) => !(m in p.positions) && !voted.some(([v]) => v === m));
        return html`<li key=${p.id} data-testid="screen-proposal"><b>${p.id} · ${words(p.kind)}</b> (${words(p.procedure)}),
          tabled by ${memberName(view, p.tabled_by)}
          ${Object.keys(STANCES).map((stance) => {
            const who = said.filter(([, s]) => s === stance).map(([m]) => m);
            return who.length > 0 && html`<br /><span>${STANCES[stance]}: ${memberList(view, who)}</span>`;
          })}
          ${voted.length > 0 && html`<br /><span>voted: ${voted.map(([m, v]) => `${memberName(view, m)} ${v}`).join(", ")}</span>`}
          ${silence && html`<br /><span>${p.silence_broken_by.length
            ? `silence broken by ${memberList(view, p.silence_broken_by)}` : "silence holds so far"}</span>`}
          ${quiet.length > 0 && html`<br /><span class="hint">yet to speak: ${memberList(view, quiet)}</span>`}</li>`;
      })}
      ${view.invocations.map((i) => html`<li key=${i.key}>${invocationLine(view, i)}</li>`)}
    </ul>
  </section>`;
}

/** Before the start: which member states have a delegation yet, for the room to see who is still to join. */
function Tables({ view }) {
  const seats = Object.values(view.seats).filter((s) => s.role === "delegation" && !s.bot);
  const codes = Object.keys(view.members);
  const open = codes.filter((c) => !seats.some((s) => s.member === c));
  return html`<section class="panel" aria-labelledby="tables-h">
    <h2 id="tables-h">Delegations</h2>
    <ul class="plain" data-testid="screen-tables">
      ${codes.filter((c) => !open.includes(c)).map((c) => html`<li key=${c}><b>${memberName(view, c)}</b>${
        `: ${seats.filter((s) => s.member === c).map((s) => s.player).join(", ")}`}</li>`)}
    </ul>
    ${open.length > 0 && html`<p class="hint">No delegation yet: ${memberList(view, open)}.</p>`}
  </section>`;
}

export function RoomScreen({ game, code }) {
  const view = game.view;
  if (!view) {
    return html`<main id="main" class="screen" tabindex="-1"><p>${game.problem || "Loading the game…"}</p></main>`;
  }
  const latest = view.announcements[view.announcements.length - 1];
  const done = view.status === "running" && view.phase ? doneInTheRoom(view) : [];
  return html`<main id="main" class="screen" tabindex="-1">
    <header class="screen-head">
      <h1>${view.title}</h1>
      <p class="stage"><span data-testid="phase">${stage(view)}</span>
        ${view.status !== "lobby" && view.status !== "ended" && html` <${Countdown} view=${view} />`}</p>
      ${done.length > 0 && html`<p data-testid="screen-done">${
        `Done with this phase: ${memberList(view, done)} (${done.length} of ${view.in_the_room.length})`}</p>`}
    </header>
    ${game.status !== "open" && html`<p class="refusal" role="status">${game.problem || "Reconnecting…"}</p>`}
    ${view.status === "lobby" && code && html`<section class="panel" aria-label="How to join"><${JoinCode} code=${code} /></section>`}
    ${view.status === "lobby" && html`<${Tables} view=${view} />`}
    ${latest && html`<p class="screen-news" data-testid="screen-news" aria-live="polite">${latest}</p>`}
    <div class="grid">
      <div class="col"><${OnTheTable} view=${view} /><${Outcomes} view=${view} /><${Injects} view=${view} /></div>
      <div class="col"><${Metrics} view=${view} /><${Situation} view=${view} /></div>
    </div>
  </main>`;
}
