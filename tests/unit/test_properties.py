"""Property tests of the rules core over random command sequences: no mocks, the real `decide`/`evolve`.

Each generated game opens a random ruleset with 3-8 members (mostly free play, sometimes with phases and
rounds; now and then one of the shipped scenarios, for its injects, intelligence reports and adversary)
and then plays up to 60 (actor, command) pairs drawn across every command type, from members,
non-members, the chair, the server, the red cell and observers, with proposal ids from a small pool so that later
commands hit proposals tabled earlier.  Most commands are invalid in their context; the rules must refuse
those cleanly and keep everything else consistent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Any, TypeVar, cast, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from game_rules.checks import Decision
from game_rules.commands import (
    COMMAND_ADAPTER,
    EVERY_PHASE_COMMANDS,
    AdvancePhase,
    AdversaryMove,
    AppointHead,
    BreakSilence,
    Broadcast,
    CastVote,
    ClaimSeat,
    CloseProposal,
    Command,
    Concur,
    ConcurWithReservation,
    ConfirmAttribution,
    DeclareDone,
    DeliverInject,
    DropCorrectiveAction,
    EndGame,
    EndWhenDone,
    ExtendPhase,
    GiveFeedback,
    HoldMselLine,
    InvokeCollectiveDefence,
    OfferSharing,
    PauseGame,
    PlanCorrectiveAction,
    PledgeForces,
    ProposeAction,
    RaiseObjection,
    RateCapability,
    ReassignSeat,
    RecordObservation,
    ReleaseSeat,
    RequestAssistance,
    RequestConsultation,
    ResumeGame,
    RewindGame,
    RollForAction,
    RuleOnAction,
    SendMessage,
    SetRounds,
    ShareIntelligence,
    StartGame,
    TableProposal,
)
from game_rules.engine import decide, evolve, fold, replay, state_hash
from game_rules.evaluation import CAPABILITIES
from game_rules.events import (
    EVENT_ADAPTER,
    Event,
    FeedbackGiven,
    GameEnded,
    GameOpened,
    GameRewound,
    MessageSent,
    ProposalClosed,
)
from game_rules.exercise import InjectKind
from game_rules.phases import DEFAULT_PHASES, PhaseSpec
from game_rules.profiles import Domain
from game_rules.refusal import Refusal
from game_rules.review import review
from game_rules.rulesets import RULESETS, AttackKind, Procedure, ProposalKind
from game_rules.scenario import Scenario, parse_scenario
from game_rules.state import (
    CHAIR,
    OBSERVER,
    RED_CELL,
    SYSTEM,
    UMPIRE,
    Attack,
    Choice,
    GameStatus,
    Member,
    Rating,
    Requirement,
    Role,
    Ruling,
    Seat,
    State,
    Strength,
)

M = TypeVar("M", bound=BaseModel)

MEMBER_POOL: tuple[str, ...] = ("USA", "GBR", "FRA", "DEU", "ITA", "POL", "TUR", "CAN", "NOR", "ESP", "NLD", "BRA")
NON_MEMBERS: tuple[str, ...] = ("UKR", "CHN")
PROPOSAL_IDS: tuple[str, ...] = ("P1", "P2", "P3", "P4")
MAX_STEPS = 60
WHITE_CELL = (CHAIR, SYSTEM)

# Who may send what, written out here rather than read from the rules' own tables.
WHITE_CELL_ONLY: tuple[type[BaseModel], ...] = (
    StartGame,
    PauseGame,
    ResumeGame,
    ExtendPhase,
    SetRounds,
    EndWhenDone,
    AdvancePhase,
    EndGame,
    RewindGame,
    DeliverInject,
    Broadcast,
    RuleOnAction,
    RollForAction,
    HoldMselLine,
    ReassignSeat,
    ReleaseSeat,
    AppointHead,
    CloseProposal,
)
SERVER_ONLY: tuple[type[BaseModel], ...] = (ClaimSeat,)
RED_CELL_ONLY: tuple[type[BaseModel], ...] = (AdversaryMove,)
# Hotwash notes: from the chair, umpires and observers, at any time, even after the end.
OBSERVERS_ONLY: tuple[type[BaseModel], ...] = (RecordObservation,)
NOTE_TAKERS = (CHAIR, OBSERVER, UMPIRE)
# The evaluators' ratings and improvement plan: from the chair and umpires, at any time, even after the end.
EVALUATORS_ONLY: tuple[type[BaseModel], ...] = (RateCapability, PlanCorrectiveAction, DropCorrectiveAction)
EVALUATORS = (CHAIR, UMPIRE)
# The participants' feedback forms: from any seat of a person, once the game has ended.
FEEDBACK: tuple[type[BaseModel], ...] = (GiveFeedback,)
HOTWASH = OBSERVERS_ONLY + EVALUATORS_ONLY + FEEDBACK
MEMBERS_ONLY: tuple[type[BaseModel], ...] = (
    RequestConsultation,
    Concur,
    RaiseObjection,
    ConcurWithReservation,
    BreakSilence,
    CastVote,
    RequestAssistance,
    InvokeCollectiveDefence,
    PledgeForces,
    SendMessage,
    ProposeAction,
    ShareIntelligence,
    OfferSharing,
    DeclareDone,
)
CHAIR_WORK: tuple[type[BaseModel], ...] = (*WHITE_CELL_ONLY, *SERVER_ONLY, TableProposal, ConfirmAttribution)

PLAYER_COMMANDS: tuple[type[BaseModel], ...] = (*MEMBERS_ONLY, TableProposal, ConfirmAttribution)

# One phase in which players may send anything, so that phased games are not mostly refusals.
OPEN_SESSION: tuple[PhaseSpec, ...] = (
    PhaseSpec(
        name="session",
        seconds=900,
        allows=tuple(cls.model_fields["type"].default for cls in PLAYER_COMMANDS),
        closes_proposals=True,
    ),
)

Step = tuple[str, Command]


@dataclass(frozen=True)
class Game:
    opening: GameOpened
    steps: tuple[Step, ...]

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(m.code for m in self.opening.members)


@dataclass(frozen=True)
class PlayedStep:
    actor: str
    command: Command
    decision: Decision
    status: GameStatus
    """The game's status when the command was decided."""
    phase: str | None
    seats: Mapping[str, Seat] = field(default_factory=dict)
    """The game's seats when the command was decided."""


