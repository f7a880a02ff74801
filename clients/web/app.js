// The single-page app: hash routes, the game's socket as a hook, the header and the tabs per role.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, credentials } from "./api.js";
import { GameSocket } from "./socket.js";
import { html, ActButton, Countdown, ROLE_NAMES, doneInTheRoom, headOf, memberName, speaksFor, words } from "./ui.js";
import { Lobby } from "./lobby.js";
import { Dashboard } from "./dashboard.js";
import { Council } from "./council.js";
import { Messages } from "./messages.js";
import { tabNews, useSeen } from "./unseen.js";
import { Control, Everything } from "./facilitator.js";
import { Record } from "./observer.js";
import { Review } from "./review.js";
import { RoomScreen } from "./screen.js";
import { Pack } from "./pack.js";

const TABS = {
  delegation: [["dashboard", "Dashboard"], ["council", "Council"], ["messages", "Messages"]],
  facilitator: [["control", "Control"], ["council", "Council"], ["messages", "Messages"], ["everything", "All seats"]],
  umpire: [["record", "Record"], ["council", "Council"], ["messages", "Messages"], ["everything", "All seats"]],
  observer: [["record", "Record"], ["council", "Council"]],
  red_cell: [["record", "Record"], ["council", "Council"]],
};

const REVIEWS_ANY_TIME = ["facilitator", "umpire", "observer"];
/** Who may open the after-action review while the game is still played (delegations, once it has ended). */

const PAGES = { dashboard: Dashboard, council: Council, messages: Messages, control: Control, everything: Everything, record: Record };

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "game" && parts[1]) return { screen: "game", gameId: parts[1], tab: parts[2] || "" };
  if (parts[0] === "review" && parts[1]) return { screen: "review", gameId: parts[1] };
  if (parts[0] === "seat" && parts[1] && parts[2]) return { screen: "seat", gameId: parts[1], token: parts[2] };
  if (parts[0] === "pack" && parts[1]) return { screen: "pack", gameId: parts[1] };
  if (parts[0] === "screen" && parts[1] && parts[2]) return { screen: "room", gameId: parts[1], token: parts[2], code: parts[3] || "" };
  if (parts[0] === "join") return { screen: "lobby", code: parts[1] || "" };
  return { screen: "lobby", code: "" };
}

function useRoute() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const update = () => setRoute(parseHash());
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}

const OFFLINE = "Not connected: wait until the indicator shows Connected, then try again.";
const LOST = "The seat's connection ended before the server answered; check whether this took effect.";

/** The game as the components see it: view, seat, who is connected, connection, and `act(controlId, command)`. */
function useGame(gameId, token) {
  const [, redraw] = useState(0);
  const [refusals, setRefusals] = useState({});
  const [pending, setPending] = useState({});
  const socket = useRef(null);
  useEffect(() => {
    if (!token) return undefined;
    const s = new GameSocket(gameId, token, () => redraw((n) => n + 1));
    socket.current = s;
    redraw((n) => n + 1);
    return () => s.close();
  }, [gameId, token]);
  const s = socket.current;
  async function act(id, command) {
    setPending((p) => ({ ...p, [id]: true }));
    setRefusals((r) => ({ ...r, [id]: null }));
    const answer = s ? await s.command(command) : { type: "offline" };
    setPending((p) => ({ ...p, [id]: false }));
    const reason = { refusal: answer.reason, offline: OFFLINE, lost: LOST }[answer.type];
    if (reason) setRefusals((r) => ({ ...r, [id]: reason }));
    return answer.type === "ack";
  }
  return {
    gameId,
    view: s?.view || null,
    seat: s?.seat || null,
    connected: s?.connected || null,
    storage: s?.storage || null,
    status: s?.status || "connecting",
    problem: s?.problem || "",
    refusals,
    pending,
    act,
  };
}

function Connection({ game }) {
  const labels = { connecting: "Connecting…", open: "Connected", reconnecting: "Reconnecting…", refused: "Refused", closed: "Closed" };
  return html`<span class=${"connection " + game.status} data-testid="connection" role="status" aria-live="polite"
    >${labels[game.status]}</span
  >`;
}

/** A delegation's word that it is done with the phase under way, its head's to give or take back: the white cell
 * sees who is done, and may have the phase end once every delegation a person plays is. */
