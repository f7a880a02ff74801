// Panels several screens share: the situation and the briefs, injects, announcements, intelligence reports, current
// metrics, outcomes, notes; and how a free-form action reads, as argued and as ruled.
import { useState } from "preact/hooks";
import { clearedUnlessEdited, CELLS, html, memberList, memberName, number, percent, words, Refusal } from "./ui.js";
import { MetricCharts } from "./charts.js";

/** A scenario's text as paragraphs: a blank line parts them, a single line break is a space. */
export function Paragraphs({ text }) {
  return text.split(/\n\s*\n/).filter((p) => p.trim()).map((p, n) => html`<p key=${n}>${p.trim()}</p>`);
}

/** The situation every seat is briefed on: open while the game is young, folded away once play is under way
 * (the player's own folding or unfolding stands: `open` is read once). */
export function Situation({ view }) {
  const [young] = useState(view.status === "lobby" || view.round <= 1);
  if (!view.situation) return null;
  return html`<details class="panel situation" open=${young} data-testid="situation">
    <summary><h2>Situation</h2></summary>
    <${Paragraphs} text=${view.situation} />
  </details>`;
}

/** Instructions only this seat reads (a delegation's from its capital, the red cell's); `pack` is the game whose
 * briefing pack prints them. */
export function Brief({ title, text, id, pack }) {
  if (!text) return null;
  return html`<section class="panel secret" aria-labelledby=${id} data-testid="brief">
    <h2 id=${id}>${title} <span class="tag secret-tag">SECRET</span></h2>
    <${Paragraphs} text=${text} />
    ${pack && html`<p><a href=${`#/pack/${pack}`} target="_blank" rel="noopener">Print it</a></p>`}
  </section>`;
}

export function Injects({ view, showAudience = false }) {
  const injects = [...(view.injects || [])].reverse();
  return html`<section class="panel" aria-labelledby="injects-h">
    <h2 id="injects-h">Injects</h2>
    ${!injects.length && html`<p class="hint">No injects yet.</p>`}
    <ol class="plain injects" aria-live="polite">
      ${injects.map(
        (i) => html`<li key=${i.id} class=${"inject sev" + (i.severity || 0)} data-testid="inject">
          <div class="meta">
            <span class="tag">${words(i.kind)}</span>
            ${i.severity > 0 && html`<span class="tag severity">severity ${i.severity}</span>`}
            <span>round ${i.round}${i.phase ? `, ${i.phase}` : ""} · ${i.source}</span>
            ${i.targets?.length > 0 && html`<span>hits ${memberList(view, i.targets)}</span>`}
            ${showAudience && html`<span class="tag">${i.visible_to ? `only ${i.visible_to.join(", ")}` : "everyone"}</span>`}
          </div>
          <b>${i.title}</b>
          ${i.text && html`<p>${i.text}</p>`}
        </li>`,
      )}
    </ol>
  </section>`;
}

export function Announcements({ view }) {
  const items = [...(view.announcements || [])].reverse();
  if (!items.length) return null;
  return html`<section class="panel" aria-labelledby="ann-h">
    <h2 id="ann-h">From the white cell</h2>
    <ul class="plain" aria-live="polite">
      ${items.map((text, n) => html`<li key=${items.length - n} class="announcement">${text}</li>`)}
    </ul>
  </section>`;
}

export function Reports({ view, member }) {
  const injectTitle = (id) => view.injects.find((i) => i.id === id)?.title || id;
  const reports = [...(view.reports || [])].reverse();
  return html`<section class="panel" aria-labelledby="reports-h">
    <h2 id="reports-h">Intelligence reports</h2>
    ${!reports.length && html`<p class="hint">No reports yet.</p>`}
    <ul class="plain">
      ${reports.map((r) => {
        const own = !member || r.owner === member;
        const confidence = own ? r.confidence : r.shared_with[member];
        return html`<li key=${r.id} data-testid="report">
          <b>${injectTitle(r.inject)}</b>: attributed to <b>${r.attributed_to}</b>,
          confidence <span class="figure">${percent(confidence)}</span>
          ${own ? (member ? " (own services)" : ` (${memberName(view, r.owner)})`) : ` (shared by ${memberName(view, r.owner)})`}
        </li>`;
      })}
    </ul>
  </section>`;
}

export function Metrics({ view, members }) {
  const last = view.assessments?.[view.assessments.length - 1];
  const codes = members || Object.keys(view.public_support || {});
  return html`<section class="panel" aria-labelledby="metrics-h">
    <h2 id="metrics-h">Metrics</h2>
    <dl class="figures" data-testid="metrics">
      <div><dt>Cohesion</dt><dd>${number(view.cohesion)}</dd></div>
      <div><dt>Deterrence</dt><dd>${last ? number(last.deterrence) : "—"}</dd></div>
      <div><dt>Escalation</dt><dd>${view.escalation.level} · ${view.escalation.name}</dd></div>
      ${codes.map(
        (c) => html`<div key=${c}><dt>Public support ${c}</dt><dd>${number(view.public_support[c])}%</dd></div>`,
      )}
    </dl>
    <${MetricCharts} view=${view} members=${members} />
  </section>`;
}