@dataclass
class Played:
    state: State
    events: list[Event] = field(default_factory=list)
    steps: list[PlayedStep] = field(default_factory=list)


# --- strategies --------------------------------------------------------------------------------------


@cache
def shipped_scenarios() -> tuple[Scenario, ...]:
    """The scenarios shipped with the rules: real inject catalogues, MSELs and adversary ladders."""
    folder = resources.files("game_rules") / "scenarios"
    found = [parse_scenario(f.read_text(encoding="utf-8")) for f in folder.iterdir() if f.name.endswith(".yaml")]
    return tuple(sorted(found, key=lambda scenario: scenario.id))


def schema_checked(model: type[M], **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[M]:
    """`model` made from the drawn fields, keeping only what its schema accepts: a command the schema
    rejects never reaches `decide` (the server answers it with a validation error)."""

    def build(**values: Any) -> M | None:
        try:
            return model(**values)
        except ValidationError:
            return None

    return cast(st.SearchStrategy[M], st.builds(build, **fields).filter(lambda built: built is not None))


def one_in(n: int) -> st.SearchStrategy[bool]:
    """True about once in n draws (hypothesis favours the simplest value: that one is False)."""
    return st.sampled_from((False,) * (n - 1) + (True,))


attacks: st.SearchStrategy[Attack] = st.builds(
    Attack,
    kind=st.sampled_from(get_args(AttackKind)),
    in_treaty_area=st.booleans(),
    attributed=st.booleans(),
)
# P1 most often, so that positions pile up on one proposal before the chair closes it.
proposal_ids: st.SearchStrategy[str] = st.sampled_from(PROPOSAL_IDS[:1] * 3 + PROPOSAL_IDS)
procedures: st.SearchStrategy[Procedure | None] = st.none() | st.sampled_from(get_args(Procedure))
short_text: st.SearchStrategy[str] = st.text(max_size=12)
capabilities: st.SearchStrategy[str] = st.sampled_from((*CAPABILITIES, "Logistics"))
items: st.SearchStrategy[str] = st.sampled_from(("CA1", "CA2", "CA3", "CA9"))
dates: st.SearchStrategy[date] = st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31))
some_text: st.SearchStrategy[str] = st.text(min_size=1, max_size=12)
# Any float > 0, infinity included (a JSON client can send 1e999): the schema must reject what the log
# could not carry.
amounts: st.SearchStrategy[float] = st.floats(min_value=0, exclude_min=True, allow_nan=False)
clock: st.SearchStrategy[float] = st.floats(min_value=0, max_value=2e9, allow_nan=False)
requirements: st.SearchStrategy[Requirement] = st.builds(
    Requirement,
    forces=st.integers(min_value=1, max_value=10**6),
    domain=st.sampled_from(get_args(Domain)),
    out_of_area=st.booleans(),
    offensive=st.booleans(),
)
seat_ids: st.SearchStrategy[str] = st.sampled_from(("S1", "S2", "S3"))
players: st.SearchStrategy[str] = st.sampled_from(("alice", "bob", "carol"))
report_ids: st.SearchStrategy[str] = st.sampled_from(("R1", "R2", "R3", "R4", "R5", "R6"))
choices: st.SearchStrategy[Choice] = st.sampled_from(get_args(Choice))
pledged_forces: st.SearchStrategy[int] = st.integers(min_value=0, max_value=10**4)
lengths: st.SearchStrategy[int] = st.integers(min_value=0, max_value=MAX_STEPS)