function DoneWithPhase({ game, view, seat }) {
  if (seat.role !== "delegation" || view.status !== "running" || !view.phase) return null;
  const done = view.done.includes(seat.member);
  const playing = view.in_the_room;
  const tally = `${doneInTheRoom(view).length} of ${playing.length} delegations done`;
  if (!speaksFor(view, seat)) {
    return done ? html`<span class="done-mark" data-testid="done" title=${tally}>✓ Done</span>` : null;
  }
  return html`<span data-testid="done"><${ActButton} game=${game} id="done" kind=${done ? "ghost done" : "ghost"}
    label=${done ? `✓ Done with this phase (${tally}); press to take it back` : `Done with this phase (${tally})`}
    command=${{ type: "declare_done", round: view.round, phase: view.phase, done: !done }}
    >${done ? "✓ Done" : "Done"}<//></span>`;
}

/** Said on every screen of every seat while the server's database refuses the game's events (its disk full, say),
 * in the sticky top: a facilitator who sends nothing would otherwise learn it from the players. */
function StorageRefused({ reason, role }) {
  const what =
    role === "facilitator"
      ? "On the server's computer, free space on its disk or make its database writable again (docs/operations.md, " +
        "“The disk fills”): play goes on by itself from where it stood."
      : "The white cell sees this too.";
  return html`<p class="storage" role="alert" data-testid="storage">${reason} ${what}</p>`;
}

function ProjectorToggle() {
  const [on, setOn] = useState(localStorage.getItem("wargame.projector") === "1");
  useEffect(() => {
    document.documentElement.classList.toggle("projector", on);
    localStorage.setItem("wargame.projector", on ? "1" : "0");
    window.dispatchEvent(new Event("projector"));
  }, [on]);
  return html`<button type="button" class="ghost projector-toggle" aria-pressed=${on} onClick=${() => setOn(!on)}>
    Projector mode
  </button>`;
}

/** The header and the tabs stay at the top of the window (style.css `.top`); what the browser scrolls into view,
 * a focused control or a link's target, stops below them instead of under them. */
function useTopHeight(ref) {
  useEffect(() => {
    const root = document.documentElement.style;
    const note = () => root.setProperty("--top-height", `${ref.current?.offsetHeight || 0}px`);
    const observer = new ResizeObserver(note);
    if (ref.current) observer.observe(ref.current);
    note();
    return () => {
      observer.disconnect();
      root.removeProperty("--top-height");
    };
  }, []);
}

function whoAmI(seat, view) {
  const role = ROLE_NAMES[seat.role] || seat.role;
  if (seat.role !== "delegation") return role;
  // Said only where it tells something: at a table of several players.
  const table = Object.values(view?.seats || {}).filter((s) => s.member === seat.member).length;
  const heads = table > 1 && headOf(view, seat.member)?.[0] === seat.seat_id;
  return `${memberName(view, seat.member)} delegation${heads ? ", head" : ""}`;
}

function stage(view) {
  if (view.status === "lobby") return `Not started yet · ${view.rounds} rounds`;
  if (view.status === "ended") return `Exercise ended after round ${view.round}`;
  return `Round ${view.round} of ${view.rounds} · ${words(view.phase)}`;
}

/** What the white cell announces while this screen is open (a broadcast, a ruling that turned play back), on
 * every tab until dismissed: players at the council table would not see it on their dashboard. */
function News({ view }) {
  const count = view.announcements?.length || 0;
  const [seen, setSeen] = useState(count);
  if (count <= seen) return html`<div aria-live="polite" class="news-live"></div>`;
  return html`<div aria-live="polite" class="news-live"><p class="news" data-testid="news">
    <span>${view.announcements[count - 1]}${count - seen > 1 ? ` (and ${count - seen - 1} more on the dashboard)` : ""}</span>
    <button type="button" class="ghost" onClick=${() => setSeen(count)}>Dismiss</button></p></div>`;
}

