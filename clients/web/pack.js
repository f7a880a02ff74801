// The briefing pack, to print: the situation for everyone, then a page for each delegation (its figures, its
// capital's brief, its secret objectives) and one for the red cell, as a seminar hands them out on paper.  Each seat
// prints what its own view holds: the white cell every page, a delegation its own.
import { useEffect, useState } from "preact/hooks";
import { api, credentials } from "./api.js";
import { html, duration, words } from "./ui.js";
import { Paragraphs } from "./panels.js";
import { Figures } from "./dashboard.js";

function Cover({ view }) {
  const minutes = view.phases.reduce((sum, p) => sum + (p.seconds || 0) / 60, 0);
  return html`<section class="page" aria-labelledby="pack-h">
    <h1 id="pack-h">${view.title}</h1>
    <p class="hint">Briefing pack · ${view.rounds} rounds of ${view.phases.map((p) => words(p.name)).join(", ")}
      ${minutes > 0 ? ` (${duration(Math.round(minutes))} a round)` : ""}</p>
    ${view.situation ? html`<h2>Situation</h2><${Paragraphs} text=${view.situation} />` : html`<p class="hint">The scenario has no situation text.</p>`}
    <h2>Member states</h2>
    <p>${Object.values(view.members).map((m) => m.name).join(", ")}</p>
  </section>`;
}

function Delegation({ view, member: m }) {
  return html`<section class="page" aria-labelledby=${`pack-${m.code}`} data-testid="pack-delegation">
    <p class="secret-line">SECRET — for the ${m.name} delegation only</p>
    <h2 id=${`pack-${m.code}`}>${m.name} (${m.code})</h2>
    <${Figures} view=${view} member=${m} />
    <h3>Your brief</h3>
    ${m.brief ? html`<${Paragraphs} text=${m.brief} />` : html`<p class="hint">The scenario gives ${m.name} no brief.</p>`}
    <h3>Secret objectives</h3>
    ${(m.objectives || []).length
      ? html`<ul>${m.objectives.map((o) => html`<li key=${o.id}>${o.text} (${o.points} pt${o.points === 1 ? "" : "s"})</li>`)}</ul>`
      : html`<p class="hint">None.</p>`}
  </section>`;
}

function RedCell({ view }) {
  return html`<section class="page" aria-labelledby="pack-red" data-testid="pack-red-cell">
    <p class="secret-line">SECRET — for the red cell only</p>
    <h2 id="pack-red">${view.escalation.adversary} (red cell)</h2>
    <${Paragraphs} text=${view.adversary_brief} />
    ${(view.ladder || []).length > 0 && html`<h3>Escalation ladder</h3>
      <ol start="0">${view.ladder.map((r) => html`<li key=${r.level}>${r.name}${r.level === view.escalation.level ? " (the start)" : ""}</li>`)}</ol>`}
  </section>`;
}

export function Pack({ gameId }) {
  const seat = credentials.get(gameId);
  const [view, setView] = useState(null);
  const [problem, setProblem] = useState(seat ? "" : `This browser holds no seat for game ${gameId}.`);
  useEffect(() => {
    if (seat) api.view(gameId, seat.token).then(setView, (e) => setProblem(e.message));
  }, [gameId]);
  useEffect(() => {
    document.title = `${view?.title || "Wargame"} – briefing pack`;
  }, [view?.title]);
  if (!view) return html`<main id="main" class="narrow pack" tabindex="-1"><p role=${problem ? "alert" : "status"}>${problem || "Loading…"}</p></main>`;
  // A record that holds its brief or objectives is one this seat may read whole: its own, or every one for the white cell.
  const delegations = Object.values(view.members).filter((m) => "brief" in m || "objectives" in m);
  return html`<main id="main" class="narrow pack" tabindex="-1">
    <p class="no-print buttons"><button type="button" onClick=${() => window.print()}>Print</button>
      <span class="hint">${["the situation", ...delegations.map((m) => m.name), view.adversary_brief && "the red cell"]
        .filter(Boolean).join(", ")}: each on a sheet of its own.</span></p>
    <${Cover} view=${view} />
    ${delegations.map((m) => html`<${Delegation} key=${m.code} view=${view} member=${m} />`)}
    ${view.adversary_brief && html`<${RedCell} view=${view} />`}
  </main>`;
}
