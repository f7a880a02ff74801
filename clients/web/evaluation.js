// The evaluators' part of the after-action report (HSEEP AAR/IP): each capability's rating beside the one the log's
// evidence suggests, and the improvement plan (corrective action, who is responsible, from when to when). The white
// cell and umpires write them, during the hotwash or after; everyone who may open the review reads them.
import { useState } from "preact/hooks";
import { api } from "./api.js";
import { CELLS, html } from "./ui.js";

const EMPTY_ROW = { item: null, capability: "", issue: "", action: "", responsible: "", start: "", completion: "" };

/** Commands played over REST for the review's seat: `play(command)` resolves to whether it was played; `error` is
 * the last refusal's reason, `busy` true while one is on its way; `onPlayed` runs after each command played. */
function useCommands(gameId, token, onPlayed) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  async function play(command) {
    setBusy(true);
    let refused = "";
    try {
      await api.command(gameId, command, token);
    } catch (e) {
      refused = e.message;
    }
    setBusy(false);
    setError(refused);
    if (!refused) onPlayed();
    return !refused;
  }
  return { play, error, busy };
}

const judged = (c) => `(${CELLS[c.rated_by] || c.rated_by}; the log suggested ${c.suggested || "no rating"})`;

function Ratings({ capabilities, meanings }) {
  if (!capabilities.length) return html`<p class="hint">Nothing rated yet.</p>`;
  return html`<table data-testid="capabilities">
    <caption class="sr-only">Capabilities as rated</caption>
    <thead><tr><th scope="col">Capability</th><th scope="col">Rating</th><th scope="col">Evidence in the log</th>
      <th scope="col">Evaluators' judgement</th></tr></thead>
    <tbody>${capabilities.map(
      (c) => html`<tr key=${c.name} data-testid="capability">
        <td>${c.name}</td>
        <td><b title=${meanings[c.rating]}>${c.rating}</b> <span class="hint">${meanings[c.rating]}</span></td>
        <td>${c.evidence.join("; ")}</td>
        <td>${c.rated_by
          ? html`${c.reason} <span class="hint">${judged(c)}</span>`
          : html`<span class="hint">as the log suggests</span>`}</td>
      </tr>`,
    )}</tbody>
  </table>`;
}

function RateForm({ gameId, token, names, meanings, capabilities, onPlayed }) {
  const [capability, setCapability] = useState(names[0]);
  const [rating, setRating] = useState("");
  const [reason, setReason] = useState("");
  const { play, error, busy } = useCommands(gameId, token, onPlayed);
  const current = capabilities.find((c) => c.name === capability);
  async function rate(event) {
    event.preventDefault();
    if (await play({ type: "rate_capability", capability, rating: rating || current?.rating || "P", reason })) {
      setReason("");
      setRating("");
    }
  }
  return html`<form class="evaluation-form" onSubmit=${rate} aria-label="Rate a capability" data-testid="rate-form">
    <label>Capability <select value=${capability} onChange=${(e) => { setCapability(e.currentTarget.value); setRating(""); }}>
      ${names.map((n) => html`<option key=${n} value=${n}>${n}</option>`)}
    </select></label>
    <label>Rating <select value=${rating || current?.rating || "P"} onChange=${(e) => setRating(e.currentTarget.value)}>
      ${Object.entries(meanings).map(([r, meaning]) => html`<option key=${r} value=${r}>${r}: ${meaning}</option>`)}
    </select></label>
    <label>Reason <input type="text" value=${reason} maxlength="2000" required
      onInput=${(e) => setReason(e.currentTarget.value)} /></label>
    <p class="buttons"><button type="submit" disabled=${busy || !reason.trim()}>Record the rating</button></p>
    ${error && html`<p class="refusal" role="alert">${error}</p>`}
  </form>`;
}