function Game({ gameId, tab }) {
  const seat = credentials.get(gameId);
  const game = useGame(gameId, seat?.token);
  const seen = useSeen(gameId, seat);
  const view = game.view;
  const tabs = TABS[seat?.role] || TABS.observer;
  const news = view && seat ? tabNews(view, seat, seen.seen) : {};
  const waiting = tabs.reduce((n, [id]) => n + (news[id]?.[0] || 0), 0);
  const title = view?.title || seat?.title || "Wargame";
  const top = useRef(null);
  useTopHeight(top);
  useEffect(() => {
    document.title = `${waiting ? `(${waiting}) ` : ""}${title} – play`; // seen from another browser tab too
  }, [waiting, title]);
  if (!seat) {
    return html`<main id="main" class="narrow" tabindex="-1">
      <h1>No seat here</h1>
      <p>This browser holds no seat for game ${gameId}. <a href="#/">Join it from the lobby</a>.</p>
    </main>`;
  }
  const current = tabs.some(([id]) => id === tab) ? tab : tabs[0][0];
  const Page = PAGES[current];
  return html`<div class="game">
    <div class="top" ref=${top}>
      <header class="bar">
        <div class="title">
          <strong>${view?.title || seat.title || "Game"}</strong>
          <span class="who" data-testid="who">${whoAmI(seat, view)} · ${seat.player}</span>
          ${seat.role === "facilitator" && seat.join_code &&
          html`<span class="joincode">Join code <b data-testid="join-code">${seat.join_code}</b></span>`}
        </div>
        <div class="clock">
          ${view && html`<span data-testid="phase">${stage(view)}</span>`}
          ${view?.phase && view.status !== "ended" && html`<${Countdown} view=${view} />`}
          ${view && html`<${DoneWithPhase} game=${game} view=${view} seat=${seat} />`}
        </div>
        <div class="tools">
          <${Connection} game=${game} />
          <${ProjectorToggle} />
          <a href="#/" class="ghost">Lobby</a>
        </div>
      </header>
      <nav class="tabs" aria-label="Screens">
        ${tabs.map(
          ([id, label]) => html`<a key=${id} href=${`#/game/${gameId}/${id}`} aria-current=${id === current ? "page" : undefined}
            >${label}${news[id] ? html` <span class="unread" data-testid=${`news-${id}`}>${news[id].join(" ")}</span>` : ""}</a
          >`,
        )}
        ${(REVIEWS_ANY_TIME.includes(seat.role) || view?.status === "ended") &&
        html`<a href=${`#/review/${gameId}`} class="review" data-testid="review-link">Review</a>`}
      </nav>
      ${game.storage && html`<${StorageRefused} reason=${game.storage} role=${seat.role} />`}
    </div>
    <main id="main" tabindex="-1">
      ${view && html`<${News} view=${view} />`}
      ${game.status === "refused" &&
      html`<p class="refusal" role="alert">${game.problem} <a href="#/">Back to the lobby</a></p>`}
      ${view ? html`<${Page} game=${game} view=${view} seat=${seat} seen=${seen} />` : game.status !== "refused" && html`<p>Loading the game…</p>`}
    </main>
  </div>`;
}

/** A seat link from the facilitator (`#/seat/GAME/CREDENTIAL`): keep the credential, then drop it from the address. */
function Handoff({ gameId, token }) {
  const [problem, setProblem] = useState("");
  useEffect(() => {
    api.me(gameId, token).then(
      (seat) => {
        credentials.save(gameId, {
          token, role: seat.role, member: seat.member, player: seat.player, seat_id: seat.seat_id, title: seat.title,
          ...(seat.join_code ? { join_code: seat.join_code } : {}),
        });
        location.replace(`#/game/${gameId}`);
      },
      (e) => setProblem(e.message),
    );
  }, [gameId, token]);
  return html`<main id="main" class="narrow" tabindex="-1">
    ${problem
      ? html`<h1>This link does not open a seat</h1><p class="refusal" role="alert">${problem}</p>
          <p>Ask the facilitator for a new link, or <a href="#/">join from the lobby</a>.</p>`
      : html`<p>Taking your seat…</p>`}
  </main>`;
}

/** The room's screen (`#/screen/GAME/CREDENTIAL/JOIN-CODE`): its observer credential stays in the address, so it
 * takes no seat in this browser's keeping and may run beside the console in the facilitator's own browser. */
function Room({ gameId, token, code }) {
  const game = useGame(gameId, token);
  useEffect(() => {
    document.documentElement.classList.add("projector");
    return () => document.documentElement.classList.toggle("projector", localStorage.getItem("wargame.projector") === "1");
  }, []);
  useEffect(() => {
    document.title = `${game.view?.title || "Wargame"} – room screen`;
  }, [game.view?.title]);
  return html`<${RoomScreen} game=${game} code=${code} />`;
}

function App() {
  const route = useRoute();
  useEffect(() => {
    if (!["game", "room", "pack"].includes(route.screen)) {
      document.title = route.screen === "review" ? "Wargame – review" : "Wargame – lobby";
    }
  }, [route.screen]);
  return html`<a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}
      >Skip to content</a
    >
    ${route.screen === "game"
      ? html`<${Game} gameId=${route.gameId} tab=${route.tab} />`
      : route.screen === "seat"
        ? html`<${Handoff} gameId=${route.gameId} token=${route.token} />`
        : route.screen === "room"
          ? html`<${Room} gameId=${route.gameId} token=${route.token} code=${route.code} />`
        : route.screen === "pack"
          ? html`<${Pack} gameId=${route.gameId} />`
        : route.screen === "review"
          ? html`<${Review} gameId=${route.gameId} />`
          : html`<${Lobby} code=${route.code} />`}`;
}

render(html`<${App} />`, document.getElementById("app"));
