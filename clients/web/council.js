// The council: consultation requests, proposals with live positions, tabling, invocations.
import { useState } from "preact/hooks";
import { clearedUnlessEdited, html, memberList, memberName, words, ActButton, HeadNote, MemberPicker, PhaseHint, Refusal, speaksFor } from "./ui.js";
import { Proposal } from "./proposal.js";

function Consultations({ game, view, canAct }) {
  const [joined, setJoined] = useState([]);
  const me = view.you.member;
  const convener = view.convened_with; // who asked, with this member among the requesters, this round (or null)
  return html`<section class="panel" aria-labelledby="consult-h">
    <h2 id="consult-h">Consultations</h2>
    ${!view.consultations.length && html`<p class="hint">No consultation has been requested.</p>`}
    <ul class="plain" data-testid="consultations">
      ${view.consultations.map((c) => html`<li key=${c.requested_by}>
        Requested by <b>${memberName(view, c.requested_by)}</b> in round ${c.round}${c.joined_by.length
          ? `, joined by ${memberList(view, c.joined_by)}` : ""} — ${c.status}</li>`)}
    </ul>
    ${canAct && convener && html`<p>${memberName(view, me)} has convened the council this round${
      convener === me ? "" : `, with ${memberName(view, convener)}`}.</p>`}
    ${canAct && !convener && html`<div class="form">
      <${MemberPicker} view=${view} value=${joined} onChange=${setJoined} exclude=${[me]} legend="Co-requesters (optional)" name="joined" />
      <${ActButton} game=${game} id="request-consultation" command=${{ type: "request_consultation", joined_by: joined }}
        >Request consultation${joined.length ? ` with ${joined.join(", ")}` : ""}<//>
      <${PhaseHint} view=${view} type="request_consultation" />
    </div>`}
  </section>`;
}

function TableProposal({ game, view }) {
  const rules = view.rules; // the treaty's, from game_rules/rulesets.py
  const [f, setF] = useState({ kind: rules.proposal_kinds[0], procedure: rules.procedures[0], text: "", forces: "", domain: "land",
    outOfArea: false, offensive: false, amount: "", victim: "", attackKind: "armed", attributed: true, inArea: true, parties: [] });
  const set = (key) => (e) => setF({ ...f, [key]: e.target.type === "checkbox" ? e.target.checked : e.target.value });
  const id = `P${view.proposals.length + 1}`;
  async function table(event) {
    event.preventDefault();
    const c = { type: "table_proposal", proposal: id, kind: f.kind, procedure: f.procedure, text: f.text.trim() };
    if (f.kind === "deploy_forces" && f.forces !== "") {
      c.requirement = { forces: Number(f.forces), domain: f.domain, out_of_area: f.outOfArea, offensive: f.offensive };
    }
    if (f.kind === "common_funding" && f.amount !== "") c.amount = Number(f.amount);
    if (f.kind === "invoke_collective_defence") {
      c.victim = f.victim || null;
      c.attack = { kind: f.attackKind, attributed: f.attributed, in_treaty_area: f.inArea };
    }
    if (f.procedure === "vote") c.parties = f.parties;
    if (await game.act("table", c)) setF(clearedUnlessEdited(f, { ...f, text: "", forces: "", amount: "" }));
  }
  return html`<section class="panel" aria-labelledby="table-h">
    <h2 id="table-h">Table a proposal</h2>
    <form onSubmit=${table} data-testid="table-form">
      <label>Kind <select value=${f.kind} onChange=${set("kind")}>
        ${rules.proposal_kinds.map((k) => html`<option key=${k} value=${k}>${words(k)}</option>`)}</select></label>
      <label>Procedure <select value=${f.procedure} onChange=${set("procedure")}>
        ${rules.procedures.map((p) => html`<option key=${p} value=${p}>${p}</option>`)}</select></label>
      <label>Text <textarea rows="3" value=${f.text} onInput=${set("text")} maxlength="4000"></textarea></label>
      ${f.kind === "deploy_forces" && html`<fieldset><legend>Force requirement</legend>
        <label>Units <input type="number" min="1" step="1" value=${f.forces} onInput=${set("forces")} /></label>
        <label>Domain <select value=${f.domain} onChange=${set("domain")}>
          ${["land", "air", "sea", "cyber"].map((d) => html`<option key=${d} value=${d}>${d}</option>`)}</select></label>
        <label><input type="checkbox" checked=${f.outOfArea} onChange=${set("outOfArea")} /> Out of area</label>
        <label><input type="checkbox" checked=${f.offensive} onChange=${set("offensive")} /> Offensive (cyber)</label>
      </fieldset>`}
      ${f.kind === "common_funding" && html`<label>Amount to share
        <input type="number" min="0" step="any" value=${f.amount} onInput=${set("amount")} /></label>`}
      ${f.kind === "invoke_collective_defence" && html`<fieldset><legend>Invocation</legend>
        <label>Victim <select value=${f.victim} onChange=${set("victim")}><option value="">Choose…</option>
          ${Object.keys(view.members).map((c) => html`<option key=${c} value=${c}>${memberName(view, c)}</option>`)}</select></label>
        <label>Attack <select value=${f.attackKind} onChange=${set("attackKind")}>
          ${["armed", "cyber", "hybrid"].map((k) => html`<option key=${k} value=${k}>${k}</option>`)}</select></label>
        <label><input type="checkbox" checked=${f.attributed} onChange=${set("attributed")} /> Attacker established</label>
        <label><input type="checkbox" checked=${f.inArea} onChange=${set("inArea")} /> In the treaty area</label>
      </fieldset>`}
      ${f.procedure === "vote" && html`<${MemberPicker} view=${view} value=${f.parties}
        onChange=${(parties) => setF({ ...f, parties })} legend="Parties to the dispute (may not vote)" name="parties" />`}
      <span class="act"><button type="submit" disabled=${game.pending.table}>Table ${id}</button>
        <${Refusal} game=${game} for="table" /></span>
      <${PhaseHint} view=${view} type="table_proposal" />
    </form>
  </section>`;
}