@st.composite
def openings(draw: st.DrawFn) -> GameOpened:
    if draw(one_in(6)) and shipped_scenarios():
        # Now and then a shipped scenario, whose injects bring intelligence reports and an adversary.
        scenario = draw(st.sampled_from(shipped_scenarios()))
        return scenario.opening(seed=draw(st.integers(min_value=0, max_value=2**32)))
    # Rio twice as often: it is the only ruleset that votes.
    ruleset = draw(st.sampled_from((*sorted(RULESETS), "rio")))
    codes = draw(st.lists(st.sampled_from(MEMBER_POOL), min_size=3, max_size=8, unique=True))
    members = tuple(
        Member(code=code, cost_share=draw(st.integers(min_value=1, max_value=20)), neutral=draw(st.booleans()))
        for code in codes
    )
    # Mostly free play (no phases: every command at any time), sometimes a round structure to go through.
    phases = draw(st.sampled_from(((), (), (), DEFAULT_PHASES, OPEN_SESSION)))
    rounds = draw(st.integers(min_value=1, max_value=3)) if phases else 0
    return GameOpened(ruleset=ruleset, members=members, phases=phases, rounds=rounds)


@dataclass(frozen=True)
class Setting:
    """What the command strategies need to know of a game's opening (hashable: strategies are cached)."""

    members: tuple[str, ...]
    phases: tuple[str, ...]
    rounds: int
    templates: tuple[str, ...]
    procedures: tuple[Procedure, ...]
    """The council's procedures under the game's ruleset."""

    @classmethod
    def of(cls, opening: GameOpened) -> Setting:
        return cls(
            members=tuple(m.code for m in opening.members),
            phases=tuple(p.name for p in opening.phases),
            rounds=opening.rounds,
            templates=tuple(t.id for t in opening.exercise.catalogue),
            procedures=RULESETS[opening.ruleset].procedures,
        )


@cache
def plausible_tables(
    members: tuple[str, ...],
    procedure_choice: tuple[Procedure | None, ...] | None = None,
    ids: st.SearchStrategy[str] = proposal_ids,
) -> st.SearchStrategy[TableProposal]:
    """Tablings with the fields each kind needs, parties usually none: the rules often accept these."""
    return schema_checked(
        TableProposal,
        proposal=ids,
        kind=st.sampled_from((*get_args(ProposalKind), "invoke_collective_defence")),
        procedure=procedures if procedure_choice is None else st.sampled_from(procedure_choice),
        text=short_text,
        victim=st.sampled_from(members),
        attack=st.builds(Attack, kind=st.sampled_from(get_args(AttackKind)), attributed=st.booleans()),
        requirement=requirements,
        amount=amounts,
        parties=st.just(()) | st.lists(st.sampled_from(members), max_size=3).map(tuple),
    )


def weighted_choice(weighted: list[tuple[int, st.SearchStrategy[Command]]]) -> st.SearchStrategy[Command]:
    """One of the strategies, picked in proportion to its weight (cheaper to draw than a wide `one_of`)."""
    total = sum(weight for weight, _ in weighted)
    tickets = st.integers(min_value=0, max_value=total - 1)

    @st.composite
    def pick(draw: st.DrawFn) -> Command:
        ticket = draw(tickets)
        for weight, strategy in weighted:
            if ticket < weight:
                return draw(strategy)
            ticket -= weight
        raise AssertionError("unreachable: the tickets add up to the total")

    return pick()


