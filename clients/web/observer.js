// The public record, read-only (observers, umpires); the red cell also gets its move on the ladder here.
import { useEffect, useState } from "preact/hooks";
import { consultationLine, html, invocationLine, words, ActButton, PhaseHint } from "./ui.js";
import { Announcements, Brief, Feedback, Injects, Metrics, Notes, Outcomes, Situation } from "./panels.js";

/** The red cell's move: up, down or hold on the adversary's ladder, and an inject from its repertoire, those the
 * ladder lists for the level the move reaches first. */
function AdversaryMove({ game, view }) {
  const [change, setChange] = useState("0");
  const [inject, setInject] = useState("");
  const ladder = view.ladder || [];
  const reached = Math.min(Math.max(view.escalation.level + Number(change), 0), Math.max(ladder.length - 1, 0));
  const rung = ladder[reached];
  const listed = new Set(rung ? rung.injects : []);
  const catalogue = view.catalogue || [];
  const option = (t) => html`<option key=${t.id} value=${t.id}>${t.title} (${words(t.kind)}, severity ${t.severity})</option>`;
  const command = () => ({ type: "adversary_move", change: Number(change), inject: inject || null });
  return html`<section class="panel" aria-labelledby="adv-h">
    <h2 id="adv-h">${view.escalation.adversary}'s move</h2>
    <ol class="ladder" start="0" aria-label="Escalation ladder">
      ${ladder.map((r) => html`<li key=${r.level} aria-current=${r.level === view.escalation.level ? "step" : undefined}
        class=${r.level === view.escalation.level ? "now" : r.level === reached ? "next" : ""}>${r.name}</li>`)}
    </ol>
    <label>Change <select value=${change} onChange=${(e) => setChange(e.target.value)}>
      <option value="1">Escalate (+1)</option><option value="0">Hold</option><option value="-1">Step back (−1)</option></select></label>
    <label>Inject with the move <select value=${inject} onChange=${(e) => setInject(e.target.value)}>
      <option value="">none</option>
      ${listed.size > 0 && html`<optgroup label=${"Listed for " + rung.name}>${catalogue.filter((t) => listed.has(t.id)).map(option)}</optgroup>`}
      <optgroup label="Listed for other levels">${catalogue.filter((t) => !listed.has(t.id)).map(option)}</optgroup>
    </select></label>
    <${ActButton} game=${game} id="adversary" command=${command}>Make the move<//>
    <${PhaseHint} view=${view} type="adversary_move" />
  </section>`;
}

function Council({ view }) {
  return html`<section class="panel" aria-labelledby="rec-council-h">
    <h2 id="rec-council-h">Council</h2>
    <ul class="plain">
      ${view.consultations.map((c) => html`<li key=${c.requested_by}>${consultationLine(view, c)}</li>`)}
      ${view.proposals.filter((p) => p.outcome === "pending").map((p) => html`<li key=${p.id}>${p.id} under discussion (${p.procedure})</li>`)}
      ${view.invocations.map((i) => html`<li key=${i.key}>${invocationLine(view, i)}</li>`)}
    </ul>
  </section>`;
}

export function Record({ game, view, seat, seen }) {
  const injects = view.injects.length;
  useEffect(() => seen.mark({ injects }), [injects]);
  return html`<div class="grid">
    <div class="col">
      <${Feedback} game=${game} view=${view} seat=${seat} />
      ${seat.role === "red_cell" && html`<${Brief} id="adv-brief-h" title=${`${view.escalation.adversary}'s brief`}
        text=${view.adversary_brief} pack=${game.gameId} /><${AdversaryMove} game=${game} view=${view} />`}
      <${Situation} view=${view} />
      <p class="hint">${seat.role === "red_cell" ? "The red cell sees the public record." : "You watch the public record, and note what you see for the hotwash."}</p>
      <${Announcements} view=${view} /><${Council} view=${view} /><${Outcomes} view=${view} />
    </div>
    <div class="col">${seat.role !== "red_cell" && html`<${Notes} game=${game} view=${view} />`}<${Injects} view=${view} /></div>
    <div class="col"><${Metrics} view=${view} /></div>
  </div>`;
}