function Invocations({ game, view, seat }) {
  const [attack, setAttack] = useState("armed");
  const me = view.you.member;
  const speaks = speaksFor(view, seat);
  const mayConfirm = (i) => i.status === "conditional" && (seat.role === "facilitator" || (speaks && i.victim === me));
  return html`<section class="panel" aria-labelledby="inv-h">
    <h2 id="inv-h">Collective defence</h2>
    ${!view.invocations.length && html`<p class="hint">No invocation.</p>`}
    <ul class="plain">
      ${view.invocations.map((i) => html`<li key=${i.key}>${memberName(view, i.victim)}: ${i.attack.kind} attack — <b>${i.status}</b>
        ${mayConfirm(i) && html` <${ActButton} game=${game} id=${`confirm-${i.key}`}
          command=${{ type: "confirm_attribution", proposal: i.key }}>Confirm attribution<//>`}</li>`)}
    </ul>
    ${view.rules.defence === "unilateral" && speaks && html`<div class="form">
      <label>Attack on ${memberName(view, me)} <select value=${attack} onChange=${(e) => setAttack(e.target.value)}>
        ${["armed", "cyber", "hybrid"].map((k) => html`<option key=${k} value=${k}>${k}</option>`)}</select></label>
      <${ActButton} game=${game} id="invoke" command=${{ type: "invoke", attack: { kind: attack } }}>Invoke collective defence<//>
      <${PhaseHint} view=${view} type="invoke" />
    </div>`}
  </section>`;
}

export function Council({ game, view, seat }) {
  const delegation = speaksFor(view, seat);
  const chair = seat.role === "facilitator";
  const proposals = [...view.proposals].reverse();
  // The proposals come first, in the page's order and on the left: on a phone's single column they are what a
  // delegation answers, and would otherwise sit below the forms.
  return html`<${HeadNote} view=${view} seat=${seat} />
  <div class="grid two">
    <div class="col">
      <section class="panel" aria-labelledby="props-h">
        <h2 id="props-h">Proposals</h2>
        ${!proposals.length && html`<p class="hint">Nothing tabled yet.</p>`}
        ${proposals.map((p) => html`<${Proposal} key=${p.id} game=${game} view=${view} p=${p} canAct=${delegation} chair=${chair} />`)}
      </section>
    </div>
    <div class="col">
      <${Consultations} game=${game} view=${view} canAct=${delegation} />
      ${(delegation || chair) && html`<${TableProposal} game=${game} view=${view} />`}
      <${Invocations} game=${game} view=${view} seat=${seat} />
    </div>
  </div>`;
}
