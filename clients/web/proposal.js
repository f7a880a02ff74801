// One proposal: its text, each member's position live, the buttons its procedure allows, and burden-sharing.
import { useState } from "preact/hooks";
import { clearedUnlessEdited, html, memberName, number, words, ActButton, PhaseHint, Refusal } from "./ui.js";

/** A member's fair share of `total`: total × cost_share / the sum of all cost shares. */
export function fairShare(view, code, total) {
  return (total * view.members[code].cost_share) / totalShares(view);
}

/** The sum of every member's cost share: what a member's own is a part of. */
export function totalShares(view) {
  return Object.values(view.members).reduce((s, m) => s + m.cost_share, 0);
}

function position(p, code) {
  if (p.procedure === "consensus") {
    const stance = p.positions[code];
    if (stance === "reserve") return html`concurs with reservation: <q>${p.reservations[code]}</q>`;
    return stance ? words(stance === "concur" ? "concurs" : "objects") : html`<i>no position</i>`;
  }
  if (p.procedure === "silence") return p.silence_broken_by.includes(code) ? "broke silence" : html`<i>silent</i>`;
  if (p.parties.includes(code)) return html`<i>party, may not vote</i>`;
  return p.votes[code] ? `votes ${p.votes[code]}` : html`<i>not voted</i>`;
}

function Positions({ view, p }) {
  return html`<table class="positions">
    <caption class="sr-only">Positions on ${p.id}</caption>
    <tbody>
      ${Object.keys(view.members).map(
        (code) => html`<tr key=${code} data-member=${code}>
          <th scope="row">${memberName(view, code)}</th>
          <td class=${"stance " + (p.positions[code] || "")}>${position(p, code)}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function Reservation({ game, p }) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState("");
  const id = `${p.id}-reserve`;
  if (!open) return html`<button type="button" onClick=${() => setOpen(true)}>Concur with reservation…</button>`;
  async function send(event) {
    event.preventDefault();
    if (await game.act(id, { type: "concur_with_reservation", proposal: p.id, reservation: text.trim() })) setOpen(false);
  }
  return html`<form class="inline" onSubmit=${send}>
    <label>Reservation <input value=${text} onInput=${(e) => setText(e.target.value)} maxlength="2000" /></label>
    <span class="act"><button type="submit" disabled=${!text.trim()}>Submit reservation</button>
      <${Refusal} game=${game} for=${id} /></span>
    <button type="button" class="ghost" onClick=${() => setOpen(false)}>Cancel</button>
  </form>`;
}

function Stances({ game, view, p }) {
  const cmd = (type, extra = {}) => ({ type, proposal: p.id, ...extra });
  const hint = { consensus: "concur", silence: "break_silence", vote: "vote" }[p.procedure];
  const buttons = {
    consensus: html`<${ActButton} game=${game} id=${`${p.id}-concur`} command=${cmd("concur")}>Concur<//>
      <${Reservation} game=${game} p=${p} />
      <${ActButton} game=${game} id=${`${p.id}-object`} command=${cmd("object")} kind="danger">Object<//>`,
    silence: html`<${ActButton} game=${game} id=${`${p.id}-break`} command=${cmd("break_silence")} kind="danger"
      >Break silence<//>`,
    vote: html`${["yes", "no", "abstain"].map((c) => html`<${ActButton} key=${c} game=${game} id=${`${p.id}-vote-${c}`}
      command=${cmd("vote", { choice: c })}>Vote ${c}<//>`)}`,
  };
  return html`<div class="buttons" role="group" aria-label=${`Your position on ${p.id}`}>
    ${buttons[p.procedure]} <${PhaseHint} view=${view} type=${hint} />
  </div>`;
}

