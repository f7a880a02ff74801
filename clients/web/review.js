// The after-action review: the timeline with filters, a scrubber over the event log showing the game as it
// stood at any seq (all-seeing or one delegation's view), proposals with every position, metrics charts and
// the exports. Reads the review REST API with the Bearer token this browser holds for the game.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, credentials } from "./api.js";
import { MetricCharts } from "./charts.js";
import { Evaluation } from "./evaluation.js";
import { html, meanRating, number, words, ROLE_NAMES } from "./ui.js";

async function get(gameId, token, path, params = []) {
  const query = new URLSearchParams(params).toString();
  const response = await fetch(`/api/games/${encodeURIComponent(gameId)}${path}${query ? `?${query}` : ""}`, {
    headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error(data?.error?.message || `HTTP ${response.status}`);
  return data;
}

const EXPORTS = [
  ["json", null, "Whole game (JSON)", "json"],
  ["xlsx", null, "Every table (Excel workbook)", "xlsx"],
  ["csv", "events", "Events (CSV)", "csv"],
  ["csv", "positions", "Positions (CSV)", "csv"],
  ["csv", "pledges", "Pledges (CSV)", "csv"],
  ["csv", "metrics", "Metrics (CSV)", "csv"],
  ["csv", "messages", "Messages (CSV)", "csv"],
  ["csv", "actions", "Actions (CSV)", "csv"],
  ["csv", "seats", "Seats (CSV)", "csv"],
  ["csv", "capabilities", "Capabilities (CSV)", "csv"],
  ["csv", "improvement_plan", "Improvement plan (CSV)", "csv"],
  ["csv", "feedback", "Participant feedback (CSV)", "csv"],
  ["md", null, "Report (Markdown)", "md"],
  ["html", null, "Report (HTML)", "html"],
];

/** Fetch an export with the Bearer header and save it through a Blob URL (a plain link could not send it). */
export async function download(gameId, token, format, table, ext) {
  const params = new URLSearchParams({ format });
  if (table) params.set("table", table);
  const response = await fetch(`/api/games/${encodeURIComponent(gameId)}/export?${params}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    throw new Error(data?.error?.message || `HTTP ${response.status}`);
  }
  const blob = await response.blob();
  const named = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "");
  const name = named ? named[1] : `wargame-${gameId}${table ? `-${table}` : "-report"}.${ext}`;
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

const POSITION_WORDS = { concur: "concurred", object: "objected", reserve: "reserved", break_silence: "broke silence" };

function Filters({ all, filters, setFilters, names }) {
  const rounds = [...new Set(all.map((e) => e.round))].sort((a, b) => a - b);
  const members = [...new Set(all.flatMap((e) => e.members))].sort();
  const types = [...new Set(all.map((e) => e.type))].sort();
  const set = (key) => (e) => setFilters({ ...filters, [key]: e.currentTarget.value });
  return html`<div class="review-filters" role="group" aria-label="Timeline filters">
    <label>Round
      <select value=${filters.round} onChange=${set("round")} data-testid="filter-round">
        <option value="">All rounds</option>
        ${rounds.map((r) => html`<option key=${r} value=${String(r)}>${r === 0 ? "Before the start" : `Round ${r}`}</option>`)}
      </select>
    </label>
    <label>Member
      <select value=${filters.member} onChange=${set("member")} data-testid="filter-member">
        <option value="">All members</option>
        ${members.map((m) => html`<option key=${m} value=${m}>${names[m] || m}</option>`)}
      </select>
    </label>
    <label>Event type
      <select value=${filters.type} onChange=${set("type")} data-testid="filter-type">
        <option value="">All types</option>
        ${types.map((t) => html`<option key=${t} value=${t}>${words(t)}</option>`)}
      </select>
    </label>
  </div>`;
}

function Timeline({ events, loading, current, onShow }) {
  return html`<div class="review-timeline" data-testid="timeline" aria-busy=${loading ? "true" : "false"}>
    <p class="hint" role="status" data-testid="timeline-count">${events.length} event${events.length === 1 ? "" : "s"}</p>
    <table>
      <thead><tr><th scope="col">Seq</th><th scope="col">Round</th><th scope="col">Phase</th><th scope="col">Type</th>
        <th scope="col">Members</th><th scope="col">What happened</th></tr></thead>
      <tbody>
        ${events.map(
          (e) => html`<tr key=${e.seq} data-testid="timeline-row"
            class=${(e.seq === current ? "current" : "") + (e.undone ? " undone" : "")}>
            <td><button type="button" class="ghost seq" aria-label=${`Show the game at event ${e.seq}`}
              onClick=${() => onShow(e.seq)}>${e.seq}</button></td>
            <td>${e.round}</td><td>${words(e.phase) || "—"}</td><td>${words(e.type)}</td>
            <td>${e.members.join(", ")}</td><td>${e.undone ? html`<s>${e.text}</s> <small>(undone by a rewind)</small>` : e.text}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function StateAt({ state, names }) {
  if (!state) return html`<p>Loading the state…</p>`;
  const escalation = state.escalation || {};
  const last = state.assessments?.[state.assessments.length - 1];
  return html`<div data-testid="state">
    <dl class="figures">
      <div><dt>Status</dt><dd data-testid="state-status">${words(state.status)}</dd></div>
      <div><dt>Round</dt><dd data-testid="state-round">${state.round} of ${state.rounds}</dd></div>
      <div><dt>Phase</dt><dd data-testid="state-phase">${words(state.phase) || "—"}</dd></div>
      <div><dt>Cohesion</dt><dd>${number(state.cohesion)}</dd></div>
      <div><dt>Escalation</dt><dd>${escalation.level ?? "—"}${escalation.name ? ` (${escalation.name})` : ""}</dd></div>
      ${last && html`<div><dt>Deterrence (R${last.round})</dt><dd>${number(last.deterrence)}</dd></div>`}
      <div><dt>Injects</dt><dd>${state.injects?.length ?? 0}</dd></div>
      <div><dt>Messages seen</dt><dd>${state.messages?.length ?? 0}</dd></div>
    </dl>
    <h3>Proposals</h3>
    ${state.proposals?.length
      ? html`<ul class="plain" data-testid="state-proposals">
          ${state.proposals.map(
            (p) => html`<li key=${p.id} data-testid=${`state-proposal-${p.id}`}>
              <strong>${p.id}</strong> · ${words(p.kind)} · <span class=${`outcome ${p.outcome}`}>${words(p.outcome)}</span>
              <div class="hint">${p.text}</div>
              <div class="hint">${Object.entries(p.positions || {})
                .map(([m, pos]) => `${names[m] || m}: ${words(pos)}`)
                .join("; ") || "No positions yet"}</div>
            </li>`,
          )}
        </ul>`
      : html`<p class="hint" data-testid="state-proposals">No proposals yet.</p>`}
  </div>`;
}

/** The facilitator's what-if: a new game that shares this one's events up to the moment on the scrubber and is
 * played on from there (paused, its own join code), the original left as it was. */
function WhatIf({ gameId, token, title, at }) {
  const [fresh, setFresh] = useState(false);
  const [made, setMade] = useState(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  async function fork() {
    setBusy(true);
    try {
      const seed = fresh ? Math.floor(Math.random() * 2 ** 47) : null;
      const game = await api.fork(gameId, at, seed, token);
      const named = `${title} (what-if from event ${at})`;
      credentials.saveCreated(game, named);
      setMade({ ...game, title: named });
      setError("");
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  }
  return html`<div class="what-if" data-testid="what-if">
    <h3>What if?</h3>
    <p class="hint">${"A new game with everything up to event " + at + " (the end of the command on the scrubber), " +
      "paused, with its own join code: play on from there. This game stays as it was."}</p>
    <label><input type="checkbox" checked=${fresh} onChange=${(e) => setFresh(e.currentTarget.checked)} />
      Draw new dice for what follows</label>
    <p class="buttons"><button type="button" onClick=${fork} disabled=${busy}>Play on from event ${at}</button></p>
    ${error && html`<p class="refusal" role="alert">${error}</p>`}
    ${made && html`<p role="status" data-testid="what-if-made">${made.title}: join code <b>${made.join_code}</b>.
      <a href=${`#/game/${made.game_id}`}>Open its console</a></p>`}
  </div>`;
}

function Scrubber({ gameId, token, last, seq, setSeq, events, names, role, title }) {
  const [viewer, setViewer] = useState("");
  const [state, setState] = useState(null);
  const [error, setError] = useState("");
  const asked = useRef(0);
  useEffect(() => {
    const ticket = ++asked.current;
    const timer = setTimeout(() => {
      const params = [["seq", String(seq)]];
      if (viewer) params.push(["member", viewer]);
      get(gameId, token, "/review/state", params).then(
        (s) => { if (ticket === asked.current) { setState(s); setError(""); } },
        (e) => { if (ticket === asked.current) setError(e.message); },
      );
    }, 120);
    return () => clearTimeout(timer);
  }, [gameId, token, seq, viewer]);
  const event = events.find((e) => e.seq === seq);
  const step = (n) => setSeq(Math.min(last, Math.max(1, seq + n)));
  // The moments between commands, in order: the last event of each (the one before the next command's first).
  // Stepping by command goes from one to the next; a what-if starts at the one that ends the command on the scrubber.
  const ends = events.filter((e) => e.starts_command && e.seq > 1).map((e) => e.seq - 1).concat([last]);
  const command = (forward) => {
    const found = forward ? ends.find((s) => s > seq) : ends.findLast((s) => s < seq);
    if (found !== undefined) setSeq(found);
  };
  return html`<section class="panel" aria-labelledby="scrub-h">
    <h2 id="scrub-h">The game at event <span data-testid="scrub-seq">${seq}</span> of ${last}</h2>
    <div class="scrubber">
      <label for="review-seq" class="sr-only">Event</label>
      <input id="review-seq" type="range" min="1" max=${last} step="1" value=${seq} data-testid="scrubber"
        aria-valuetext=${`event ${seq} of ${last}`}
        onInput=${(e) => setSeq(Number(e.currentTarget.value))} />
      <div class="steps" role="group" aria-label="Step through events">
        <button type="button" class="ghost" onClick=${() => setSeq(1)} aria-label="First event">|◀</button>
        <button type="button" class="ghost" onClick=${() => step(-10)} aria-label="Back 10 events">◀◀</button>
        <button type="button" class="ghost" onClick=${() => command(false)} aria-label="Previous command">◀ cmd</button>
        <button type="button" class="ghost" onClick=${() => step(-1)} aria-label="Previous event">◀</button>
        <button type="button" class="ghost" onClick=${() => step(1)} aria-label="Next event">▶</button>
        <button type="button" class="ghost" onClick=${() => command(true)} aria-label="Next command">cmd ▶</button>
        <button type="button" class="ghost" onClick=${() => step(10)} aria-label="Forward 10 events">▶▶</button>
        <button type="button" class="ghost" onClick=${() => setSeq(last)} aria-label="Last event">▶|</button>
      </div>
      <label>View as
        <select value=${viewer} onChange=${(e) => setViewer(e.currentTarget.value)} data-testid="viewer">
          <option value="">All-seeing (white cell)</option>
          ${Object.entries(names).map(([code, name]) => html`<option key=${code} value=${code}>${name} delegation</option>`)}
        </select>
      </label>
    </div>
    ${event && html`<p class="event-now" aria-live="polite" data-testid="scrub-event">
      <b>${words(event.type)}</b> (round ${event.round}${event.phase ? `, ${words(event.phase)}` : ""}): ${event.text}</p>`}
    ${error && html`<p class="refusal" role="alert">${error}</p>`}
    <${StateAt} state=${state} names=${names} />
    ${role === "facilitator" && html`<${WhatIf} gameId=${gameId} token=${token} title=${title}
      at=${ends.find((s) => s >= seq)} />`}
  </section>`;
}

function Proposals({ summary, names }) {
  const name = (m) => names[m] || m;
  if (!summary.proposals.length) return html`<p class="hint">No proposals were tabled.</p>`;
  return html`<div data-testid="proposals">
    ${summary.proposals.map((p) => {
      const pledgeRows = Object.keys({ ...p.fair_shares, ...p.pledges });
      return html`<article key=${p.id} class="review-proposal" data-testid=${`review-proposal-${p.id}`}>
        <h3>${p.id}: ${words(p.kind)} · <span class=${`outcome ${p.outcome}`}>${words(p.outcome)}</span></h3>
        <p>${p.text}</p>
        <p class="hint">Tabled by ${name(p.tabled_by)} in round ${p.round} at event ${p.tabled_seq}${
          p.closed_seq ? `; closed at event ${p.closed_seq}` : "; never closed"}. Decision latency:
          ${p.latency === null || p.latency === undefined ? "—" : `${p.latency} events`}.</p>
        <table>
          <caption class="sr-only">Positions on ${p.id}</caption>
          <thead><tr><th scope="col">Member</th><th scope="col">Position</th><th scope="col">At event</th><th scope="col">Reservation</th></tr></thead>
          <tbody>${p.positions.map(
            (x, n) => html`<tr key=${n}><td>${name(x.member)}</td><td>${POSITION_WORDS[x.position] || words(x.position)}</td>
              <td>${x.seq}</td><td>${x.reservation || ""}</td></tr>`,
          )}</tbody>
        </table>
        ${pledgeRows.length > 0 && html`<table class="pledges">
          <caption>Pledges against fair shares${p.requirement ? ` (requirement ${p.requirement})` : ""}${
            p.shortfall ? `, shortfall ${p.shortfall}` : ""}</caption>
          <thead><tr><th scope="col">Member</th><th scope="col">Pledged</th><th scope="col">Fair share</th><th scope="col"></th></tr></thead>
          <tbody>${pledgeRows.map(
            (m) => html`<tr key=${m}><td>${name(m)}</td><td>${number(p.pledges?.[m] ?? 0)}</td>
              <td>${number(p.fair_shares?.[m])}</td><td>${(p.free_riders || []).includes(m) ? "below fair share" : ""}</td></tr>`,
          )}</tbody>
        </table>`}
      </article>`;
    })}
  </div>`;
}

/** The participants' feedback forms: how useful each found the exercise, what went well, what should change. */
function FeedbackForms({ summary, names }) {
  const forms = summary.feedback || [];
  const from = (f) => (f.member ? `${names[f.member] || f.member} delegation` : ROLE_NAMES[f.role] || words(f.role));
  const mean = meanRating(forms);
  return html`<section class="panel wide" aria-labelledby="feedback-h">
    <h2 id="feedback-h">Participant feedback</h2>
    ${!forms.length
      ? html`<p class="hint">No participant has given feedback yet (the form opens when the exercise ends).</p>`
      : html`<p data-testid="feedback-mean">${forms.length} form${forms.length === 1 ? "" : "s"}; ${summary.feedback_questions.rating}: ${number(mean)} on average.</p>
        <table data-testid="feedback-forms">
          <thead><tr><th scope="col">From</th><th scope="col">Rating</th><th scope="col">What went well</th>
            <th scope="col">What should be done differently</th></tr></thead>
          <tbody>${forms.map((f) => html`<tr key=${f.seat}><td>${from(f)}</td><td>${f.rating}</td><td>${f.went_well}</td>
            <td>${f.to_improve}</td></tr>`)}</tbody>
        </table>`}
  </section>`;
}

function Exports({ gameId, token }) {
  const [note, setNote] = useState("");
  const save = async (format, table, ext) => {
    setNote("Preparing the download…");
    try {
      setNote(`Saved ${await download(gameId, token, format, table, ext)}`);
    } catch (e) {
      setNote(`The download failed: ${e.message}`);
    }
  };
  return html`<section class="panel" aria-labelledby="exports-h">
    <h2 id="exports-h">Exports</h2>
    <ul class="plain exports">
      ${EXPORTS.map(([format, table, label, ext]) => html`<li key=${label}>
        <button type="button" class="ghost" onClick=${() => save(format, table, ext)}>${label}</button></li>`)}
    </ul>
    <p class="hint" role="status" data-testid="export-note">${note}</p>
  </section>`;
}

export function Review({ gameId }) {
  const seat = credentials.get(gameId);
  const token = seat?.token;
  const [summary, setSummary] = useState(null);
  const [all, setAll] = useState(null);
  const [names, setNames] = useState({});
  const [filters, setFilters] = useState({ round: "", member: "", type: "" });
  const [events, setEvents] = useState([]);
  const [loading, setLoading] = useState(false);
  const [seq, setSeq] = useState(1);
  const [error, setError] = useState("");

  useEffect(() => {
    if (!token) return;
    Promise.all([get(gameId, token, "/review/summary"), get(gameId, token, "/review/timeline")]).then(
      async ([s, t]) => {
        setSummary(s);
        setAll(t);
        setEvents(t);
        const lastSeq = t.length ? t[t.length - 1].seq : 1;
        setSeq(lastSeq);
        const final = await get(gameId, token, "/review/state", [["seq", String(lastSeq)]]).catch(() => null);
        if (final) setNames(Object.fromEntries(Object.entries(final.members).map(([c, m]) => [c, m.name || c])));
      },
      (e) => setError(e.message),
    );
  }, [gameId, token]);

  useEffect(() => {
    if (!all) return;
    const params = [];
    if (filters.round !== "") params.push(["round", filters.round]);
    if (filters.member) params.push(["member", filters.member]);
    if (filters.type) params.push(["type", filters.type]);
    let stale = false;
    setLoading(true);
    get(gameId, token, "/review/timeline", params).then(
      (t) => { if (!stale) { setEvents(t); setLoading(false); } },
      (e) => { if (!stale) { setError(e.message); setLoading(false); } },
    );
    return () => { stale = true; };
  }, [all, filters.round, filters.member, filters.type]);

  const assessments = useMemo(() => (summary ? summary.rounds : []), [summary]);
  // A rating or a row of the plan is an event like any other: the summary and the timeline are read again.
  const reload = () =>
    Promise.all([get(gameId, token, "/review/summary"), get(gameId, token, "/review/timeline")]).then(
      ([s, t]) => {
        const [before, after] = [all, t].map((events) => (events?.length ? events[events.length - 1].seq : 1));
        setSeq((now) => (now === before ? after : now)); // a scrubber at the end stays at the end
        setSummary(s);
        setAll(t);
      },
      (e) => setError(e.message),
    );

  if (!seat) {
    return html`<main id="main" class="narrow" tabindex="-1">
      <h1>No seat here</h1>
      <p>This browser holds no seat for game ${gameId}. <a href="#/">Join it from the lobby</a>.</p>
    </main>`;
  }
  const last = all?.length ? all[all.length - 1].seq : 1;
  const show = (s) => {
    setSeq(s);
    document.getElementById("review-seq")?.focus();
  };
  return html`<div class="game review">
    <header class="bar">
      <div class="title">
        <strong>After-action review: ${summary?.game?.title || seat.title || "Game"}</strong>
        <span class="who">${seat.member ? `${names[seat.member] || seat.member} delegation` : ROLE_NAMES[seat.role] || words(seat.role)} · ${seat.player}</span>
      </div>
      <div class="tools">
        <a href=${`#/game/${gameId}`} class="ghost">Back to the game</a>
        <a href="#/" class="ghost">Lobby</a>
      </div>
    </header>
    <main id="main" tabindex="-1">
      ${error && html`<p class="refusal" role="alert">${error}</p>`}
      ${!summary || !all
        ? !error && html`<p>Loading the review…</p>`
        : html`<div class="review-grid">
            <${Scrubber} gameId=${gameId} token=${token} last=${last} seq=${seq} setSeq=${setSeq} events=${all} names=${names}
              role=${seat.role} title=${summary.game?.title || seat.title || "Game"} />
            <section class="panel" aria-labelledby="metrics-h">
              <h2 id="metrics-h">Metrics by round</h2>
              <div data-testid="review-charts">
                <${MetricCharts} view=${{ assessments, members: names }} members=${Object.keys(names)} />
              </div>
            </section>
            <section class="panel wide" aria-labelledby="timeline-h">
              <h2 id="timeline-h">Timeline</h2>
              <${Filters} all=${all} filters=${filters} setFilters=${setFilters} names=${names} />
              <${Timeline} events=${events} loading=${loading} current=${seq} onShow=${show} />
            </section>
            <section class="panel wide" aria-labelledby="proposals-h">
              <h2 id="proposals-h">Proposals, positions and pledges</h2>
              <${Proposals} summary=${summary} names=${names} />
            </section>
            <${Evaluation} gameId=${gameId} token=${token} summary=${summary}
              canEdit=${seat.role === "facilitator" || seat.role === "umpire"} onPlayed=${reload} />
            <${FeedbackForms} summary=${summary} names=${names} />
            <${Exports} gameId=${gameId} token=${token} />
          </div>`}
    </main>
  </div>`;
}