@cache
def commands(setting: Setting) -> st.SearchStrategy[Command]:
    """Every command type, with fields valid for the schema but random in every other respect.

    Codes are mostly members (so that tabling sometimes succeeds) and sometimes non-members (so that it
    sometimes must not).  Tabling comes in two flavours: fully random, and plausible (the fields a kind
    needs are present, parties usually none), so that proposals get tabled, positioned on and closed.
    """
    members = setting.members
    code = st.sampled_from((*members, *members, *NON_MEMBERS))
    code_tuples = st.lists(code, max_size=4).map(tuple)
    random_table = schema_checked(
        TableProposal,
        proposal=proposal_ids,
        kind=st.sampled_from(get_args(ProposalKind)),
        procedure=procedures,
        text=short_text,
        victim=st.none() | code,
        attack=st.none() | attacks,
        requirement=st.none() | requirements,
        amount=st.none() | amounts,
        parties=code_tuples,
    )
    templates = st.sampled_from((*setting.templates, "no-such-inject"))
    phase_names = st.sampled_from((*setting.phases, "briefing", "nowhere"))
    weighted: list[tuple[int, st.SearchStrategy[Command]]] = [
        # council, collective defence, burden-sharing
        (1, st.builds(RequestConsultation, joined_by=code_tuples)),
        (2, st.builds(RequestConsultation, joined_by=st.lists(st.sampled_from(members), max_size=4).map(tuple))),
        (1, random_table),
        (3, plausible_tables(members)),
        (6, st.builds(Concur, proposal=proposal_ids)),
        (1, st.builds(RaiseObjection, proposal=proposal_ids)),
        (1, st.builds(ConcurWithReservation, proposal=proposal_ids, reservation=some_text)),
        (1, st.builds(BreakSilence, proposal=proposal_ids)),
        (5, st.builds(CastVote, proposal=proposal_ids, choice=choices)),
        (2, st.builds(CloseProposal, proposal=proposal_ids)),
        # Unilateral invocations are keyed by the victim's code, council ones by the proposal id.
        (1, st.builds(ConfirmAttribution, proposal=proposal_ids | code)),
        (1, st.builds(RequestAssistance)),
        (1, st.builds(InvokeCollectiveDefence, attack=attacks)),
        (2, st.builds(PledgeForces, proposal=proposal_ids, forces=st.integers(min_value=0))),
        # diplomacy
        (1, st.builds(SendMessage, to=code_tuples, text=some_text)),
        # To the white cell (alone, or wrongly among delegations).
        (1, st.builds(SendMessage, to=st.lists(code | st.just(CHAIR), max_size=3).map(tuple), text=some_text)),
        (1, st.builds(ProposeAction, text=some_text, result=short_text, reasons=short_text)),
        # white cell and server
        (1, st.builds(StartGame, at=clock)),
        (1, st.builds(PauseGame, at=clock)),
        (1, st.builds(ResumeGame, at=clock)),
        (1, st.builds(ExtendPhase, seconds=st.floats(min_value=1, max_value=86_400))),
        (1, st.builds(SetRounds, rounds=st.integers(min_value=1, max_value=5))),
        (1, st.builds(EndWhenDone, on=st.booleans(), at=clock)),
        (
            2,
            st.builds(
                DeclareDone,
                round=st.integers(min_value=0, max_value=3),
                phase=phase_names,
                done=st.booleans(),
                at=clock,
            ),
        ),
        (3, st.builds(RewindGame, to_seq=st.integers(min_value=1, max_value=8), note=some_text)),
        (
            2,
            st.builds(AdvancePhase, from_round=st.integers(min_value=0, max_value=3), from_phase=phase_names, at=clock),
        ),
        (
            1,
            st.builds(
                DeliverInject,
                template=st.none() | templates,
                title=short_text,
                text=short_text,
                kind=st.sampled_from(get_args(InjectKind)),
                visible_to=st.none() | code_tuples,
            ),
        ),
        (1, st.builds(Broadcast, text=some_text)),
        (1, st.builds(HoldMselLine, number=st.integers(1, 4), held=st.booleans())),
        (
            1,
            st.builds(
                RuleOnAction,
                action=st.sampled_from(("A1", "A2", "A3")),
                ruling=st.sampled_from(get_args(Ruling)),
                note=short_text,
            ),
        ),
        (
            1,
            st.builds(
                RollForAction,
                action=st.sampled_from(("A1", "A2", "A3")),
                strength=st.sampled_from(get_args(Strength)),
                note=short_text,
            ),
        ),
        (
            1,
            st.builds(
                ClaimSeat, seat=seat_ids, role=st.sampled_from(get_args(Role)), member=st.none() | code, player=players
            ),
        ),
        (1, st.builds(ReassignSeat, seat=seat_ids, player=players)),
        (1, st.builds(AppointHead, seat=seat_ids)),
        (1, st.builds(ReleaseSeat, seat=seat_ids)),
        # intelligence and the adversary
        (2, st.builds(ShareIntelligence, report=report_ids, to=st.lists(code, min_size=1, max_size=3).map(tuple))),
        (1, st.builds(OfferSharing, partner=code)),
        (1, st.builds(AdversaryMove, change=st.sampled_from((-1, 0, 1)), inject=st.none() | templates)),
        # the hotwash
        (
            1,
            st.builds(
                RecordObservation,
                text=some_text,
                member=st.none() | code,
                about_seq=st.none() | st.integers(min_value=1, max_value=MAX_STEPS * 3),
            ),
        ),
        (
            1,
            st.builds(
                RateCapability, capability=capabilities, rating=st.sampled_from(get_args(Rating)), reason=some_text
            ),
        ),
        (
            1,
            st.builds(
                PlanCorrectiveAction,
                item=st.none() | items,
                capability=capabilities,
                issue=short_text,
                action=some_text,
                responsible=some_text,
                start=st.none() | dates,
                completion=st.none() | dates,
            ),
        ),
        (1, st.builds(DropCorrectiveAction, item=items)),
        (2, st.builds(GiveFeedback, rating=st.integers(1, 5), went_well=short_text, to_improve=short_text)),
    ]
    # Ending the game refuses everything after it: rare, so that games mostly go on being played.
    ending = st.builds(EndGame, reason=short_text)
    return weighted_choice([(3 * weight, strategy) for weight, strategy in weighted] + [(1, ending)])


# What each member does in a council round, by the procedure the round is played as (which may not be the
# proposal's: then the rules refuse the positions as being under the wrong procedure).  A move makes the
# command from the proposal id and a number of forces; None is a member who stays silent.
Move = Callable[[str, int], Command] | None


def _concur(p: str, _: int) -> Command:
    return Concur(proposal=p)


def _object(p: str, _: int) -> Command:
    return RaiseObjection(proposal=p)


def _reserve(p: str, _: int) -> Command:
    return ConcurWithReservation(proposal=p, reservation="subject to parliamentary approval")


def _yes(p: str, _: int) -> Command:
    return CastVote(proposal=p, choice="yes")


def _no(p: str, _: int) -> Command:
    return CastVote(proposal=p, choice="no")


def _abstain(p: str, _: int) -> Command:
    return CastVote(proposal=p, choice="abstain")


def _break_silence(p: str, _: int) -> Command:
    return BreakSilence(proposal=p)


def _pledge(p: str, forces: int) -> Command:
    return PledgeForces(proposal=p, forces=forces)