function Burden({ game, view, p, me, canAct }) {
  const required = p.forces_required || 0;
  const pledged = Object.values(p.pledges).reduce((s, f) => s + f, 0);
  const shortfall = Math.max(0, required - pledged);
  const [forces, setForces] = useState("");
  const id = `${p.id}-pledge`;
  async function pledge(event) {
    event.preventDefault();
    if (await game.act(id, { type: "pledge", proposal: p.id, forces: Number(forces) })) setForces(clearedUnlessEdited(forces, ""));
  }
  return html`<div class="burden">
    <p>Requirement: <b>${required}</b> ${p.requirement?.domain || ""} units${p.requirement?.out_of_area ? ", out of area" : ""}${
      p.requirement?.offensive ? ", offensive" : ""} · pledged <b>${pledged}</b> ·
      shortfall <b data-testid=${`shortfall-${p.id}`}>${shortfall}</b></p>
    <table class="shares">
      <thead><tr><th scope="col">Member</th><th scope="col">Fair share</th><th scope="col">Pledged</th></tr></thead>
      <tbody>
        ${Object.keys(view.members).map((code) => html`<tr key=${code} class=${code === me ? "me" : ""}>
          <th scope="row">${memberName(view, code)}</th>
          <td>${number(fairShare(view, code, required), 2)}</td><td>${p.pledges[code] ?? "—"}</td></tr>`)}
      </tbody>
    </table>
    ${me && p.outcome === "adopted" && html`<form class="inline" onSubmit=${pledge}>
      <p>Your fair share: <b data-testid=${`fair-share-${p.id}`}>${number(fairShare(view, me, required), 2)}</b> units${" "}
        (${number(view.members[me].cost_share)} of ${number(totalShares(view))} cost shares). A new pledge replaces your earlier one.</p>
      ${canAct ? html`<label>Units to pledge <input type="number" min="0" step="1" value=${forces} onInput=${(e) => setForces(e.target.value)} /></label>
      <span class="act"><button type="submit" disabled=${forces === "" || game.pending[id]}>Pledge</button>
        <${Refusal} game=${game} for=${id} /></span>
      <${PhaseHint} view=${view} type="pledge" />` : html`<p class="hint">Your head of delegation pledges.</p>`}
    </form>`}
  </div>`;
}

function Funding({ view, p, me }) {
  return html`<p>Amount: <b>${number(p.amount, 2)}</b>${me ? html` · your assessed part: <b>${number(fairShare(view, me, p.amount), 2)}</b>` : ""}</p>`;
}

export function Proposal({ game, view, p, canAct, chair }) {
  const me = view.you.role === "delegation" ? view.you.member : null;
  return html`<article class="proposal" data-testid=${`proposal-${p.id}`} aria-labelledby=${`h-${p.id}`}>
    <h3 id=${`h-${p.id}`}>${p.id} · ${words(p.kind)} <span class=${"outcome " + p.outcome} data-testid="outcome">${words(p.outcome)}</span></h3>
    <p class="meta">Tabled by ${memberName(view, p.tabled_by)} in round ${p.round} · procedure: <b>${p.procedure}</b>
      ${p.parties.length > 0 && ` · parties: ${p.parties.join(", ")}`}</p>
    ${p.text && html`<blockquote>${p.text}</blockquote>`}
    ${p.kind === "invoke_collective_defence" && p.attack && html`<p>Victim: <b>${memberName(view, p.victim)}</b> ·
      ${p.attack.kind} attack, ${p.attack.attributed ? "attributed" : "not yet attributed"}${p.attack.in_treaty_area ? "" : ", outside the treaty area"}</p>`}
    <${Positions} view=${view} p=${p} />
    ${canAct && p.outcome === "pending" && html`<${Stances} game=${game} view=${view} p=${p} />`}
    ${chair && p.outcome === "pending" && html`<${ActButton} game=${game} id=${`${p.id}-close`} command=${{ type: "close", proposal: p.id }}
      >Close now (decide on positions on record)<//>`}
    ${p.kind === "deploy_forces" && html`<${Burden} game=${game} view=${view} p=${p} me=${me} canAct=${canAct} />`}
    ${p.kind === "common_funding" && p.amount && html`<${Funding} view=${view} p=${p} me=${me} />`}
  </article>`;
}
