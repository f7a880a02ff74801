// The public record, read-only (observers, umpires); the red cell also gets its move on the ladder here.
import { useState } from "preact/hooks";
import { html, memberList, memberName, ActButton, PhaseHint } from "./ui.js";
import { Announcements, Injects, Metrics, Notes, Outcomes } from "./panels.js";

function AdversaryMove({ game, view }) {
  const [change, setChange] = useState("0");
  const [inject, setInject] = useState("");
  const command = () => ({ type: "adversary_move", change: Number(change), inject: inject.trim() || null });
  return html`<section class="panel" aria-labelledby="adv-h">
    <h2 id="adv-h">${view.escalation.adversary}'s move</h2>
    <p>Level ${view.escalation.level}: ${view.escalation.name}</p>
    <label>Change <select value=${change} onChange=${(e) => setChange(e.target.value)}>
      <option value="1">Escalate (+1)</option><option value="0">Hold</option><option value="-1">Step back (−1)</option></select></label>
    <label>Catalogue inject (optional id) <input value=${inject} onInput=${(e) => setInject(e.target.value)} /></label>
    <${ActButton} game=${game} id="adversary" command=${command}>Make the move<//>
    <${PhaseHint} view=${view} type="adversary_move" />
  </section>`;
}

function Council({ view }) {
  return html`<section class="panel" aria-labelledby="rec-council-h">
    <h2 id="rec-council-h">Council</h2>
    <ul class="plain">
      ${view.consultations.map((c) => html`<li key=${c.requested_by}>Consultation requested by ${memberName(view, c.requested_by)}${
        c.joined_by.length ? `, joined by ${memberList(view, c.joined_by)}` : ""}</li>`)}
      ${view.proposals.filter((p) => p.outcome === "pending").map((p) => html`<li key=${p.id}>${p.id} under discussion (${p.procedure})</li>`)}
      ${view.invocations.map((i) => html`<li key=${i.key}>Collective defence for ${memberName(view, i.victim)}: ${i.status}</li>`)}
    </ul>
  </section>`;
}

export function Record({ game, view, seat }) {
  return html`<div class="grid">
    <div class="col">
      ${seat.role === "red_cell" && html`<${AdversaryMove} game=${game} view=${view} />`}
      <p class="hint">${seat.role === "red_cell" ? "The red cell sees the public record." : "You watch the public record, and note what you see for the hotwash."}</p>
      <${Announcements} view=${view} /><${Council} view=${view} /><${Outcomes} view=${view} />
    </div>
    <div class="col">${seat.role !== "red_cell" && html`<${Notes} game=${game} view=${view} />`}<${Injects} view=${view} /></div>
    <div class="col"><${Metrics} view=${view} /></div>
  </div>`;
}
