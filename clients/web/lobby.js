// The lobby: resume a seat, create a game (facilitator), or join one by code and choose a seat.
import { useEffect, useState } from "preact/hooks";
import { api, credentials } from "./api.js";
import { duration, html, ROLE_NAMES, words } from "./ui.js";

const go = (gameId) => (location.hash = `#/game/${gameId}`);

function MySeats() {
  const [seats, setSeats] = useState(credentials.all());
  const ids = Object.keys(seats).sort((a, b) => seats[b].saved - seats[a].saved);
  if (!ids.length) return null;
  const forget = (id) => {
    credentials.forget(id);
    setSeats(credentials.all());
  };
  return html`<section aria-labelledby="mine">
    <h2 id="mine">Your seats in this browser</h2>
    <ul class="plain">
      ${ids.map((id) => {
        const s = seats[id];
        const who = s.role === "delegation" ? `${s.member} delegation` : ROLE_NAMES[s.role];
        return html`<li key=${id} class="row">
          <span><b>${s.title || id}</b> — ${who}, ${s.player}</span>
          <a class="button" href=${`#/game/${id}`}>Resume</a>
          <button type="button" class="ghost" onClick=${() => forget(id)}>Forget this seat</button>
        </li>`;
      })}
    </ul>
  </section>`;
}

const OWN = "(own file)"; // the radio value of the facilitator's own scenario file

/** The rounds, and the minutes of each phase of a round: the scenario's unless the facilitator sets the
 * seminar's own pace (`pace`: `{rounds, minutes: {phase: minutes}}`, as typed). */
function Pace({ scenario, pace, onChange }) {
  const value = (p) => pace.minutes[p.name] ?? p.minutes;
  const rounds = Number(pace.rounds ?? scenario.rounds) || scenario.rounds;
  const round = scenario.phases.reduce((total, p) => total + (Number(value(p)) || 0), 0);
  return html`<details class="pace" data-testid="pace">
    <summary>Phase lengths: ${duration(round)} a round, ${duration(round * rounds)} for ${rounds} rounds</summary>
    <label>Rounds <input type="number" min="1" max="20" step="1" value=${pace.rounds ?? scenario.rounds}
      onInput=${(e) => onChange({ ...pace, rounds: e.target.value })} /></label>
    ${rounds < scenario.rounds && html`<p class="hint">The scenario's events of ${
      rounds + 1 === scenario.rounds ? `round ${scenario.rounds}` : `rounds ${rounds + 1} to ${scenario.rounds}`} are left out.</p>`}
    <fieldset class="picker"><legend>Minutes per phase, in every round</legend>
      ${scenario.phases.map((p) => html`<label key=${p.name}>${words(p.name)}
        <input type="number" min="0.5" max="1440" step="0.5" value=${value(p)}
          onInput=${(e) => onChange({ ...pace, minutes: { ...pace.minutes, [p.name]: e.target.value } })} /></label>`)}
    </fieldset>
  </details>`;
}

/** What the facilitator changed of the scenario's pace, as `rounds` and `phase_minutes` for `POST /api/games`. */
function changedPace(scenario, pace) {
  if (!scenario) return {};
  const changed = scenario.phases.filter((p) => p.name in pace.minutes && Number(pace.minutes[p.name]) !== p.minutes);
  const rounds = Number(pace.rounds);
  return {
    ...(changed.length ? { phase_minutes: Object.fromEntries(changed.map((p) => [p.name, Number(pace.minutes[p.name])])) } : {}),
    ...(rounds && rounds !== scenario.rounds ? { rounds } : {}),
  };
}

function CreateGame() {
  const [scenarios, setScenarios] = useState([]);
  const [chosen, setChosen] = useState("");
  const [title, setTitle] = useState("");
  const [name, setName] = useState("");
  const [problem, setProblem] = useState("");
  const [busy, setBusy] = useState(false);
  const [own, setOwn] = useState(null); // { name, text } of the facilitator's own scenario file
  const [pace, setPace] = useState({ minutes: {} }); // rounds and phase -> minutes typed, for the chosen scenario
  const scenario = scenarios.find((s) => s.id === chosen);
  const choose = (id) => {
    setChosen(id);
    setPace({ minutes: {} });
  };
  useEffect(() => {
    api.scenarios().then((list) => {
      setScenarios(list);
      setChosen((c) => c || list[0]?.id || "");
    }, (e) => setProblem(e.message));
  }, []);
  async function create(event) {
    event.preventDefault();
    setBusy(true);
    setProblem("");
    try {
      const made = await api.createGame(
        chosen === OWN ? { file: own.text } : chosen, title.trim(), name.trim() || "Facilitator", changedPace(scenario, pace),
      );
      credentials.saveCreated(made, title.trim() || scenario?.title);
      go(made.game_id);
    } catch (e) {
      setProblem(e.message);
    } finally {
      setBusy(false);
    }
  }
  return html`<section aria-labelledby="create">
    <h2 id="create">Create a game</h2>
    <form onSubmit=${create}>
      <fieldset class="scenarios">
        <legend>Scenario</legend>
        ${scenarios.map(
          (s) => html`<label key=${s.id} class="card">
            <input type="radio" name="scenario" value=${s.id} checked=${chosen === s.id} onChange=${() => choose(s.id)} />
            <span><b>${s.title}</b>${" "}
              <small>${s.id} · ${s.ruleset.toUpperCase()} · ${s.rounds} rounds · ${s.members.length} members</small>
              <br />${s.description}</span>
          </label>`,
        )}
        <label class="card">
          <input type="radio" name="scenario" value=${OWN} checked=${chosen === OWN} onChange=${() => choose(OWN)} />
          <span><b>Your own scenario file</b> <small>YAML, as in docs/scenarios.md</small><br />
            <input type="file" accept=".yaml,.yml,text/yaml" aria-label="Scenario file" data-testid="scenario-file"
              onChange=${async (e) => {
                const file = e.target.files[0];
                setProblem("");
                setOwn(file ? { name: file.name, text: await file.text() } : null);
                if (file) choose(OWN);
              }} /></span>
        </label>
      </fieldset>
      ${scenario && html`<${Pace} key=${scenario.id} scenario=${scenario} pace=${pace} onChange=${setPace} />`}
      <label>Title (optional) <input value=${title} onInput=${(e) => setTitle(e.target.value)} maxlength="200" /></label>
      <label>Facilitator name <input value=${name} onInput=${(e) => setName(e.target.value)} maxlength="80" placeholder="Facilitator" /></label>
      <button type="submit" disabled=${busy || !chosen || (chosen === OWN && !own)}>Create game as facilitator</button>
      ${problem && html`<p class="refusal" role="alert">${problem}</p>`}
    </form>
  </section>`;
}

