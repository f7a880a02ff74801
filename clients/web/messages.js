// Messages: alliance-wide, bilateral and group channels, and each delegation's own.  The recipients are always
// spelled out next to the Send button, so that a private message is never sent to everyone by mistake.
import { useEffect, useRef, useState } from "preact/hooks";
import { html, memberList, memberName, MemberPicker, ONE_COLUMN, PhaseHint, Refusal } from "./ui.js";

const ALL = "all";
const OWN = "own:"; // + a member's code: its delegation's players among themselves
export const CHAIR = "chair"; // the white cell, as a message's sender or sole recipient (game_rules/state.py)
const WHITE = "white"; // a delegation's channel with the white cell; the white cell's are WHITE + ":" + members

/** A message's party by name: a member state, or the white cell. */
export function partyName(view, code) {
  return code === CHAIR ? "White cell" : memberName(view, code);
}

/** A message's recipients by name. */
export function partyList(view, codes) {
  return codes.map((c) => partyName(view, c)).join(", ");
}

/** The members of the white cell's channel `key` with them (`white:EST`), or null for any other channel. */
function withWhiteCell(key) {
  return key.startsWith(`${WHITE}:`) ? key.slice(WHITE.length + 1).split(",") : null;
}
const drafts = {}; // unsent text by channel, kept while the player looks at other screens

/** The messages the seat may read, by channel, and how many in each it has not seen (`seen`: how many of each
 * channel's were on screen; its player's own are never news). */
export function threads(view, seat, seen) {
  const me = seat.role === "delegation" ? view.you.member : null;
  const writer = me || (seat.role === "facilitator" ? CHAIR : null); // whose messages are this seat's own
  const byChannel = {};
  for (const m of view.messages) (byChannel[channelOf(view, m, me)] ||= []).push(m);
  const unread = {};
  let total = 0;
  let toAnswer = 0; // for the white cell: its channels whose last word is a delegation's, read or not
  for (const [key, list] of Object.entries(byChannel)) {
    const fresh = list.slice(seen[key] || 0).filter((m) => !(m.sender === writer && m.author === seat.player)).length;
    if (fresh) unread[key] = fresh;
    total += fresh;
    if (writer === CHAIR && withWhiteCell(key) && list.at(-1).sender !== CHAIR) toAnswer += 1;
  }
  return { me, writer, byChannel, unread, total, toAnswer };
}

/** The channel a message belongs to, as seen by `me` (null for the white cell, which sees every channel). */
function channelOf(view, m, me) {
  if (m.recipients.length === 1 && m.recipients[0] === m.sender) return OWN + m.sender;
  if (m.sender === CHAIR || m.recipients.includes(CHAIR)) {
    return me ? WHITE : `${WHITE}:${[m.sender, ...m.recipients].filter((c) => c !== CHAIR).sort().join(",")}`;
  }
  const everyone = Object.keys(view.members);
  const parties = new Set([m.sender, ...m.recipients]);
  if (everyone.every((c) => parties.has(c))) return ALL;
  return [...parties].filter((c) => c !== me).sort().join(",");
}

function channelName(view, key, me) {
  if (key === ALL) return "Alliance (everyone)";
  if (key === WHITE) return "White cell";
  if (withWhiteCell(key)) return `White cell ↔ ${memberList(view, withWhiteCell(key))}`;
  if (key.startsWith(OWN)) return key === OWN + me ? "Own delegation" : `${memberName(view, key.slice(OWN.length))} delegation (within)`;
  const codes = key.split(",");
  return (codes.length === 1 && me ? "Bilateral: " : "Group: ") + memberList(view, codes);
}

function Thread({ view, messages, me, writer }) {
  if (!messages.length) return html`<p class="hint">No messages in this channel yet.</p>`;
  return html`<ol class="plain thread" aria-live="polite" data-testid="thread">
    ${messages.map((m) => html`<li key=${m.id} class=${m.sender === writer ? "mine" : ""} data-testid="message">
      <div class="meta"><b>${partyName(view, m.sender)}</b>${m.author ? ` · ${m.author}` : ""}${
        channelOf(view, m, me).startsWith(OWN) ? "" : ` → ${partyList(view, m.recipients)}`
      } · round ${m.round}</div>
      <p>${m.text}</p>
    </li>`)}
  </ol>`;
}