ROUND_MOVES: dict[str, st.SearchStrategy[Move]] = {
    "consensus": st.sampled_from([_concur] * 6 + [_object, _reserve, None]),
    "silence": st.sampled_from([None] * 8 + [_break_silence]),
    "pledges": st.sampled_from([_pledge] * 3 + [None]),
}
# As many yes as the round draws: some votes near the two-thirds threshold, some far from it.
VOTE_MOVES: tuple[st.SearchStrategy[Move], ...] = tuple(
    st.sampled_from([_yes] * yes + [_no, _no, _abstain, None]) for yes in range(2, 21, 2)
)


@cache
def council_rounds(
    members: tuple[str, ...], council_procedures: tuple[Procedure, ...]
) -> st.SearchStrategy[list[Step]]:
    """Mostly a tabling, then every member in turn acts on the proposal, then (mostly) the chair closes it.

    Independent random steps hardly ever gather every member's position before a close; rounds do, so
    that adopted proposals, pledges against them and invocations by council decision get played too.
    """
    tablers = st.sampled_from((CHAIR, *members))
    # Mostly the chair closes; sometimes the server or a member tries to (and must be refused).
    closers = st.sampled_from((CHAIR,) * 8 + (SYSTEM, members[0]))
    orders = st.permutations(members)
    # Rounds are mostly played under a procedure the council has (now and then under one it has not), on
    # any of the proposal ids: each id is tabled once, so tabling in rounds uses the whole pool.
    modes = st.sampled_from((*council_procedures, *council_procedures, "pledges", *get_args(Procedure)))
    any_id = st.sampled_from(PROPOSAL_IDS)
    tables = {mode: plausible_tables(members, (mode, mode, None), any_id) for mode in get_args(Procedure)}

    @st.composite
    def council_round(draw: st.DrawFn) -> list[Step]:
        mode = draw(modes)
        moves = draw(st.sampled_from(VOTE_MOVES)) if mode == "vote" else ROUND_MOVES[mode]
        round_steps: list[Step] = []
        if mode != "pledges" and not draw(one_in(4)):
            tabled = draw(tables[cast(Procedure, mode)])
            round_steps.append((draw(tablers), tabled))
            proposal = tabled.proposal
        else:
            proposal = draw(proposal_ids)
        for member in draw(orders):
            move = draw(moves)
            if move is not None:
                round_steps.append((member, move(proposal, draw(pledged_forces))))
        if mode != "pledges":
            round_steps.append((draw(closers), CloseProposal(proposal=proposal)))
            if draw(st.booleans()):  # an invocation the close adopted may be conditional on attribution
                round_steps.append((draw(tablers), ConfirmAttribution(proposal=proposal)))
        return round_steps

    return council_round()


@cache
def phase_walks(phases: tuple[str, ...], rounds: int) -> st.SearchStrategy[list[Step]]:
    """The white cell advancing through consecutive phases from one it names, as the server would."""
    starts = st.tuples(st.integers(min_value=1, max_value=max(1, rounds)), st.integers(0, len(phases) - 1))
    walk_lengths = st.integers(min_value=1, max_value=len(phases) + 1)

    @st.composite
    def walk(draw: st.DrawFn) -> list[Step]:
        steps: list[Step] = []
        round_, index = draw(starts)
        for _ in range(draw(walk_lengths)):
            steps.append((CHAIR, AdvancePhase(from_round=round_, from_phase=phases[index], at=draw(clock))))
            index = (index + 1) % len(phases)
            round_ += index == 0
        return steps

    return walk()


@cache
def sharing_rounds(members: tuple[str, ...]) -> st.SearchStrategy[list[Step]]:
    """Every member in turn shares a report (its own, if the id drawn is one of its own) with others.

    An inject's reports are numbered in the order of the members, so a member's guess at its own report
    is often right, and sometimes names another member's.
    """
    recipients = st.lists(st.sampled_from(members), min_size=1, max_size=3).map(tuple)
    guesses = {
        member: st.sampled_from((f"R{index}", f"R{index + len(members)}")) | report_ids
        for index, member in enumerate(members, start=1)
    }

    @st.composite
    def sharing_round(draw: st.DrawFn) -> list[Step]:
        return [
            (member, ShareIntelligence(report=draw(guesses[member]), to=draw(recipients)))
            for member in draw(st.permutations(members))
        ]

    return sharing_round()


