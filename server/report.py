"""The after-action report, in Markdown and in HTML, in the structure of an HSEEP AAR/IP: overview,
objectives, executive summary, capabilities rated P/S/M/U with evidence, strengths, areas for
improvement, improvement plan, the participants' feedback; with the metric charts (inline SVG, so the file stands
alone)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from game_rules.evaluation import evaluator, plan
from game_rules.feedback import QUESTIONS, average
from game_rules.metrics import national_score
from game_rules.narrative import participant
from game_rules.review import RATING_MEANING, Capability, Review
from game_rules.rulesets import RULESETS
from game_rules.state import RoundMetrics


@dataclass(frozen=True)
class GameInfo:
    game_id: str
    title: str
    scenario: str
    created_at: str
    objectives: list[str]
    """The exercise objectives: the MSEL's objectives, in order, without repeats."""
    played: str = "not started"
    """When play ran, from its start to its end, with how long it took."""


def _series(rounds: list[RoundMetrics]) -> dict[str, list[float]]:
    return {
        "cohesion": [r.cohesion for r in rounds],
        "deterrence": [r.deterrence for r in rounds],
        "escalation (x20)": [r.escalation * 20 for r in rounds],
    }


def svg_chart(title: str, series: dict[str, list[float]], width: int = 520, height: int = 220) -> str:
    """A line chart over rounds, 0 to 100, as standalone SVG."""
    colours = ["#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#b7950b"]
    left, right, top, bottom = 40, 130, 28, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max((len(v) for v in series.values()), default=0)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - max(0.0, min(100.0, v)) / 100)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{html.escape(title)}" font-family="sans-serif" font-size="11">',
        f'<text x="{left}" y="16" font-size="13" font-weight="bold">{html.escape(title)}</text>',
    ]
    for v in (0, 25, 50, 75, 100):
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v}</text>')
    for i in range(n):
        parts.append(f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle">R{i + 1}</text>')
    for k, (name, values) in enumerate(series.items()):
        colour = colours[k % len(colours)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        if len(values) > 1:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        parts.extend(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>' for i, v in enumerate(values))
        ly = top + 14 * k
        parts.append(f'<rect x="{left + plot_w + 10}" y="{ly}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{left + plot_w + 24}" y="{ly + 9}">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _support(rounds: list[RoundMetrics]) -> dict[str, list[float]]:
    members = list(rounds[-1].public_support) if rounds else []
    return {m: [r.public_support.get(m, 0.0) for r in rounds] for m in members}


@dataclass(frozen=True)
class _Sections:
    summary: list[str]
    strengths: list[Capability]
    improve: list[Capability]
    scores: dict[str, tuple[int, list[str]]]


def _sections(r: Review) -> _Sections:
    s = r.state
    rules = RULESETS[s.ruleset] if s.ruleset else None
    adopted = [p for p in r.proposals if p.outcome == "adopted"]
    last = r.rounds[-1] if r.rounds else None
    summary = [
        f"{len(s.members)} delegations played {len(r.rounds)} of {s.rounds} rounds under the "
        f"{rules.treaty if rules else 'unknown treaty'}; the game is {s.status}.",
        f"{len(r.proposals)} proposals were tabled and {len(adopted)} adopted; "
        f"{len(s.consultations)} member(s) requested consultation; {len(s.injects)} injects were played.",
    ]
    if last:
        summary.append(
            f"At the end: cohesion {last.cohesion:.0f}, deterrence {last.deterrence:.0f}, escalation level "
            f"{s.escalation} ({s.exercise.adversary.ladder[s.escalation].name})."
        )
    invocations = [f"{i.key} for {i.victim}: {i.status}" for i in s.invocations.values()]
    if invocations:
        summary.append("Collective defence: " + "; ".join(invocations) + ".")
    if rewinds := sum(1 for e in r.entries if e.type == "game_rewound" and not e.undone):
        undone = sum(1 for e in r.entries if e.undone)
        summary.append(f"The white cell turned play back {rewinds} time(s), undoing {undone} event(s): see Rulings.")
    return _Sections(
        summary=summary,
        strengths=[c for c in r.capabilities if c.rating == "P"],
        improve=[c for c in r.capabilities if c.rating in ("S", "M", "U")],
        scores={m: national_score(s, m) for m in s.members},
    )


RULINGS = ("action_ruled", "game_rewound")
"""The white cell's decisions on play itself: rulings on free-form actions, and turning play back."""


def _participants(r: Review) -> list[tuple[str, str]]:
    """Who played what at the end: the white cell, each member's delegation (its head first), then the other seats."""
    seats = list(r.state.seats.values())
    members = [(code, [s for s in seats if s.member == code]) for code in r.state.members]
    rows = [("white cell", [s for s in seats if s.role == "facilitator"])]
    rows += [(code, sorted(table, key=lambda s: not s.head)) for code, table in members if table]
    others = ("red_cell", "umpire", "observer")
    rows += [(role.replace("_", " "), [s for s in seats if s.role == role]) for role in others]
    return [
        (name, ", ".join(f"{s.player} (head)" if s.head and len(table) > 1 else s.player for s in table))
        for name, table in rows
        if table
    ]


def markdown(info: GameInfo, r: Review) -> str:
    s = r.state
    parts = _sections(r)
    out = [f"# After-action report: {info.title}", ""]
    out += [
        "## Overview",
        "",
        "| | |",
        "|---|---|",
        f"| exercise | {info.title} |",
        f"| scenario | {info.scenario} |",
        f"| game | {info.game_id} |",
        f"| created | {info.created_at} |",
        f"| played | {info.played} |",
        f"| ruleset | {s.ruleset} |",
        f"| rounds played | {len(r.rounds)} of {s.rounds} |",
        f"| participants | {len(s.seats)} (see Participants) |",
        "",
    ]
    if s.situation.strip():
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", s.situation) if p.strip()]
        out += ["## Situation", ""] + [line for p in paragraphs for line in (p, "")]
    out += ["## Participants", "", "| seat | players |", "|---|---|"]
    out += [f"| {seat} | {players} |" for seat, players in _participants(r)] + [""]
    out += ["## Objectives", ""] + [f"- {o}" for o in info.objectives or ["(the scenario names none)"]] + [""]
    out += ["## Executive summary", ""] + [f"- {line}" for line in parts.summary] + [""]
    out += [
        "## Analysis of capabilities",
        "",
        "| capability | rating | evidence | evaluators' judgement |",
        "|---|---|---|---|",
    ]
    out += [
        f"| {c.name} | {c.rating} ({RATING_MEANING[c.rating]}) | {_cell('; '.join(c.evidence))} | {_judgement(c)} |"
        for c in r.capabilities
    ]
    out += [
        "",
        "## Proposals",
        "",
        "| proposal | kind | procedure | tabled by | round | outcome | positions |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in r.proposals:
        positions = ", ".join(
            f"{x.member} {x.position}{f' ({x.reservation})' if x.reservation else ''} @{x.seq}" for x in p.positions
        )
        out.append(f"| {p.id} | {p.kind} | {p.procedure} | {p.tabled_by} | {p.round} | {p.outcome} | {positions} |")
    deployments = [p for p in r.proposals if p.fair_shares]
    if deployments:
        out += [
            "",
            "## Pledges against fair shares",
            "",
            "| proposal | member | pledged | fair share |",
            "|---|---|---|---|",
        ]
        out += [
            f"| {p.id} | {m} | {p.pledges.get(m, 0)} | {share:.1f} |"
            for p in deployments
            for m, share in p.fair_shares.items()
        ]
    out += [
        "",
        "## Metrics by round",
        "",
        "| round | cohesion | deterrence | escalation | pledge fairness | latency |",
        "|---|---|---|---|---|---|",
    ]
    out += [
        f"| {m.round} | {m.cohesion:.0f} | {m.deterrence:.0f} | {m.escalation} | {m.pledge_fairness:.0%} | "
        f"{'' if m.decision_latency is None else m.decision_latency} |"
        for m in r.rounds
    ]
    out += ["", "## Strengths", ""] + [f"- {c.name}: {_grounds(c)}" for c in parts.strengths]
    out += ["", "## Areas for improvement", ""]
    out += [f"- {c.name} ({c.rating}): {_grounds(c)}" for c in parts.improve]
    out += ["", "## Observations", ""]
    out += [
        f"- [{o.by}, round {o.round}, event {o.about_seq}{', ' + o.member if o.member else ''}] {o.text}"
        for o in s.observations
    ] or ["- none recorded"]
    out += ["", "## Rulings of the white cell", ""]
    out += [
        f"- [round {e.round}, {e.phase or 'lobby'}, event {e.seq}] {e.text}" + (" (undone later)" if e.undone else "")
        for e in r.entries
        if e.type in RULINGS
    ] or ["- none"]
    out += ["", "## National actions", ""]
    actions = list(r.state.actions.values())
    out += (
        [
            "| action | round | member | action proposed | result argued | reasons | die | ruling |",
            "|---|---|---|---|---|---|---|---|",
        ]
        if actions
        else ["- none proposed"]
    )
    out += [
        f"| {a.id} | {a.round} | {a.member} | {_cell(a.text)} | {_cell(a.result)} | {_cell(a.reasons)} | "
        + (f"{a.roll.strength.replace('_', ' ')}, {a.roll.target}+: rolled {a.roll.value}" if a.roll else "-")
        + f" | {a.ruling or 'not ruled on'}{': ' + _cell(a.note) if a.note else ''} |"
        for a in actions
    ]
    out += [
        "",
        "## Improvement plan",
        "",
        "| item | capability | issue | corrective action | responsible | start | completion |",
        "|---|---|---|---|---|---|---|",
    ]
    planned = plan(s)
    out += [
        f"| {row.item} | {row.capability} | {_cell(row.issue)} | {_cell(row.action)} | {_cell(row.responsible)} | "
        f"{row.start or ''} | {row.completion or ''} |"
        for row in planned
    ]
    # An area for improvement the evaluators have planned nothing for keeps the action its evidence suggests.
    out += [
        f"| - | {c.name} ({c.rating}) | {_cell('; '.join(c.evidence))} | {c.corrective_action} (suggested) | "
        "to be assigned at the hotwash | | |"
        for c in parts.improve
        if not any(row.capability == c.name for row in planned)
    ]
    out += ["", "## National scores (secret objectives)", "", "| member | points | objectives met |", "|---|---|---|"]
    out += [f"| {m} | {pts} | {', '.join(met) or '-'} |" for m, (pts, met) in parts.scores.items()]
    out += ["", "## Participant feedback", ""]
    mean = average(s)
    if mean is None:
        out += ["No participant gave feedback.", ""]
    else:
        forms = f"{len(s.feedback)} form{'' if len(s.feedback) == 1 else 's'}"
        out += [f"{forms}; {QUESTIONS['rating']}: on average {mean:.1f} of 5.", ""]
        out += ["| from | rating | what went well | what should be done differently |", "|---|---|---|---|"]
        out += [
            f"| {participant(f)} | {f.rating} | {_cell(f.went_well) or '-'} | {_cell(f.to_improve) or '-'} |"
            for f in sorted(s.feedback.values(), key=lambda f: (f.role, f.member or ""))
        ]
    return "\n".join(out) + "\n"


def _judgement(c: Capability) -> str:
    if c.rated_by is None:
        return "as the log suggests"
    suggested = "no rating" if c.suggested is None else c.suggested
    return f"rated by the {evaluator(c.rated_by)} (the log suggested {suggested}): {_cell(c.reason)}"


def _grounds(c: Capability) -> str:
    """Why a capability is a strength or an area for improvement: the log's evidence, and the evaluators' reason."""
    return "; ".join([*c.evidence, *([f"{evaluator(c.rated_by)}: {c.reason}"] if c.rated_by else [])])


def _cell(text: str) -> str:
    """Free text as one cell of a table row: no column separators, no line breaks."""
    return " ".join(text.replace("|", "/").split())


def html_report(info: GameInfo, r: Review) -> str:
    """The same report as one standalone HTML page, with the charts inline."""
    body = markdown(info, r)
    charts = svg_chart("Cohesion, deterrence and escalation", _series(r.rounds)) + svg_chart(
        "Public support by member", _support(r.rounds)
    )
    lines: list[str] = []
    in_table = False
    for line in body.splitlines():
        if line.startswith("|"):
            cells = [html.escape(c.strip()) for c in line.strip("|").split("|")]
            if set("".join(cells)) <= {"-"}:
                continue
            tag = "th" if not in_table else "td"
            if not in_table:
                lines.append("<table>")
                in_table = True
            lines.append("<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>")
            continue
        if in_table:
            lines.append("</table>")
            in_table = False
        if line.startswith("## "):
            title = line[3:]
            lines.append(f"<h2>{html.escape(title)}</h2>")
            if title == "Metrics by round":
                lines.append(f'<div class="charts">{charts}</div>')
        elif line.startswith("# "):
            lines.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("- "):
            lines.append(f"<p class='item'>{html.escape(line[2:])}</p>")
        elif line.strip():
            lines.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        lines.append("</table>")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
        "text-align:left;vertical-align:top}th{background:#f3f3f3}.item{margin:.2rem 0 .2rem 1rem}"
        ".charts svg{margin:.5rem 1rem .5rem 0}"
    )
    title = re.sub(r"\s+", " ", info.title)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>After-action report: '
        f"{html.escape(title)}</title><style>{style}</style></head><body>{''.join(lines)}</body></html>\n"
    )