function Compose({ game, view, me, channel }) {
  const [text, setDraft] = useState(drafts[channel] || "");
  const setText = (value) => {
    drafts[channel] = value;
    setDraft(value);
  };
  const others = Object.keys(view.members).filter((c) => c !== me);
  const own = channel === OWN + me;
  const to = channel === ALL ? [] : own ? [me] : channel === WHITE ? [CHAIR] : withWhiteCell(channel) || channel.split(",");
  const id = `send-${channel}`;
  async function send(event) {
    event.preventDefault();
    const sent = await game.act(id, { type: "send_message", to, text: text.trim() });
    if (sent && drafts[channel] === text) setText(""); // unless the player typed on while the answer was on its way
  }
  const recipients = channel === ALL
    ? html`<span class="to everyone" data-testid="recipients">To: EVERYONE — all ${others.length} other delegations</span>`
    : own ? html`<span class="to private" data-testid="recipients">To: your own delegation only (internal)</span>`
    : channel === WHITE ? html`<span class="to private" data-testid="recipients">To: the white cell only (private)</span>`
    : html`<span class="to private" data-testid="recipients">To: ${memberList(view, to)} only (private)</span>`;
  return html`<form class="compose" onSubmit=${send}>
    <label>Message <textarea rows="3" value=${text} onInput=${(e) => setText(e.target.value)} maxlength="4000"></textarea></label>
    <div class="sendrow">
      ${recipients}
      <span class="act"><button type="submit" disabled=${!text.trim() || game.pending[id]}>Send</button>
        <${Refusal} game=${game} for=${id} /></span>
      <${PhaseHint} view=${view} type="send_message" />
    </div>
  </form>`;
}

export function Messages({ game, view, seat, seen }) {
  const { me, writer, byChannel, unread } = threads(view, seat, seen.seen);
  const [channel, setChannel] = useState(ALL);
  const [group, setGroup] = useState([]);
  const thread = useRef(null);
  const open = (k) => {
    setChannel(k);
    // On one column (a phone) the thread is below the channels: bring up the conversation chosen, its latest
    // messages and the box to answer in.
    if (matchMedia(ONE_COLUMN).matches) requestAnimationFrame(() => thread.current?.scrollIntoView({ block: "end" }));
  };
  const shown = byChannel[channel]?.length || 0;
  useEffect(() => seen.mark({ [channel]: shown }), [channel, shown]);
  const keys = me ? [ALL, OWN + me, WHITE] : [ALL];
  if (me) for (const c of Object.keys(view.members)) if (c !== me) keys.push(c);
  // The white cell's channel with each delegation, said in or not yet.
  if (writer === CHAIR) for (const c of Object.keys(view.members)) keys.push(`${WHITE}:${c}`);
  for (const k of Object.keys(byChannel)) if (!keys.includes(k)) keys.push(k);
  const start = () => {
    if (!group.length) return;
    open([...group].sort().join(","));
    setGroup([]);
  };
  return html`<div class="messages">
    <nav class="channels panel" aria-label="Channels">
      <h2>Channels</h2>
      <ul class="plain">
        ${keys.map((k) => html`<li key=${k}><button type="button" class=${"channel" + (k === channel ? " current" : "")}
          aria-pressed=${k === channel} onClick=${() => open(k)}>
          ${channelName(view, k, me)} ${unread[k] ? html`<span class="count unread" data-testid="unread">${unread[k]} new</span>`
            : byChannel[k] ? html`<span class="count">${byChannel[k].length}</span>` : ""}</button></li>`)}
      </ul>
      ${me && html`<details><summary>New group channel</summary>
        <${MemberPicker} view=${view} value=${group} onChange=${setGroup} exclude=${[me]} legend="Members" name="group" />
        <button type="button" onClick=${start} disabled=${!group.length}>Open group channel</button>
      </details>`}
    </nav>
    <section class="panel thread-panel" aria-labelledby="thread-h" ref=${thread}>
      <h2 id="thread-h">${channelName(view, channel, me)}</h2>
      <${Thread} view=${view} messages=${byChannel[channel] || []} me=${me} writer=${writer} />
      ${me || (writer === CHAIR && withWhiteCell(channel))
        ? html`<${Compose} key=${channel} game=${game} view=${view} me=${me} channel=${channel} />`
        : writer === CHAIR
          ? html`<p class="hint">Delegations write here. You write to a delegation in its channel with the white cell
              (White cell ↔ …), and to every seat at once with Broadcast on the Control screen.</p>`
          : html`<p class="hint">Delegations and the white cell write here; this seat reads.</p>`}
    </section>
  </div>`;
}