@cache
def chunks(setting: Setting) -> st.SearchStrategy[list[Step]]:
    """A single (actor, command) step, a council round, an outsider's burst of commands, or (in phased
    games) a walk through phases, or (with injects) a round of intelligence sharing."""
    members = setting.members
    anyone = st.sampled_from((*members, *members, *NON_MEMBERS, CHAIR, RED_CELL, OBSERVER, UMPIRE))
    # What a cell does mostly comes from that cell, and sometimes from anyone.
    white_cell = st.sampled_from((CHAIR, CHAIR, SYSTEM)) | anyone
    server = st.sampled_from((SYSTEM, SYSTEM, SYSTEM, CHAIR)) | anyone
    red_cell = st.sampled_from((RED_CELL, RED_CELL, RED_CELL, CHAIR)) | anyone
    note_takers = st.sampled_from(NOTE_TAKERS) | anyone
    evaluators = st.sampled_from(EVALUATORS) | anyone
    command_strategy = commands(setting)

    @st.composite
    def single_step(draw: st.DrawFn) -> list[Step]:
        command = draw(command_strategy)
        if isinstance(command, SERVER_ONLY):
            actors = server
        elif isinstance(command, RED_CELL_ONLY):
            actors = red_cell
        elif isinstance(command, OBSERVERS_ONLY):
            actors = note_takers
        elif isinstance(command, EVALUATORS_ONLY):
            actors = evaluators
        else:
            actors = white_cell if isinstance(command, CHAIR_WORK) else anyone
        return [(draw(actors), command)]

    # Someone who is not a member (an outsider, a cell, an observer) trying several commands in a row:
    # among uniformly drawn actors and commands, each such pairing is too rare to be tried often enough.
    outsiders = st.sampled_from((*NON_MEMBERS, RED_CELL, OBSERVER, UMPIRE, SYSTEM, CHAIR))
    burst_lengths = st.integers(min_value=1, max_value=5)

    @st.composite
    def outsider_burst(draw: st.DrawFn) -> list[Step]:
        actor = draw(outsiders)
        return [(actor, draw(command_strategy)) for _ in range(draw(burst_lengths))]

    single = single_step()
    options = [single, single, single, council_rounds(members, setting.procedures), outsider_burst()]
    if setting.phases:
        options.append(phase_walks(setting.phases, setting.rounds))
    if setting.templates:  # injects with evidence bring intelligence reports to share
        options.append(sharing_rounds(members))
    return st.one_of(options)


@st.composite
def games(draw: st.DrawFn) -> Game:
    opening = draw(openings())
    setting = Setting.of(opening)
    # Draw the length first: left to itself, `st.lists` keeps most games to a handful of steps.
    length = draw(lengths)
    steps: list[Step] = []
    if setting.phases and not draw(one_in(4)):
        # Mostly started at once and moved on to one of the first round's phases, so that play gets going.
        steps.append((CHAIR, StartGame(at=draw(clock))))
        for name in setting.phases[: draw(st.integers(min_value=0, max_value=len(setting.phases) - 1))]:
            steps.append((CHAIR, AdvancePhase(from_round=1, from_phase=name, at=draw(clock))))
    chunk = chunks(setting)
    while len(steps) < length:
        steps.extend(draw(chunk))
    return Game(opening=opening, steps=tuple(steps[:length]))


# --- playing -----------------------------------------------------------------------------------------


def _seat_of(seats: Mapping[str, Seat], actor: str) -> str | None:
    """The seat a command of `actor`'s is sent from: one of its own, or else, seats being rare in these games, any
    (the feedback form reads the seat, not the actor)."""
    role = {CHAIR: "facilitator", RED_CELL: "red_cell", OBSERVER: "observer", UMPIRE: "umpire"}.get(actor, "delegation")
    member = actor if role == "delegation" else None
    own = (k for k, s in seats.items() if (s.role, s.member) == (role, member))
    return next(own, next(iter(seats), None))


def play(game: Game) -> Played:
    """Play every step through `decide`, folding the events of what it accepts."""
    played = Played(state=evolve(State(), game.opening))
    for actor, command in game.steps:
        status, phase = played.state.status, played.state.phase
        # A feedback form is each seat's own: it is sent from a seat of the actor's, where one is claimed.
        seats = dict(played.state.seats) if isinstance(command, GiveFeedback) else {}
        seat = _seat_of(seats, actor) if isinstance(command, GiveFeedback) else None
        decision = decide(played.state, command, actor, seat)
        played.steps.append(PlayedStep(actor, command, decision, status, phase, seats))
        if isinstance(decision, Refusal):
            continue
        for event in decision:
            played.state = fold(played.state, event, [game.opening, *played.events])
            played.events.append(event)
    return played


def _json_round_trip(event: Event) -> Event:
    return EVENT_ADAPTER.validate_json(EVENT_ADAPTER.dump_json(event))


# --- properties --------------------------------------------------------------------------------------


def test_every_command_type_is_generated() -> None:
    """The games below draw from every command the rules know; a new command needs a strategy here."""
    union = get_args(get_args(Command)[0])
    covered = {*CHAIR_WORK, *MEMBERS_ONLY, *RED_CELL_ONLY, *HOTWASH}
    assert set(union) == covered, f"not generated: {set(union) - covered}; unknown: {covered - set(union)}"


@settings(max_examples=150, deadline=None)
@given(games())
def test_replay_of_the_log_rebuilds_the_live_state(game: Game) -> None:
    played = play(game)
    live = state_hash(played.state)
    assert played.state.seq == 1 + len(played.events)

    replayed = replay([game.opening, *played.events])
    assert state_hash(replayed) == live

    wire = [_json_round_trip(event) for event in [game.opening, *played.events]]
    assert wire == [game.opening, *played.events], "an event changed on a JSON round trip"
    assert state_hash(replay(wire)) == live

    snapshot = State.model_validate_json(played.state.model_dump_json())
    assert state_hash(snapshot) == live