function Present({ info }) {
  const byMember = (code) => info.seats.filter((s) => s.role === "delegation" && s.member === code);
  const others = info.seats.filter((s) => s.role !== "delegation");
  return html`<div data-testid="present">
    <h3>Who is here</h3>
    <ul class="plain present">
      ${info.members.map((m) => {
        const players = byMember(m.code).map((s) => s.player);
        return html`<li key=${m.code}><b>${m.name}</b>: ${players.length ? players.join(", ") : html`<i>open</i>`}</li>`;
      })}
      ${others.map((s) => html`<li key=${s.seat_id}>${ROLE_NAMES[s.role]}: ${s.player}</li>`)}
    </ul>
  </div>`;
}

function JoinGame({ code: initial }) {
  const [code, setCode] = useState(initial || "");
  const [info, setInfo] = useState(null);
  const [role, setRole] = useState("delegation");
  const [member, setMember] = useState("");
  const [player, setPlayer] = useState("");
  const [problem, setProblem] = useState("");
  const [busy, setBusy] = useState(false);

  async function look(event) {
    event?.preventDefault();
    setProblem("");
    try {
      setInfo(await api.joinInfo(code));
    } catch (e) {
      setInfo(null);
      setProblem(e.message);
    }
  }
  useEffect(() => {
    if (initial) look();
  }, [initial]);
  useEffect(() => {
    if (!info) return undefined;
    const timer = setInterval(() => api.joinInfo(code).then(setInfo, () => {}), 5000);
    return () => clearInterval(timer);
  }, [info?.game_id]);

  async function take(event) {
    event.preventDefault();
    setBusy(true);
    setProblem("");
    const body = { join_code: code.trim().toUpperCase(), role, member: role === "delegation" ? member : null, player: player.trim() };
    try {
      const got = await api.claimSeat(info.game_id, body);
      credentials.save(info.game_id, {
        token: got.token, role, member: body.member, player: body.player, seat_id: got.seat.seat_id, title: info.title,
      });
      go(info.game_id);
    } catch (e) {
      setProblem(e.message);
    } finally {
      setBusy(false);
    }
  }
  const ready = player.trim() && (role !== "delegation" || member);
  const table = info && member ? info.seats.filter((s) => s.role === "delegation" && s.member === member) : [];
  return html`<section aria-labelledby="join">
    <h2 id="join">Join a game</h2>
    <form onSubmit=${look} class="row">
      <label>Join code <input value=${code} onInput=${(e) => setCode(e.target.value)} maxlength="12"
        autocapitalize="characters" class="code" /></label>
      <button type="submit" disabled=${code.trim().length < 4}>Find game</button>
    </form>
    ${problem && html`<p class="refusal" role="alert">${problem}</p>`}
    ${info &&
    html`<div class="joininfo">
      <p><b>${info.title}</b> — ${info.scenario}, ${info.status}</p>
      <${Present} info=${info} />
      <form onSubmit=${take}>
        <fieldset class="roles">
          <legend>Seat</legend>
          ${["delegation", "observer", "umpire", "red_cell"].map(
            (r) => html`<label key=${r}><input type="radio" name="role" value=${r} checked=${role === r}
              onChange=${() => setRole(r)} /> ${ROLE_NAMES[r]}</label>`,
          )}
        </fieldset>
        ${role === "delegation" &&
        html`<label>Member state
          <select value=${member} onChange=${(e) => setMember(e.target.value)}>
            <option value="">Choose…</option>
            ${info.members.map((m) => html`<option key=${m.code} value=${m.code}>${m.name} (${m.code})</option>`)}
          </select></label>`}
        ${role === "delegation" && table.length > 0 && html`<p class="hint" data-testid="table-hint">${
          table.every((s) => s.is_bot)
            ? `A bot plays ${info.members.find((m) => m.code === member)?.name} now: you take over from it.`
            : `${table.map((s) => s.player).join(", ")} already ${table.length === 1 ? "plays" : "play"} ` +
              `${info.members.find((m) => m.code === member)?.name}: you join the delegation, whose head speaks ` +
              "for it in council."}</p>`}
        <label>Your name <input value=${player} onInput=${(e) => setPlayer(e.target.value)} maxlength="80" /></label>
        <button type="submit" disabled=${busy || !ready}>Take this seat</button>
      </form>
    </div>`}
  </section>`;
}

export function Lobby({ code }) {
  return html`<main id="main" class="lobby" tabindex="-1">
    <h1>Alliance crisis wargame</h1>
    <${MySeats} />
    <div class="columns">
      <${JoinGame} code=${code} key=${code} />
      <${CreateGame} />
    </div>
  </main>`;
}
