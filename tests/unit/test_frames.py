"""A seat's frames: its whole view on joining, then updates that carry only what changed, which applied in turn give
exactly the view the seat would be sent whole."""

from __future__ import annotations

import json

import pytest

from game_rules import State, evolve
from game_rules.events import Event
from game_rules.state import CHAIR
from game_rules.views import LOG_ONLY, LOGS, common_view, log_lengths, logs, own_view, view
from server import scenarios
from server.frames import Shown, updated, view_frame
from tests.unit.scripted import ScriptedGame, every_viewer

SHIPPED = scenarios.builtin()


class ChattyGame(ScriptedGame):
    """The scripted game, with every log growing in each deliberation: messages to all and to one, an announcement
    and a hotwash observation."""

    def _deliberation(self) -> None:
        first, second, third = list(self.state.members)[:3]
        r = self.state.round
        for actor, command in (
            (first, {"type": "send_message", "text": f"To all, round {r}"}),
            (second, {"type": "send_message", "to": [third], "text": f"To {third} alone, round {r}"}),
            (CHAIR, {"type": "broadcast", "text": f"Press line, round {r}"}),
            (CHAIR, {"type": "record_observation", "text": f"Slow start, round {r}", "member": first}),
        ):
            assert self.do(actor, command), self.refusals[-1]
        super()._deliberation()


def batches(log: list[Event]) -> list[list[Event]]:
    """The log after its opening in batches of one, two and three events in turn (a command's events come as one)."""
    out, at, size = [], 1, 1
    while at < len(log):
        out.append(log[at : at + size])
        at, size = at + size, size % 3 + 1
    return out


@pytest.mark.parametrize("scenario_id", sorted(SHIPPED))
def test_updates_bring_every_seat_to_the_view_it_would_be_sent_whole(scenario_id: str) -> None:
    game = ChattyGame(SHIPPED[scenario_id], seed=20261122)
    game.play()
    state = evolve(State(), game.log[0])
    seats = every_viewer(state)
    late = seats.pop()  # one seat joins half way through: the others' updates go on from what they were shown
    shown = Shown()
    views = {seat.key(): json.loads(view_frame(state, seat))["view"] for seat in seats}
    grown = dict.fromkeys(LOGS, 0)
    work = batches(game.log)
    for n, batch in enumerate(work):
        if n == len(work) // 2:
            seats.append(late)
            views[late.key()] = json.loads(view_frame(state, late))["view"]
        before = log_lengths(state)
        for event in batch:
            state = evolve(state, event)
        frames = shown.update_frames(state, seats, before, batch)
        assert set(frames) == {seat.key() for seat in seats}
        for seat in seats:
            update = json.loads(frames[seat.key()])
            if n in (0, len(work) // 2) and (n == 0 or seat == late):  # a first update after joining: every section
                assert set(update["set"]) == set(common_view(state)) | set(own_view(state, seat))
            assert update["type"] == "update" and update["seq"] == state.seq
            views[seat.key()] = updated(views[seat.key()], update)
            assert views[seat.key()] == view(state, seat), f"{seat.key()} after seq {state.seq}"
            for log in update["append"]:
                grown[log] += 1
    assert all(grown.values()), f"a log never grew, so its updates went untested: {grown}"


def test_a_message_updates_the_seq_and_adds_itself_to_its_addressees_messages_alone() -> None:
    game = ChattyGame(SHIPPED["baltic-hybrid"], seed=1)
    game.play()
    state = evolve(State(), game.log[0])
    seats = every_viewer(state)
    shown = Shown()
    messages = 0
    for event in game.log[1:]:
        before = log_lengths(state)
        state = evolve(state, event)
        frames = shown.update_frames(state, seats, before, [event])
        if event.type != "message_sent":
            continue
        messages += 1
        message = state.messages[-1]
        for seat in seats:
            update = json.loads(frames[seat.key()])
            assert update["set"] == {"seq": state.seq}, "a message changed nothing else"
            addressee = seat.omniscient or seat.member in (message.sender, *message.recipients)
            expected = {"messages": [message.model_dump(mode="json")]} if addressee else {}
            assert update["append"] == expected, seat.key()
    assert messages >= 2


def test_the_parts_of_a_view_share_no_section_and_logs_from_nothing_are_the_whole_logs() -> None:
    game = ChattyGame(SHIPPED["grid-cyber"], seed=3)
    state = game.play()
    for seat in every_viewer(state):
        common, own, every_log = common_view(state), own_view(state, seat), logs(state, seat)
        assert not (common.keys() & own.keys()) and not ((common.keys() | own.keys()) & every_log.keys())
        assert set(every_log) == set(LOGS)
        assert logs(state, seat, dict.fromkeys(LOGS, 0)) == every_log
        assert logs(state, seat, log_lengths(state)) == {log: [] for log in LOGS}


@pytest.mark.parametrize("scenario_id", sorted(SHIPPED))
def test_the_events_updates_take_for_log_only_change_nothing_but_their_log(scenario_id: str) -> None:
    """Updates after a batch of `LOG_ONLY` events make no section again: were one of them to change anything else
    in the state, seats would be left with a stale view."""
    game = ChattyGame(SHIPPED[scenario_id], seed=7)
    game.play()
    state = evolve(State(), game.log[0])
    seen: set[str] = set()
    for event in game.log[1:]:
        if not isinstance(event, LOG_ONLY):
            state = evolve(state, event)
            continue
        before = state.model_dump(exclude={"seq"})
        state = evolve(state, event)
        after = state.model_dump(exclude={"seq"})
        grown = {log for log in LOGS if before[log] != after[log]}
        assert len(grown) == 1 and len(after[log := grown.pop()]) == len(before[log]) + 1, event.type
        assert {k: v for k, v in after.items() if k != log} == {k: v for k, v in before.items() if k != log}
        seen.add(event.type)
    assert seen == {e.model_fields["type"].default for e in LOG_ONLY}, f"not every log-only event was played: {seen}"