export function Outcomes({ view }) {
  const closed = (view.proposals || []).filter((p) => p.outcome !== "pending");
  if (!closed.length) return null;
  return html`<section class="panel" aria-labelledby="outcomes-h">
    <h2 id="outcomes-h">Council outcomes</h2>
    <ul class="plain">
      ${closed.map(
        (p) => html`<li key=${p.id}>${p.id} ${words(p.kind)}: <span class=${"outcome " + p.outcome}>${words(p.outcome)}</span></li>`,
      )}
    </ul>
  </section>`;
}

/** Hotwash notes: the white cell, umpires and observers write down what they see as it happens, tagged to the
 * moment and, if it is about one, a member; the review and the after-action report list them. */
export function Notes({ game, view }) {
  const [text, setText] = useState("");
  const [member, setMember] = useState("");
  async function note(event) {
    event.preventDefault();
    const c = { type: "record_observation", text: text.trim(), member: member || null };
    if (await game.act("note", c)) setText(clearedUnlessEdited(text, ""));
  }
  const notes = [...(view.observations || [])].reverse();
  return html`<form class="panel" onSubmit=${note} aria-labelledby="notes-h" data-testid="notes">
    <h2 id="notes-h">Hotwash notes</h2>
    <p class="hint">For the hotwash and the after-action report; delegations never see them.</p>
    <label>Observation <textarea rows="2" value=${text} maxlength="4000" onInput=${(e) => setText(e.target.value)}></textarea></label>
    <label>About <select value=${member} onChange=${(e) => setMember(e.target.value)}>
      <option value="">the alliance as a whole</option>
      ${Object.keys(view.members).map((code) => html`<option key=${code} value=${code}>${memberName(view, code)}</option>`)}
    </select></label>
    <span class="act"><button type="submit" disabled=${!text.trim() || game.pending.note}>Record the note</button>
      <${Refusal} game=${game} for="note" /></span>
    <ul class="plain notes">
      ${notes.map((o, n) => html`<li key=${notes.length - n} data-testid="note">
        <small>${"Round " + o.round + ", after event " + o.about_seq + (o.member ? " · " + memberName(view, o.member) : "") +
          " · " + (CELLS[o.by] || o.by)}</small><br />${o.text}</li>`)}
    </ul>
  </form>`;
}

/** A free-form action: what a delegation proposes, the result and reasons it argues (a matrix-game argument), and
 * the ruling, with the dice if the white cell rolled for it. */
export function ActionText({ a }) {
  const text = a.result || a.reasons ? a.text.replace(/[.\s]+$/, "") : a.text;
  return html`${text}${a.result && html`, <i>so that</i> ${a.result}`}${a.reasons && html`, <i>because</i> ${a.reasons}`}
    ${" — "}<b data-testid="ruling">${a.ruling ? words(a.ruling) : "awaiting ruling"}</b>${a.note && `: ${a.note}`}
    ${a.roll && html` <${Dice} roll=${a.roll} ruling=${a.ruling} />`}`;
}

/** The die thrown for an argument, and whether a ruling by hand overruled it. */
function Dice({ roll, ruling }) {
  const succeeded = roll.value >= roll.target; // DiceRoll.succeeded
  const said = `${words(roll.strength)} argument, ${roll.target}+ needed: rolled ${roll.value}`;
  return html`<span class="tag" data-testid="dice"
    >${said}${succeeded ? "" : ", fails"}${succeeded !== (ruling === "accepted") ? "; overruled" : ""}</span>`;
}

const FORM = {
  rating: "Overall, how useful was this exercise to you?",
  went_well: "What went well?",
  to_improve: "What should be done differently next time?",
};

/** The feedback form, on every seat's first screen once the exercise has ended: a rating and two questions, for the
 * after-action report.  Sent again, it replaces the seat's earlier answer. */
export function Feedback({ game, view, seat }) {
  const [rating, setRating] = useState("");
  const [text, setText] = useState({ went_well: "", to_improve: "" });
  const given = (view.feedback_from || []).includes(seat.seat_id);
  if (view.status !== "ended") return null;
  async function send(event) {
    event.preventDefault();
    await game.act("feedback", { type: "give_feedback", rating: Number(rating), ...text });
  }
  const field = (key) => (e) => setText({ ...text, [key]: e.target.value });
  return html`<form class="panel feedback" onSubmit=${send} aria-labelledby="feedback-h" data-testid="feedback">
    <h2 id="feedback-h">Your feedback</h2>
    <p class="hint">${given
      ? "Thank you: your answers are in the after-action report. Send again to change them."
      : "The exercise has ended. Three questions for the after-action report; the white cell reads the answers."}</p>
    <fieldset class="rating"><legend>${FORM.rating}</legend>
      ${[1, 2, 3, 4, 5].map((n) => html`<label key=${n}><input type="radio" name="rating" value=${n}
        checked=${rating === String(n)} onChange=${() => setRating(String(n))} /> ${n}${
        n === 1 ? " (not at all)" : n === 5 ? " (very)" : ""}</label>`)}
    </fieldset>
    <label>${FORM.went_well} <textarea rows="2" maxlength="4000" value=${text.went_well} onInput=${field("went_well")}></textarea></label>
    <label>${FORM.to_improve} <textarea rows="2" maxlength="4000" value=${text.to_improve} onInput=${field("to_improve")}></textarea></label>
    <span class="act"><button type="submit" disabled=${!rating || game.pending.feedback}>${given ? "Send again" : "Send feedback"}</button>
      <${Refusal} game=${game} for="feedback" /></span>
  </form>`;
}
