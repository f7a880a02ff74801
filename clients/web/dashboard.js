// The delegation's dashboard: the situation, its member's figures, brief and secret objectives, injects,
// intelligence, metrics.
import { useEffect, useState } from "preact/hooks";
import { clearedUnlessEdited, html, memberName, number, percent, words, ActButton, PhaseHint, Refusal, speaksFor } from "./ui.js";
import { ActionText, Announcements, Brief, Feedback, Injects, Metrics, Outcomes, Reports, Situation } from "./panels.js";
import { fairShare, totalShares } from "./proposal.js";
import { onDashboard } from "./unseen.js";

const CAVEATS = {
  parliament_approval: "Parliament must approve deployments (forces deploy from the next round)",
  no_out_of_area: "No deployments out of area",
  no_offensive_cyber: "No offensive cyber operations",
  pledge_cap: "Pledge cap per requirement",
};

export function Figures({ view, member: m }) {
  const forces = Object.entries(m.forces || {});
  const approx = (field) => (m.estimates || []).includes(field) ? html` <abbr title="estimate">≈</abbr>` : "";
  return html`<section class="panel" aria-labelledby="figures-h">
    <h2 id="figures-h">${m.name} (${m.code})</h2>
    <dl class="figures">
      <div><dt>GDP</dt><dd>${m.gdp_usd_bn ? `$${number(m.gdp_usd_bn, 0)} bn` : "—"}${approx("gdp_usd_bn")}</dd></div>
      <div><dt>Defence spending</dt><dd>${m.defence_pct_gdp !== null ? `${number(m.defence_pct_gdp)}% of GDP` : "—"}</dd></div>
      <div><dt>Public support</dt><dd>${number(view.public_support[m.code] ?? m.public_support)}%${approx("public_support")}</dd></div>
      <div><dt>Cost share</dt><dd data-testid="cost-share" title="weight in fair shares of a burden and in assessed funding">
        ${number(m.cost_share)} of ${number(totalShares(view))}${approx("cost_share")}
        <small> (${number(fairShare(view, m.code, 100))}%)</small></dd></div>
      <div><dt>Intelligence</dt><dd>${percent(m.intelligence)}</dd></div>
    </dl>
    <h3>Forces</h3>
    ${forces.length
      ? html`<ul class="plain">${forces.map(([domain, f]) => html`<li key=${domain}>
          ${domain}: ${f.units} units, ${percent(f.readiness)} ready (${Math.floor(f.units * f.readiness)} deployable)</li>`)}</ul>`
      : html`<p class="hint">No force figures in this scenario.</p>`}
    <h3>Caveats</h3>
    ${m.caveats?.length
      ? html`<ul class="plain">${m.caveats.map((c, n) => html`<li key=${n}>
          ${CAVEATS[c.kind] || words(c.kind)}${c.limit !== null && c.limit !== undefined ? `: ${c.limit} units` : ""}
          ${c.note && ` — ${c.note}`}</li>`)}</ul>`
      : html`<p class="hint">None.</p>`}
  </section>`;
}

function Objectives({ member: m }) {
  const met = new Set(m.score?.met || []);
  return html`<section class="panel secret" aria-labelledby="objectives-h">
    <h2 id="objectives-h">Secret objectives <span class="tag secret-tag">SECRET</span></h2>
    <p>National score: <b data-testid="score">${m.score?.points ?? 0}</b> points</p>
    ${!(m.objectives || []).length && html`<p class="hint">This scenario gives ${m.name} no secret objectives.</p>`}
    <ul class="plain" data-testid="objectives">
      ${(m.objectives || []).map(
        (o) => html`<li key=${o.id} class=${met.has(o.id) ? "met" : ""}>
          <span aria-hidden="true">${met.has(o.id) ? "✔" : "○"}</span> ${o.text}${" "}
          <small>(${o.points} pt${o.points === 1 ? "" : "s"}${met.has(o.id) ? ", met" : ""})</small>
        </li>`,
      )}
    </ul>
  </section>`;
}

function Actions({ game, view }) {
  const empty = { text: "", result: "", reasons: "" };
  const [f, setF] = useState(empty);
  const field = (key) => (e) => setF({ ...f, [key]: e.target.value });
  async function propose(event) {
    event.preventDefault();
    const c = { type: "propose_action", text: f.text.trim(), result: f.result.trim(), reasons: f.reasons.trim() };
    if (await game.act("propose-action", c)) setF(clearedUnlessEdited(f, empty));
  }
  return html`<section class="panel" aria-labelledby="actions-h">
    <h2 id="actions-h">National actions</h2>
    <p class="hint">${"Free-form actions the rules do not cover; the white cell rules on them. Argue the result you " +
      "expect and why, and the white cell may rate the argument and let a die decide."}</p>
    <ul class="plain" data-testid="actions">
      ${view.actions.map((a) => html`<li key=${a.id}><${ActionText} a=${a} /></li>`)}
    </ul>
    <form onSubmit=${propose}>
      <label>Action <textarea rows="2" value=${f.text} onInput=${field("text")} maxlength="4000"></textarea></label>
      <label>Result expected (optional) <textarea rows="1" value=${f.result} onInput=${field("result")} maxlength="4000"></textarea></label>
      <label>Reasons (optional) <textarea rows="1" value=${f.reasons} onInput=${field("reasons")} maxlength="4000"></textarea></label>
      <span class="act"><button type="submit" disabled=${!f.text.trim() || game.pending["propose-action"]}>Propose action</button>
        <${Refusal} game=${game} for="propose-action" /></span>
      <${PhaseHint} view=${view} type="propose_action" />
    </form>
  </section>`;
}

function Assistance({ game, view, code, speaks }) {
  const asked = (view.assistance_requested_by || []).includes(code);
  return html`<section class="panel" aria-labelledby="assist-h">
    <h2 id="assist-h">Assistance</h2>
    ${asked ? html`<p>${memberName(view, code)} has requested assistance from its allies.</p>`
      : speaks ? html`<p><${ActButton} game=${game} id="request-assistance" command=${{ type: "request_assistance" }}
          >Request assistance from allies<//> <${PhaseHint} view=${view} type="request_assistance" /></p>`
      : html`<p class="hint">Your head of delegation requests assistance from the allies.</p>`}
  </section>`;
}

export function Dashboard({ game, view, seat, seen }) {
  const code = view.you.member;
  const me = view.members[code];
  const { injects, reports, rulings } = onDashboard(view);
  useEffect(() => seen.mark({ injects, reports, rulings }), [injects, reports, rulings]);
  // What has just happened comes first, in the page's order and on the left: on a phone's single column it would
  // otherwise sit below the delegation's forms.
  return html`<div class="grid">
    <div class="col">
      <${Feedback} game=${game} view=${view} seat=${seat} />
      <${Announcements} view=${view} />
      <${Injects} view=${view} />
      <${Reports} view=${view} member=${code} />
      <${Situation} view=${view} />
    </div>
    <div class="col">
      <${Figures} view=${view} member=${me} />
      <${Brief} id="brief-h" title=${`${me.name}'s brief`} text=${me.brief} pack=${game.gameId} />
      <${Objectives} member=${me} />
      <${Actions} game=${game} view=${view} />
      ${view.rules?.defence_needs_request && html`<${Assistance} game=${game} view=${view} code=${code}
        speaks=${speaksFor(view, seat)} />`}
    </div>
    <div class="col">
      <${Metrics} view=${view} />
      <${Outcomes} view=${view} />
    </div>
  </div>`;
}