function Plan({ plan, canEdit, onEdit, onDrop }) {
  if (!plan.length) return html`<p class="hint" data-testid="plan">No corrective action planned yet.</p>`;
  return html`<table data-testid="plan">
    <caption class="sr-only">Improvement plan</caption>
    <thead><tr><th scope="col">Item</th><th scope="col">Capability</th><th scope="col">Issue</th>
      <th scope="col">Corrective action</th><th scope="col">Responsible</th><th scope="col">Start</th>
      <th scope="col">Completion</th>${canEdit && html`<th scope="col"><span class="sr-only">Change</span></th>`}</tr></thead>
    <tbody>${plan.map(
      (row) => html`<tr key=${row.item} data-testid=${`plan-${row.item}`}>
        <td>${row.item}</td><td>${row.capability}</td><td>${row.issue}</td><td>${row.action}</td>
        <td>${row.responsible}</td><td>${row.start || ""}</td><td>${row.completion || ""}</td>
        ${canEdit && html`<td class="buttons">
          <button type="button" class="ghost" onClick=${() => onEdit(row)}>Edit ${row.item}</button>
          <button type="button" class="ghost" onClick=${() => onDrop(row.item)}>Drop ${row.item}</button></td>`}
      </tr>`,
    )}</tbody>
  </table>`;
}

function PlanForm({ row, setRow, names, busy, onSubmit }) {
  const field = (key) => ({ value: row[key] || "", onInput: (e) => setRow({ ...row, [key]: e.currentTarget.value }) });
  return html`<form class="evaluation-form" onSubmit=${onSubmit} data-testid="plan-form"
      aria-label=${row.item ? `Change ${row.item}` : "Plan a corrective action"}>
    <label>Capability <select value=${row.capability || names[0]}
        onChange=${(e) => setRow({ ...row, capability: e.currentTarget.value })}>
      ${names.map((n) => html`<option key=${n} value=${n}>${n}</option>`)}
    </select></label>
    <label>Issue <input type="text" maxlength="2000" ...${field("issue")} /></label>
    <label>Corrective action <textarea rows="2" maxlength="2000" required ...${field("action")}></textarea></label>
    <label>Responsible <input type="text" maxlength="200" required ...${field("responsible")} /></label>
    <label>Start <input type="date" ...${field("start")} /></label>
    <label>Completion <input type="date" ...${field("completion")} /></label>
    <p class="buttons">
      <button type="submit" disabled=${busy || !row.action.trim() || !row.responsible.trim()}>
        ${row.item ? `Save ${row.item}` : "Add to the plan"}</button>
      ${row.item && html`<button type="button" class="ghost" onClick=${() => setRow(EMPTY_ROW)}>Cancel</button>`}
    </p>
  </form>`;
}

/** The capabilities as rated and the improvement plan; with `canEdit`, the forms that rate and plan. */
export function Evaluation({ gameId, token, summary, canEdit, onPlayed }) {
  const names = summary.capability_names || [];
  const meanings = summary.rating_meanings || {};
  const [row, setRow] = useState(EMPTY_ROW);
  const { play, error, busy } = useCommands(gameId, token, onPlayed);
  async function plan(event) {
    event.preventDefault();
    const command = {
      type: "plan_corrective_action",
      capability: row.capability || names[0],
      issue: row.issue,
      action: row.action,
      responsible: row.responsible,
      start: row.start || null,
      completion: row.completion || null,
    };
    if (row.item) command.item = row.item;
    if (await play(command)) setRow(EMPTY_ROW);
  }
  const edit = (r) => setRow({ ...r, issue: r.issue || "", start: r.start || "", completion: r.completion || "" });
  const drop = async (item) => {
    if (await play({ type: "drop_corrective_action", item }) && row.item === item) setRow(EMPTY_ROW);
  };
  return html`<section class="panel wide" aria-labelledby="evaluation-h" data-testid="evaluation">
    <h2 id="evaluation-h">Capabilities and improvement plan</h2>
    <p class="hint">The rules rate each capability from the log (P, S, M, U); the white cell and umpires have the last
      word, with their reason, and write the improvement plan. Both go into the report and the CSV exports.</p>
    <${Ratings} capabilities=${summary.capabilities} meanings=${meanings} />
    ${canEdit && html`<${RateForm} gameId=${gameId} token=${token} names=${names} meanings=${meanings}
      capabilities=${summary.capabilities} onPlayed=${onPlayed} />`}
    <h3>Improvement plan</h3>
    <${Plan} plan=${summary.improvement_plan || []} canEdit=${canEdit} onEdit=${edit} onDrop=${drop} />
    ${canEdit && html`<${PlanForm} row=${row} setRow=${setRow} names=${names} busy=${busy} onSubmit=${plan} />`}
    ${error && html`<p class="refusal" role="alert" data-testid="evaluation-refusal">${error}</p>`}
  </section>`;
}