@settings(max_examples=150, deadline=None)
@given(games())
def test_decide_is_read_only_and_refusals_are_explained(game: Game) -> None:
    state = evolve(State(), game.opening)
    log: list[Event] = [game.opening]
    for actor, command in game.steps:
        before = state_hash(state)
        decision = decide(state, command, actor)
        assert state_hash(state) == before, f"decide changed the state: {actor} {command!r} -> {decision!r}"
        if isinstance(decision, Refusal):
            assert decision.code.strip(), decision
            assert decision.reason.strip(), decision
            continue  # a refused command has no events: nothing is folded
        assert isinstance(decision, tuple), decision
        assert decision, f"{actor} {command!r} was accepted but caused no event"
        seq = state.seq
        for event in decision:
            state = fold(state, event, log)
            log.append(event)
        assert state.seq == seq + len(decision)


@settings(max_examples=250, deadline=None)
@given(games())
def test_only_members_hold_positions_and_outcomes_follow_the_record(game: Game) -> None:
    played = play(game)
    state = played.state
    members = set(game.members)
    rules = RULESETS[game.opening.ruleset]
    assert set(state.members) == members
    # A closing a rewind took back does not count: the review says which events stand.
    entries = review(enumerate([game.opening, *played.events], start=1)).entries
    closed = {
        e.proposal
        for e, entry in zip(played.events, entries[1:], strict=True)
        if isinstance(e, ProposalClosed) and not entry.undone
    }

    for consultation in state.consultations.values():
        assert consultation.requested_by in members, consultation
        assert set(consultation.joined_by) <= members, consultation
    assert set(state.assistance_requested_by) <= members
    for seat in state.seats.values():
        assert (seat.member in members) if seat.role == "delegation" else seat.member is None, seat
    for message in state.messages:
        assert message.sender in {*members, CHAIR} and message.recipients, message
        # To other members, or to its own delegation alone (an internal message), or between one member and the white
        # cell, never a mix of these.
        assert (
            message.internal or message.recipients == (CHAIR,) or set(message.recipients) <= members - {message.sender}
        ), message
    for inject in state.injects:
        assert inject.visible_to is None or set(inject.visible_to) <= members, inject
    for action in state.actions.values():
        assert action.member in members, action
    for report in state.reports.values():
        assert report.owner in members and set(report.shared_with) <= members - {report.owner}, report
    for pair in (*state.sharing_offers, *state.sharing_agreements):
        assert set(pair) <= members and pair[0] != pair[1], pair
    for note in state.observations:
        assert note.by in NOTE_TAKERS and (note.member is None or note.member in members), note
        assert 1 <= note.about_seq <= state.seq, note
    for name, rating in state.ratings.items():
        assert name in CAPABILITIES and rating.by in EVALUATORS and rating.reason.strip(), (name, rating)
    for item, row in state.improvement_plan.items():
        assert row.item == item and row.capability in CAPABILITIES and row.by in EVALUATORS, row
        assert row.action.strip() and row.responsible.strip(), row
        assert row.start is None or row.completion is None or row.start <= row.completion, row
    assert list(state.improvement_plan) == [f"CA{n}" for n in range(1, len(state.improvement_plan) + 1)]

    for p in state.proposals.values():
        assert set(p.positions) <= members, p
        assert set(p.votes) <= members, p
        assert set(p.pledges) <= members, p
        assert set(p.silence_broken_by) <= members, p
        assert set(p.reservations) <= members, p
        assert set(p.reservations) <= {m for m, stance in p.positions.items() if stance == "reserve"}, p
        assert set(p.parties) <= members, p
        assert not set(p.votes) & set(p.parties), p
        assert p.procedure in rules.procedures, p
        assert p.kind in rules.proposal_kinds, p
        assert (p.outcome != "pending") == (p.id in closed), p

        if p.outcome == "pending":
            continue
        if p.procedure == "vote":
            entitled = members - set(p.parties)
            yes = sum(1 for m, choice in p.votes.items() if choice == "yes" and m in entitled)
            num, den = rules.vote_threshold
            adopted = bool(entitled) and Fraction(yes, len(entitled)) >= Fraction(num, den)
            assert p.outcome == ("adopted" if adopted else "rejected"), p
        elif p.procedure == "consensus":
            objected = "object" in p.positions.values()
            assert (p.outcome == "blocked") == objected, p
            assert (p.outcome == "adopted") == (not objected and members <= set(p.positions)), p
            assert p.outcome in ("adopted", "blocked", "no_consensus"), p
        else:
            assert p.outcome == ("silence_broken" if p.silence_broken_by else "adopted"), p

        if p.pledges:
            assert p.kind == "deploy_forces" and p.outcome == "adopted", p


@settings(max_examples=120, deadline=None)
@given(games())
def test_the_same_commands_give_the_same_game(game: Game) -> None:
    first = play(game)
    second = play(game)
    assert second.events == first.events
    assert state_hash(second.state) == state_hash(first.state)
    assert [s.decision for s in second.steps] == [s.decision for s in first.steps]


