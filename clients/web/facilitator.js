// The facilitator's console (white cell): phases, injects, rulings, broadcasts, seats; and the all-seeing view.
import { useEffect, useMemo, useState } from "preact/hooks";
import qrcode from "qrcode-generator";
import { api, credentials, serverNow } from "./api.js";
import { clearedUnlessEdited, doneInTheRoom, duration, html, meanRating, memberList, memberName, number, words, ActButton, MemberPicker, Refusal, ROLE_NAMES } from "./ui.js";
import { ActionText, Announcements, Feedback, Injects, Metrics, Notes, Paragraphs, Reports, Situation } from "./panels.js";
import { download } from "./review.js";
import { partyList, partyName } from "./messages.js";

function PhaseControl({ game, view, seat }) {
  const [ending, setEnding] = useState(false);
  const running = view.status === "running";
  return html`<section class="panel" aria-labelledby="phase-h">
    <h2 id="phase-h">Phase control</h2>
    <p>Status: <b data-testid="status">${view.status}</b>${view.phase && ` · round ${view.round} of ${view.rounds}, ${view.phase} phase`}</p>
    <div class="buttons">
      ${view.status === "lobby" && html`<${ActButton} game=${game} id="start" command=${{ type: "start_game" }}>Start the exercise<//>`}
      ${running && html`<${ActButton} game=${game} id="pause" command=${{ type: "pause_game" }}>Pause<//>`}
      ${view.status === "paused" && html`<${ActButton} game=${game} id="resume" command=${{ type: "resume_game" }}>Resume<//>`}
      ${(running || view.status === "paused") && html`<${ActButton} game=${game} id="extend"
        command=${{ type: "extend_phase", seconds: 300 }}>Extend +5 min<//>`}
      ${view.phase && view.status !== "ended" && html`<${ActButton} game=${game} id="advance"
        command=${{ type: "advance_phase", from_round: view.round, from_phase: view.phase }}
        >End the ${view.phase} phase now<//>`}
    </div>
    ${view.phases.length > 0 && view.status !== "ended" && html`<${DoneSoFar} game=${game} view=${view} />`}
    ${(running || view.status === "paused") && html`<${PlayLeft} view=${view} />`}
    ${view.phases.length > 0 && view.status !== "ended" && html`<${Rounds} game=${game} view=${view} />`}
    ${view.status !== "ended" && (ending
      ? html`<p class="buttons"><${ActButton} game=${game} id="end" kind="danger" command=${{ type: "end_game" }}>Really end the exercise<//>
          <button type="button" class="ghost" onClick=${() => setEnding(false)}>Keep playing</button></p>`
      : html`<p><button type="button" class="ghost" onClick=${() => setEnding(true)}>End the exercise…</button></p>`)}
    <${Rewind} game=${game} view=${view} seat=${seat} />
    <${ConsoleElsewhere} game=${game} seat=${seat} />
    <${RoomScreenLink} game=${game} seat=${seat} />
    ${(view.status === "ended" || view.status === "lobby") && html`<${DeleteGame} game=${game} seat=${seat} />`}
  </section>`;
}

/** Which delegations have said they are done with the phase under way (those a person plays: bots do not hold the
 * room up), and the white cell's choice to end a phase as soon as all of them have. */
function DoneSoFar({ game, view }) {
  const playing = view.in_the_room;
  const done = doneInTheRoom(view);
  const pending = !!game.pending["end-when-done"]; // shown as asked for until the server answers
  const said = playing.length === 0
    ? "No delegation is played by a person yet."
    : `Done with this phase: ${done.length} of ${playing.length} delegations${done.length ? ` (${memberList(view, done)})` : ""}.`;
  return html`<div class="done-so-far">
    ${view.phase && html`<p data-testid="done-so-far">${said}</p>`}
    <label><input type="checkbox" checked=${pending ? !view.end_when_done : view.end_when_done} disabled=${pending}
      onChange=${() => game.act("end-when-done", { type: "end_when_done", on: !view.end_when_done })} />
      End a phase as soon as every delegation is done</label>
    <${Refusal} game=${game} for="end-when-done" />
  </div>`;
}

/** Seconds of play left: the phase under way, the rest of its round and the rounds after it, at the phases' lengths
 * (extensions and early ends from now on are not foreseen). */
function playLeft(view, now) {
  const at = view.phases.findIndex((p) => p.name === view.phase);
  const phase = view.paused_remaining ?? Math.max(0, view.deadline - now);
  const seconds = (phases) => phases.reduce((total, p) => total + p.seconds, 0);
  return phase + seconds(view.phases.slice(at + 1)) + (view.rounds - view.round) * seconds(view.phases);
}

/** When the exercise ends at this pace, for a facilitator whose class time is fixed. */
function PlayLeft({ view }) {
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 15_000);
    return () => clearInterval(timer);
  }, []);
  const left = playLeft(view, serverNow());
  const end = new Date(Date.now() + left * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return html`<p data-testid="play-left">${view.status === "paused"
    ? `${duration(left / 60)} of play left at this pace, once play resumes.`
    : `At this pace the exercise ends in about ${duration(left / 60)}, at ${end}.`}</p>`;
}

/** How many rounds the exercise runs: one more when the room wants it, fewer when class time runs short (never
 * fewer than the round under way).  The MSEL lines of rounds cut are not delivered. */
function Rounds({ game, view }) {
  const [rounds, setRounds] = useState(view.rounds);
  useEffect(() => setRounds(view.rounds), [view.rounds]);
  const least = Math.max(1, view.round);
  const valid = Number.isInteger(rounds) && rounds >= least && rounds <= 20;
  return html`<p class="buttons">
    <label>Rounds in the exercise <input type="number" min=${least} max="20" step="1" value=${rounds}
      onInput=${(e) => setRounds(Number(e.target.value))} /></label>
    <${ActButton} game=${game} id="rounds" disabled=${!valid || rounds === view.rounds}
      command=${() => ({ type: "set_rounds", rounds })}>Set<//>
    ${valid && rounds < view.rounds && html`<span class="hint">The scenario's events of the rounds cut are not delivered.</span>`}
  </p>`;
}

/** The white cell's undo: play goes back to just before an event the facilitator picks, with the reason read to
 * every seat.  What was said and who sits where stay; the game comes back paused.  Only the first event of each
 * command is offered: a command is taken back whole, with everything it brought. */
function Rewind({ game, view, seat }) {
  const [open, setOpen] = useState(false);
  const [events, setEvents] = useState([]);
  const [from, setFrom] = useState("");
  const [note, setNote] = useState("");
  const [error, setError] = useState("");
  useEffect(() => {
    if (!open) return;
    api.timeline(game.gameId, seat.token).then(
      (all) => { setEvents(all.filter((e) => e.seq > 1 && e.starts_command && !e.undone).reverse().slice(0, 40)); setError(""); },
      (e) => setError(e.message),
    );
  }, [open, view.seq]);
  async function rewind() {
    if (await game.act("rewind", { type: "rewind_game", to_seq: Number(from) - 1, note: note.trim() })) {
      setFrom("");
      setNote("");
      setOpen(false); // done: the control folds away until the next slip
    }
  }
  return html`<details class="more" open=${open} onToggle=${(e) => setOpen(e.currentTarget.open)}>
    <summary>Undo: turn play back…</summary>
    <p class="hint">${"Everything from the event you pick on is undone (positions, proposals, injects and their " +
      "effects); messages, announcements and seats stay. Play comes back paused, and every seat reads your reason."}</p>
    ${error && html`<p class="refusal" role="alert">${error}</p>`}
    <label>Undo from <select value=${from} onChange=${(e) => setFrom(e.target.value)} data-testid="rewind-from">
      <option value="">— pick the first event to undo —</option>
      ${events.map((e) => html`<option key=${e.seq} value=${e.seq}>${"#" + e.seq + " · round " + e.round + ", " +
        (e.phase || "lobby") + " · " + e.text}</option>`)}
    </select></label>
    <label>Reason (read to every seat) <input value=${note} maxlength="400" onInput=${(e) => setNote(e.target.value)} /></label>
    <p class="buttons"><span class="act"><button type="button" class="danger" onClick=${rewind}
      disabled=${!from || !note.trim() || game.pending.rewind}>Turn play back</button><${Refusal} game=${game} for="rewind" /></span></p>
  </details>`;
}

/** A game that has ended, or never started, can be deleted with everything stored of it (players' names too). */
function DeleteGame({ game, seat }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState("");
  const [saved, setSaved] = useState([]);
  async function save(format, ext) {
    try {
      const name = await download(game.gameId, seat.token, format, null, ext);
      setSaved((names) => [...names, name]);
    } catch (e) {
      setError(e.message);
    }
  }
  async function remove() {
    try {
      await api.deleteGame(game.gameId, seat.token);
      credentials.forget(game.gameId);
      location.hash = "#/";
    } catch (e) {
      setError(e.message);
    }
  }
  if (!asking) {
    return html`<p><button type="button" class="ghost" onClick=${() => setAsking(true)}>Delete this game…</button></p>`;
  }
  return html`<div class="form" data-testid="delete-game">
    <p class="hint">${"Its whole record goes: events, seats and players' names. Keep what you need first: the " +
      "record (JSON, which wargame import stores again) and the after-action report."}</p>
    <p class="buttons"><button type="button" class="ghost" onClick=${() => save("json", "json")}>Save the record (JSON)</button>
      <button type="button" class="ghost" onClick=${() => save("html", "html")}>Save the report (HTML)</button></p>
    ${saved.length > 0 && html`<p class="hint" role="status" data-testid="saved">Saved ${saved.join(", ")}</p>`}
    <p class="buttons"><button type="button" class="danger" onClick=${remove}>Delete it and everything stored of it</button>
      <button type="button" class="ghost" onClick=${() => setAsking(false)}>Keep it</button></p>
    ${error && html`<p class="refusal" role="alert">${error}</p>`}
  </div>`;
}

/** The MSEL: what the scenario delivers by itself, when, to whom, and what it expects of the players; what has
 * been delivered and what comes next, so the white cell can prepare, or hold a line back until play is ready for
 * it (then deliver its inject from the catalogue). */
function Msel({ game, view }) {
  const entries = view.msel || [];
  if (!entries.length) return null;
  const stands = view.msel_status || {};
  const at = (e) => e.round * 100 + view.phases.findIndex((p) => p.name === e.phase);
  const templates = Object.fromEntries((view.catalogue || []).map((t) => [t.id, t]));
  const next = Math.min(...entries.filter((e) => stands[e.number] === "due").map(at));
  const sent = (e) => stands[e.number] === "delivered";
  const held = (e) => stands[e.number]?.startsWith("held");
  const saying = {
    delivered: "delivered", held: "held back", held_delivered_by_hand: "held back, its inject delivered by hand",
    passed: "not delivered",
  };
  const status = (e) => saying[stands[e.number]] || (at(e) === next ? "next" : "later");
  return html`<section class="panel" aria-labelledby="msel-h" data-testid="msel">
    <h2 id="msel-h">Scenario events (MSEL)</h2>
    <ol class="plain msel">
      ${entries.map((e) => {
        const t = templates[e.inject];
        const said = status(e);
        return html`<li key=${e.number} data-testid="msel-entry" class=${said.split(",")[0].replaceAll(" ", "-")}>
          <div class="meta"><b>#${e.number}</b> · round ${e.round}, ${e.phase} <span class="tag">${said}</span></div>
          <b>${t?.title || e.inject}</b>${t?.targets?.length ? ` · hits ${memberList(view, t.targets)}` : ""}
          ${e.expected_action && html`<p class="hint">Expected: ${e.expected_action}${e.objective ? ` (${e.objective})` : ""}</p>`}
          ${!sent(e) && html`<${ActButton} game=${game} id=${`msel-${e.number}`} kind="ghost small"
            command=${{ type: "hold_msel", number: e.number, held: !held(e) }}
            label=${`${held(e) ? "Put back" : "Hold back"} MSEL #${e.number}`}
            >${held(e) ? "Put back on the schedule" : "Hold back"}<//>`}
        </li>`;
      })}
    </ol>
  </section>`;
}

function CatalogueInject({ game, view }) {
  const catalogue = view.catalogue || [];
  const [template, setTemplate] = useState("");
  return html`<div class="form">
    <h3>From the scenario's catalogue</h3>
    <label>Catalogue entry <select value=${template} onChange=${(e) => setTemplate(e.target.value)}>
      <option value="">Choose…</option>
      ${catalogue.map((t) => html`<option key=${t.id} value=${t.id}>${t.title} (${words(t.kind)}, severity ${t.severity})</option>`)}
    </select></label>
    <${ActButton} game=${game} id="inject-template" disabled=${!template}
      command=${{ type: "inject", template }}>Deliver catalogue inject<//>
  </div>`;
}

function FreeInject({ game, view }) {
  const [f, setF] = useState({ title: "", text: "", kind: "information" });
  const [to, setTo] = useState([]);
  async function send(event) {
    event.preventDefault();
    const c = { type: "inject", title: f.title.trim(), text: f.text.trim(), kind: f.kind, visible_to: to.length ? to : null };
    if (await game.act("inject-free", c)) {
      setF(clearedUnlessEdited(f, { title: "", text: "", kind: "information" }));
      setTo(clearedUnlessEdited(to, []));
    }
  }
  const set = (key) => (e) => setF({ ...f, [key]: e.target.value });
  return html`<form class="form" onSubmit=${send} data-testid="free-inject">
    <h3>Free text</h3>
    <label>Title <input value=${f.title} onInput=${set("title")} maxlength="200" /></label>
    <label>Text <textarea rows="2" value=${f.text} onInput=${set("text")} maxlength="8000"></textarea></label>
    <label>Kind <select value=${f.kind} onChange=${set("kind")}>
      ${(view.rules?.inject_kinds || ["information"]).map((k) => html`<option key=${k} value=${k}>${words(k)}</option>`)}</select></label>
    <${MemberPicker} view=${view} value=${to} onChange=${setTo} legend="Only for (none ticked: everyone)" name="inject-to" />
    <div class="sendrow">
      <span class=${"to " + (to.length ? "private" : "everyone")} data-testid="inject-recipients"
        >${to.length ? `Visible to: ${memberList(view, to)} only` : "Visible to: EVERYONE"}</span>
      <span class="act"><button type="submit" disabled=${!f.title.trim() || game.pending["inject-free"]}>Deliver inject</button>
        <${Refusal} game=${game} for="inject-free" /></span>
    </div>
  </form>`;
}

/** Free-form actions: rule by hand, or rate the argument and let a d6 decide (once; a ruling by hand overrules). */
function Rulings({ game, view }) {
  const [notes, setNotes] = useState({});
  const [rated, setRated] = useState({});
  return html`<section class="panel" aria-labelledby="rulings-h">
    <h2 id="rulings-h">Free-form actions</h2>
    ${!view.actions.length && html`<p class="hint">No action proposed yet.</p>`}
    <ul class="plain">
      ${view.actions.map((a) => html`<li key=${a.id} class="ruling" data-testid=${`action-${a.id}`}>
        <p><b>${memberName(view, a.member)}</b> (round ${a.round}): <${ActionText} a=${a} /></p>
        <label>Note for ${a.id} <input value=${notes[a.id] || ""} onInput=${(e) => setNotes({ ...notes, [a.id]: e.target.value })} /></label>
        <div class="buttons">${["accepted", "modified", "rejected"].map((r) => html`<${ActButton} key=${r} game=${game}
          id=${`rule-${a.id}-${r}`} command=${() => ({ type: "rule_on_action", action: a.id, ruling: r, note: notes[a.id] || "" })}
          >${words(r)}<//>`)}</div>
        ${!a.roll && html`<div class="buttons">
          <label>Argument for ${a.id} <select value=${rated[a.id] || "fair"} onChange=${(e) => setRated({ ...rated, [a.id]: e.target.value })}>
            ${Object.entries(view.rules?.argument_targets || {}).map(([s, target]) => html`<option key=${s} value=${s}>${words(s)} (${target}+)</option>`)}
          </select></label>
          <${ActButton} game=${game} id=${`roll-${a.id}`} kind="ghost" label=${`Roll a die for ${a.id}`}
            command=${() => ({ type: "roll_for_action", action: a.id, strength: rated[a.id] || "fair", note: notes[a.id] || "" })}
            >Roll a d6<//></div>`}
      </li>`)}
    </ul>
  </section>`;
}

function Broadcast({ game }) {
  const [text, setText] = useState("");
  async function send(event) {
    event.preventDefault();
    if (await game.act("broadcast", { type: "broadcast", text: text.trim() })) setText(clearedUnlessEdited(text, ""));
  }
  return html`<form class="panel" onSubmit=${send} aria-labelledby="bc-h">
    <h2 id="bc-h">Broadcast</h2>
    <label>Announcement to every seat <textarea rows="2" value=${text} onInput=${(e) => setText(e.target.value)}></textarea></label>
    <span class="act"><button type="submit" disabled=${!text.trim() || game.pending.broadcast}>Broadcast to all</button><${Refusal} game=${game} for="broadcast" /></span>
  </form>`;
}

const SEAT_ORDER = ["red_cell", "umpire", "observer"];

/** Who holds which seat and whether they are connected (the server pushes it); a seat can be handed to someone else. */
function Seats({ game, view, seat }) {
  const [giving, setGiving] = useState(null); // the seat id being reassigned
  const [removing, setRemoving] = useState(null); // the seat id whose removal awaits confirmation
  const [player, setPlayer] = useState("");
  const [handoff, setHandoff] = useState(null);
  const [problem, setProblem] = useState("");
  // A room's table plan: the white cell, each member's delegation together in the scenario's order, then the rest.
  const members = Object.keys(view.members);
  const place = (s) =>
    s.role === "facilitator" ? -1 : s.member ? members.indexOf(s.member) : members.length + SEAT_ORDER.indexOf(s.role);
  const rows = Object.entries(view.seats)
    .map(([id, s]) => ({ seat_id: id, ...s, connected: game.connected ? game.connected.has(id) : null }))
    .sort((a, b) => place(a) - place(b));
  const online = game.connected ? rows.filter((s) => s.connected).length : null;
  const shared = (member) => rows.filter((s) => s.member === member).length > 1; // a table of several players
  const unseated = Object.keys(view.members).filter((c) => !rows.some((s) => s.member === c));
  async function give(event) {
    event.preventDefault();
    setProblem("");
    try {
      const got = await api.reassign(game.gameId, giving, player.trim(), seat.token);
      // The credential travels in the fragment: it never reaches a server's logs.
      setHandoff({ player: got.seat.player, member: got.seat.member, link: `${location.origin}/#/seat/${game.gameId}/${got.token}` });
      setGiving(null);
      setPlayer("");
    } catch (e) {
      setProblem(e.message);
    }
  }
  async function remove() {
    setProblem("");
    try {
      await api.release(game.gameId, removing, seat.token);
      setRemoving(null);
    } catch (e) {
      setProblem(e.message);
    }
  }
  const open = (form, id, event) => {
    event.currentTarget.closest("details").open = false;
    setGiving(form === "give" ? id : null);
    setRemoving(form === "remove" ? id : null);
    setHandoff(null);
    setProblem("");
  };
  const leaving = removing && view.seats[removing];
  // A bot seat offline has lost its bot (a restart of the server).
  const botsAway = rows.some((s) => s.bot && s.connected === false);
  async function seatBots() {
    setProblem("");
    try {
      await api.seatBots(game.gameId, seat.token);
    } catch (e) {
      setProblem(e.message);
    }
  }
  return html`<section class="panel" aria-labelledby="seats-h">
    <h2 id="seats-h">Seats ${online !== null && html`<small data-testid="online">${online} of ${rows.length} online</small>`}</h2>
    <table data-testid="seats"><thead><tr><th scope="col">Seat</th><th scope="col">Player</th>
      <th scope="col">Status</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${rows.map((s, i) => html`<tr key=${s.seat_id} data-seat=${s.seat_id}
        class=${s.member && rows[i - 1]?.member === s.member ? "same-table" : ""}>
        <td>${s.member ? memberName(view, s.member) : ROLE_NAMES[s.role]}</td>
        <td>${s.player}${s.head && shared(s.member) && html`<span class="badge" title="Speaks for the delegation">head</span>`}</td>
        <td class=${s.connected ? "online" : "offline"}>${s.connected === null ? "…" : s.connected ? "● online" : "○ offline"}${
          s.member && (s.head || !shared(s.member)) && view.done.includes(s.member) &&
          html` <span class="done-mark" data-testid="seat-done">✓ done</span>`}</td>
        <td class="actions">${s.member && !s.head && html`<${ActButton} game=${game} id=${`head-${s.seat_id}`} kind="ghost small"
            label=${`Make ${s.player} head of the delegation of ${memberName(view, s.member)}`}
            command=${{ type: "appoint_head", seat: s.seat_id }}>Make head<//>`}
          ${s.role !== "facilitator" && html`<details class="menu"><summary aria-label=${`More for ${s.player}'s seat`}>⋯</summary>
            <div class="menu-items">
              <button type="button" class="ghost small" aria-label=${`Reassign ${s.player}'s seat`}
                onClick=${(e) => open("give", s.seat_id, e)}>Reassign…</button>
              <button type="button" class="ghost small" aria-label=${`Remove ${s.player}'s seat`}
                onClick=${(e) => open("remove", s.seat_id, e)}>Remove…</button>
            </div></details>`}</td>
      </tr>`)}</tbody>
    </table>
    ${unseated.length > 0 && html`<p class="hint">No delegation yet: ${memberList(view, unseated)}.</p>`}
    ${(unseated.length > 0 || botsAway) && view.status !== "ended" && html`<p class="act">
      <button type="button" class="ghost" onClick=${seatBots}>${unseated.length ? "Bots play the open tables" : "Put the bots back"}</button>
      ${problem && !giving && !leaving && html`<span class="refusal" role="alert">${problem}</span>`}</p>`}
    ${leaving && html`<div class="form" data-testid="remove" role="group" aria-label="Remove a seat">
      <p>Remove <b>${leaving.player}</b>${leaving.member ? ` (${memberName(view, leaving.member)})` : ""} from the game?
        Their link stops working at once; what they did stays on record.${leaving.head && shared(leaving.member)
          ? " The delegation's next player becomes its head." : ""}</p>
      <span class="act"><button type="button" class="danger" onClick=${remove}>Remove the seat</button>
        <button type="button" class="ghost" onClick=${() => setRemoving(null)}>Cancel</button>
        ${problem && html`<span class="refusal" role="alert">${problem}</span>`}</span>
    </div>`}
    ${giving && html`<form class="form" onSubmit=${give} data-testid="reassign">
      <label>New player for this seat <input value=${player} onInput=${(e) => setPlayer(e.target.value)} maxlength="80" /></label>
      <p class="hint">The current player's link stops working at once.</p>
      <span class="act"><button type="submit" disabled=${!player.trim()}>Give the seat</button>
        <button type="button" class="ghost" onClick=${() => setGiving(null)}>Cancel</button>
        ${problem && html`<span class="refusal" role="alert">${problem}</span>`}</span>
    </form>`}
    ${handoff && html`<div class="handoff" data-testid="handoff" role="status">
      <p>Give this link to <b>${handoff.player}</b>${handoff.member && ` (${memberName(view, handoff.member)})`}.
        It is shown only now and opens the seat in their browser.</p>
      <input readonly value=${handoff.link} aria-label="Seat link" onFocus=${(e) => e.target.select()} />
      <button type="button" class="ghost" onClick=${() => navigator.clipboard?.writeText(handoff.link)}>Copy</button>
      <button type="button" class="ghost" onClick=${() => setHandoff(null)}>Done</button>
    </div>`}
  </section>`;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/** `text` as a QR code in SVG, with the quiet zone the standard asks for: a phone's camera reads it off the
 * projector and opens the link. */
function QrCode({ text, label }) {
  const [size, path] = useMemo(() => {
    const qr = qrcode(0, "M");
    qr.addData(text);
    qr.make();
    const n = qr.getModuleCount();
    let d = "";
    for (let r = 0; r < n; r += 1) for (let c = 0; c < n; c += 1) if (qr.isDark(r, c)) d += `M${c + 4} ${r + 4}h1v1h-1z`;
    return [n + 8, d];
  }, [text]);
  return html`<svg class="qr" viewBox=${`0 0 ${size} ${size}`} role="img" aria-label=${label} shape-rendering="crispEdges">
    <rect width=${size} height=${size} fill="#fff" /><path d=${path} fill="#000" />
  </svg>`;
}

/** Where other computers reach this server: this page's own origin, or, for a console opened on the server's own
 * computer (localhost), the addresses the server finds for itself (`urls`, empty with `advice` when none). */
function useOrigins() {
  const local = LOOPBACK.test(location.hostname);
  const [network, setNetwork] = useState(null);
  useEffect(() => {
    if (local) api.network().then(setNetwork, () => {});
  }, [local]);
  return { origins: !local ? [location.origin] : network ? network.urls : [], advice: network?.advice };
}

/** The join code, and the address players open, written out and as a QR code. */
export function JoinCode({ code }) {
  const { origins, advice } = useOrigins();
  const link = (origin) => `${origin}/#/join/${code}`;
  const shown = (origin) => html`<span class="address">${link(origin)}</span>`;
  const where = origins.length
    ? html`players open ${origins.map((origin, i) => html`${i > 0 && " or "}${shown(origin)}`)}`
    : advice || "players open …";
  return html`<div class="joinlink">
    <p class="bigcode">Join code: <b>${code}</b> <small data-testid="join-address">${where}</small></p>
    ${origins.length > 0 && html`<${QrCode} text=${link(origins[0])} label=${`QR code of ${link(origins[0])}`} />`}
  </div>`;
}

/** The facilitator's own link, to open the console on a second device (the projector's computer, a tablet) or
 * in another browser: it carries the facilitator's credential, so it stays folded away until asked for. */
function ConsoleElsewhere({ game, seat }) {
  const { origins, advice } = useOrigins();
  const [open, setOpen] = useState(false);
  const origin = origins[0] || location.origin;
  const link = `${origin}/#/seat/${game.gameId}/${seat.token}`;
  return html`<details class="more" open=${open} onToggle=${(e) => setOpen(e.currentTarget.open)}>
    <summary>Open this console on another device…</summary>
    <p class="hint">${"Anyone with this link controls the game: open it on your own devices only, and keep it off " +
      "the projector. Lost it, or this browser? wargame console GAME on the server's computer gives a new one."}</p>
    ${open && html`<input readonly value=${link} aria-label="Console link" onFocus=${(e) => e.target.select()}
        data-testid="console-link" />
      <button type="button" class="ghost" onClick=${() => navigator.clipboard?.writeText(link)}>Copy</button>
      ${!origins.length && advice && html`<p class="hint">${advice}</p>`}
      <${QrCode} text=${link} label="QR code of the console link" />`}
  </details>`;
}

const SCREEN = "Room screen";

/** A link for the room's screen on the projector: an observer's seat ("Room screen"), which shows the clock, how
 * to join and the public record, and none of what the console holds for the white cell alone.  Its credential and
 * seat are kept with the facilitator's seat in this browser, so the same link comes back after a reload. */
function RoomScreenLink({ game, seat }) {
  const { origins } = useOrigins();
  const [token, setToken] = useState(seat.screen || null);
  const [problem, setProblem] = useState("");
  const link = token && `${origins[0] || location.origin}/#/screen/${game.gameId}/${token}/${seat.join_code || ""}`;
  async function make() {
    setProblem("");
    try {
      // A new link for the screen's seat, not another seat: the old link stops working, and a window still open
      // with it (a projector left on in another room) is shown out.
      const kept = credentials.get(game.gameId);
      const held = kept?.screenSeat;
      const made = held && game.view?.seats?.[held]
        ? await api.reassign(game.gameId, held, SCREEN, seat.token)
        : await api.claimSeat(game.gameId, { join_code: seat.join_code, role: "observer", member: null, player: SCREEN });
      credentials.save(game.gameId, { ...kept, screen: made.token, screenSeat: made.seat.seat_id });
      setToken(made.token);
    } catch (e) {
      setProblem(e.message);
    }
  }
  return html`<details class="more">
    <summary>Room screen for the projector…</summary>
    <p class="hint">${"The clock, the join code and the public record, in large type, for the wall: no MSEL, no " +
      "briefs, no notes. Open the link on the projector's computer, or here in a window of its own."}</p>
    ${link
      ? html`<input readonly value=${link} aria-label="Room screen link" onFocus=${(e) => e.target.select()}
          data-testid="screen-link" />
        <p class="buttons"><a href=${link} target="_blank" rel="noopener" class="button">Open the room screen</a>
          <button type="button" class="ghost" onClick=${make}>Make a new link</button></p>
        <p class="hint">A new link stops the old one working.</p>`
      : html`<button type="button" onClick=${make} disabled=${!seat.join_code}>Make the room screen's link</button>`}
    ${problem && html`<p class="refusal" role="alert">${problem}</p>`}
  </details>`;
}

/** Once the exercise has ended: how many of the room have filled in the feedback form, and how they rated it. */
function FeedbackSoFar({ view }) {
  if (view.status !== "ended") return null;
  const people = Object.entries(view.seats).filter(([, s]) => !s.bot);
  const forms = Object.values(view.feedback || {});
  const mean = meanRating(forms);
  const missing = people.filter(([id]) => !(id in (view.feedback || {}))).map(([, s]) => s.player);
  return html`<section class="panel" aria-labelledby="feedback-so-far-h">
    <h2 id="feedback-so-far-h">Feedback</h2>
    <p data-testid="feedback-so-far">${forms.length} of ${people.length} participants have answered${
      mean !== null ? `; usefulness ${number(mean)} of 5 on average` : ""}.</p>
    ${missing.length > 0 && html`<p class="hint">Not yet: ${missing.join(", ")}.</p>`}
    <p class="hint">The answers are in the review and the after-action report.</p>
  </section>`;
}

export function Control({ game, view, seat }) {
  return html`<div class="grid">
    <div class="col">
      <${FeedbackSoFar} view=${view} />
      <${Feedback} game=${game} view=${view} seat=${seat} />
      ${seat.join_code && html`<${JoinCode} code=${seat.join_code} />`}
      <${PhaseControl} game=${game} view=${view} seat=${seat} />
      <section class="panel" aria-labelledby="inject-h"><h2 id="inject-h">Inject</h2>
        <${FreeInject} game=${game} view=${view} /><${CatalogueInject} game=${game} view=${view} /></section>
      <${Broadcast} game=${game} />
      <${Announcements} view=${view} />
    </div>
    <div class="col"><${Rulings} game=${game} view=${view} /><${Seats} game=${game} view=${view} seat=${seat} /><${Msel} game=${game} view=${view} /></div>
    <div class="col"><${Metrics} view=${view} /><${Notes} game=${game} view=${view} /></div>
  </div>`;
}

/** Every seat's instructions, each folded until opened: the delegations' and the red cell's. */
function Briefs({ view, gameId }) {
  const briefs = Object.values(view.members).filter((m) => m.brief).map((m) => [m.code, m.name, m.brief]);
  if (view.adversary_brief) briefs.push(["adversary", `${view.escalation.adversary} (red cell)`, view.adversary_brief]);
  if (!briefs.length) return null;
  return html`<section class="panel" aria-labelledby="briefs-h">
    <h2 id="briefs-h">Briefs</h2>
    <p><a href=${`#/pack/${gameId}`} target="_blank" rel="noopener">Print the briefing pack</a>
      <span class="hint"> (the situation, then a page for each delegation and the red cell, to hand out)</span></p>
    ${briefs.map(([key, name, text]) => html`<details key=${key} class="more"><summary>${name}</summary>
      <${Paragraphs} text=${text} /></details>`)}
  </section>`;
}

/** What every seat sees at once: the situation, briefs, secret objectives and scores, every inject and report, every
 * message. */
export function Everything({ game, view }) {
  return html`<div class="grid">
    <div class="col"><section class="panel" aria-labelledby="members-h">
      <h2 id="members-h">Members</h2>
      <table class="members"><thead><tr><th scope="col">Member</th><th scope="col">Support</th><th scope="col">Score</th>
        <th scope="col">Objectives</th></tr></thead>
        <tbody>${Object.values(view.members).map((m) => html`<tr key=${m.code}><th scope="row">${m.name}</th>
          <td>${number(view.public_support[m.code])}%</td><td>${m.score?.points ?? "—"}</td>
          <td><ul class="plain">${(m.objectives || []).map((o) => html`<li key=${o.id}>${m.score?.met.includes(o.id) ? "✔" : "○"} ${o.text}</li>`)}</ul></td></tr>`)}
        </tbody></table>
    </section><${Briefs} view=${view} gameId=${game.gameId} /></div>
    <div class="col"><${Injects} view=${view} showAudience=${true} /><${Reports} view=${view} /><${Situation} view=${view} /></div>
    <section class="panel col" aria-labelledby="all-msg-h">
      <h2 id="all-msg-h">Every message</h2>
      <ol class="plain thread">${view.messages.map((m) => html`<li key=${m.id}><div class="meta"><b>${partyName(view, m.sender)}</b>${m.author ? ` · ${m.author}` : ""} → ${partyList(view, m.recipients)} · round ${m.round}</div><p>${m.text}</p></li>`)}</ol>
    </section>
  </div>`;
}
