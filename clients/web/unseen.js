// What a seat has not seen yet, counted on its tabs until the screen shows it: messages (by channel), injects,
// intelligence reports and the white cell's rulings on its actions; and what waits on it: proposals on its
// delegation's position, actions on the white cell's ruling, the adversary's move on the red cell, and at the end
// its feedback form.
import { useState } from "preact/hooks";
import { threads } from "./messages.js";
import { phaseAllows } from "./ui.js";

const SEEN = "wargame.seen"; // localStorage: {"<game> <seat>": {"<channel>" | "injects" | "reports" | "rulings": how many were on screen}}

function stored() {
  try {
    return JSON.parse(localStorage.getItem(SEEN) || "{}");
  } catch {
    return {};
  }
}

/** How much of each list this seat has had on screen, kept in this browser (a reload remembers it).
 * `mark({key: count})` records that those lists are on screen now, `count` items long (shorter after a rewind). */
export function useSeen(gameId, seat) {
  const place = `${gameId} ${seat?.seat_id}`;
  const [, redraw] = useState(0);
  const seen = stored()[place] || {};
  function mark(counts) {
    const all = stored();
    const now = all[place] || {};
    const changed = Object.entries(counts).filter(([key, count]) => count !== (now[key] || 0));
    if (!changed.length) return;
    localStorage.setItem(SEEN, JSON.stringify({ ...all, [place]: { ...now, ...Object.fromEntries(changed) } }));
    redraw((n) => n + 1);
  }
  return { seen, mark };
}

/** How long each list the delegation's dashboard shows is: what it marks as seen, and what its tab counts. */
export function onDashboard(view) {
  const rulings = view.actions.filter((a) => a.ruling).length;
  return { injects: view.injects.length, reports: view.reports.length, rulings };
}

/** What each tab has for the seat's player: `{tab: [2, "new"]}`, nothing where there is nothing. */
export function tabNews(view, seat, seen) {
  const { total, toAnswer } = view.messages ? threads(view, seat, seen) : { total: 0, toAnswer: 0 };
  const counts = {
    // For the white cell, before the room's new messages: the delegations whose question waits for its answer.
    messages: toAnswer ? [toAnswer, "to answer"] : [total, "new"],
    control: [seat.role === "facilitator" ? view.actions.filter((a) => !a.ruling).length : 0, "to rule on"],
  };
  if (seat.role === "delegation") {
    const shown = Object.entries(onDashboard(view));
    counts.dashboard = [shown.reduce((sum, [key, count]) => sum + unseen(count, seen[key]), 0), "new"];
    counts.council = [(view.awaited || []).length, "to answer"];
  } else if (seat.role === "red_cell" && phaseAllows(view, "adversary_move") && view.adversary_moved_in !== view.round) {
    counts.record = [1, "to move"];
  } else if (seat.role !== "facilitator") {
    counts.record = [unseen(view.injects.length, seen.injects), "new"];
  }
  // Once the exercise has ended, the feedback form on the seat's first screen waits for its answer.
  if (view.status === "ended" && !(view.feedback_from || []).includes(seat.seat_id)) {
    counts[{ delegation: "dashboard", facilitator: "control" }[seat.role] || "record"] = [1, "feedback to give"];
  }
  return Object.fromEntries(Object.entries(counts).filter(([, [count]]) => count > 0));
}

function unseen(count, seen) {
  return Math.max(0, count - (seen || 0));
}