@settings(max_examples=120, deadline=None)
@given(games(), st.data())
def test_a_rewind_brings_back_the_moment_it_names(game: Game, data: st.DataObject) -> None:
    """Whatever was played, a rewind to any earlier event gives that moment's state, less what cannot be undone
    (seats, what was said, the evaluators' ratings and plan) and the clock; and the log with the rewind replays to
    the live state."""
    played = play(game)
    if played.state.seq < 2:
        return
    log = [game.opening, *played.events]
    moment = data.draw(st.integers(min_value=1, max_value=played.state.seq - 1), label="to_seq")
    decision = decide(played.state, RewindGame(to_seq=moment, note="a ruling"), CHAIR)
    assert not isinstance(decision, Refusal), decision
    now = played.state.model_copy(deep=True)
    state = played.state
    for event in decision:
        state = fold(state, event, log)
        log.append(event)
    earlier = replay(log[:moment])
    hotwash = {"observations", "ratings", "improvement_plan", "feedback"}
    kept = {"seats", "messages", "announcements", *hotwash, "status", "deadline", "paused_remaining", "seq"}
    assert state.model_dump(exclude=kept) == earlier.model_dump(exclude=kept)
    assert (state.seats, state.messages) == (now.seats, now.messages)
    assert state.model_dump(include=hotwash) == now.model_dump(include=hotwash)
    assert state.announcements[:-1] == now.announcements
    before_the_start = earlier.status == "lobby" or earlier.phase is None
    assert state.status == ("running" if not state.phases else "lobby" if before_the_start else "paused")
    assert state_hash(replay(log)) == state_hash(state)


@settings(max_examples=180, deadline=None)
@given(games())
def test_who_may_act_and_when(game: Game) -> None:
    played = play(game)
    phases = {p.name: p for p in game.opening.phases}
    ended = False
    for step in played.steps:
        actor, command, decision = step.actor, step.command, step.decision
        accepted = not isinstance(decision, Refusal)
        what = f"{actor} {command!r} -> {decision!r}"
        if actor in NON_MEMBERS:
            assert not accepted, f"a non-member was heard: {what}"
        if isinstance(command, CloseProposal) and actor != CHAIR:
            assert not accepted, f"a proposal was closed by someone other than the chair: {what}"
        if isinstance(command, WHITE_CELL_ONLY) and actor not in WHITE_CELL:
            assert not accepted, f"a player did the white cell's work: {what}"
        if isinstance(command, SERVER_ONLY) and actor != SYSTEM:
            assert not accepted, f"a seat was claimed outside the lobby: {what}"
        if isinstance(command, RED_CELL_ONLY) and actor != RED_CELL:
            assert not accepted, f"someone other than the red cell moved the adversary: {what}"
        if isinstance(command, SendMessage) and actor == CHAIR and isinstance(decision, tuple):
            # The white cell writes in its channel with the delegations it names; to every seat it broadcasts.
            (sent,) = decision
            assert isinstance(sent, MessageSent) and sent.message.sender == CHAIR, what
            assert sent.message.recipients and set(sent.message.recipients) <= set(played.state.members), what
        elif isinstance(command, MEMBERS_ONLY) and actor in (*WHITE_CELL, RED_CELL, OBSERVER, UMPIRE):
            assert not accepted, f"a cell or an observer acted as a member: {what}"
        if isinstance(command, OBSERVERS_ONLY) and actor not in NOTE_TAKERS:
            assert not accepted, f"a hotwash note from someone who does not take notes: {what}"
        if isinstance(command, EVALUATORS_ONLY) and actor not in EVALUATORS:
            assert not accepted, f"a rating or a plan from someone who does not evaluate: {what}"
        if actor == OBSERVER and not isinstance(command, OBSERVERS_ONLY + FEEDBACK):
            assert not accepted, f"an observer did more than observe: {what}"
        if isinstance(command, FEEDBACK) and accepted:
            assert step.status == "ended", f"feedback before the end: {what}"
            (given,) = decision
            assert isinstance(given, FeedbackGiven) and given.seat == _seat_of(step.seats, actor), what
        if actor == UMPIRE and not isinstance(command, HOTWASH):
            assert not accepted, f"an umpire did more than observe and evaluate: {what}"
        if ended and not isinstance(command, SERVER_ONLY + HOTWASH + (RewindGame,)):
            assert not accepted, f"play went on after the end: {what}"
        if phases and actor not in WHITE_CELL and accepted and not isinstance(command, HOTWASH):
            assert step.status == "running", f"accepted while the game was {step.status}: {what}"
            assert step.phase is not None, what
            assert command.type in {*phases[step.phase].allows, *EVERY_PHASE_COMMANDS}, f"out of phase: {what}"
        if isinstance(decision, tuple) and any(isinstance(e, GameEnded) for e in decision):
            ended = True
        if isinstance(decision, tuple) and any(isinstance(e, GameRewound) for e in decision):
            ended = False  # the white cell turned play back to before the end


def test_the_schema_keeps_non_finite_numbers_out_of_the_log() -> None:
    """JSON has no infinity: a command carrying one would be logged as null and replay differently."""
    with pytest.raises(ValidationError):
        COMMAND_ADAPTER.validate_json(
            '{"type": "table_proposal", "proposal": "P1", "kind": "common_funding", "amount": 1e999}'
        )
    with pytest.raises(ValidationError):
        Member(code="USA", cost_share=float("inf"))
