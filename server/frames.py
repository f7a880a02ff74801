"""What a seat's socket is told about its game: each event, its whole view when it joins, and after every batch
of events an update holding only what changed in its view.

An update is `{"type": "update", "seq": N, "set": {section: value}, "append": {log: [records]}}`: the sections
whose value changed replace the seat's, and the logs (messages, injects, announcements, observations: they only
grow) get their new records at the end.  So a push costs what changed, not the length of the game: a view holds
every message its seat may read, and a seminar's runs to hundreds.  `updated` is what a client does with one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import chain
from typing import Any

from pydantic_core import to_json

from game_rules import State
from game_rules.events import Event
from game_rules.views import LOG_ONLY, MemberRecords, Viewer, common_view, logs, own_view


def event_frame(seq: int, payload: str | None) -> str:
    return f'{{"type":"event","seq":{seq},"event":{payload if payload is not None else "null"}}}'


def presence_frame(seats: Iterable[str]) -> str:
    """The seats connected to the game now, on any server process of the deployment."""
    return f'{{"type":"presence","connected":{to_json(sorted(seats)).decode()}}}'


def storage_frame(refused: str | None) -> str:
    """Whether the game's database writes (`refused` None) or refuses, with its reason in the player's words."""
    if refused is None:
        return '{"type":"storage","writing":true}'
    return f'{{"type":"storage","writing":false,"reason":{to_json(refused).decode()}}}'


def updated(view: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """The view an update frame brings `view` to (a new one: `view` is left as it was)."""
    result = {**view, **update["set"]}
    for log, records in update["append"].items():
        result[log] = [*view[log], *records]
    return result


def _serialised(sections: Mapping[str, Any]) -> dict[str, str]:
    # pydantic-core serialises the state's records straight from the models (see game_rules/views.py).
    return {name: to_json(value).decode() for name, value in sections.items()}


def _object(sections: Iterable[tuple[str, str]]) -> str:
    """A JSON object of serialised sections (their names are identifiers: nothing to escape)."""
    return "{" + ",".join(f'"{name}":{text}' for name, text in sections) + "}"


def view_frame(state: State, viewer: Viewer) -> str:
    """The viewer's whole view, for a socket that joins."""
    whole = {**common_view(state), **own_view(state, viewer), **logs(state, viewer)}
    return f'{{"type":"view","seq":{state.seq},"view":{to_json(whole).decode()}}}'


class Shown:
    """What the sockets of one game were last sent, so that an update carries only the difference: the common
    sections as serialised (the same for every viewer), and each viewer's own sections.  Every socket of a game is
    brought to the same seq after every batch, so what one viewer was shown of the common part, all were.  The logs
    need nothing kept: the state's log lengths before a batch say where each seat's copy ends.

    Nothing is kept for a socket that has only had its whole view (its first update has every section), so a game
    whose sockets are idle since they joined holds no frames."""

    def __init__(self) -> None:
        self._common: dict[str, str] = {}
        self._own: dict[str, dict[str, str]] = {}

    def update_frames(
        self, state: State, viewers: Iterable[Viewer], since: Mapping[str, int], batch: Sequence[Event] = ()
    ) -> dict[str, str]:
        """An update frame per viewer key, from what was shown to `state`; `since` is the log lengths before the
        batch, `batch` its events.  Viewers not named are forgotten (no socket of theirs is left)."""
        viewers = list(viewers)
        if batch and all(isinstance(e, LOG_ONLY) for e in batch) and all(v.key() in self._own for v in viewers):
            # Only logs grew, and every viewer was shown the rest: its sections need not be made again to be
            # compared, nor its members' scores worked out.
            self._common["seq"] = seq = str(state.seq)
            self._own = {v.key(): self._own[v.key()] for v in viewers}
            return {v.key(): self._frame(state, v, since, [("seq", seq)]) for v in viewers}
        common = _serialised(common_view(state))
        changed = [(name, text) for name, text in common.items() if self._common.get(name) != text]
        self._common = common
        frames: dict[str, str] = {}
        own_shown: dict[str, dict[str, str]] = {}
        records = MemberRecords(state)
        for viewer in viewers:
            key = viewer.key()
            own = own_shown[key] = _serialised(own_view(state, viewer, records))
            before = self._own.get(key)
            if before is None:  # it joined since the last batch, shown a state now gone: every section
                new = chain(common.items(), own.items())
            else:
                new = chain(changed, ((name, text) for name, text in own.items() if before.get(name) != text))
            frames[key] = self._frame(state, viewer, since, new)
        self._own = own_shown
        return frames

    @staticmethod
    def _frame(state: State, viewer: Viewer, since: Mapping[str, int], new: Iterable[tuple[str, str]]) -> str:
        tails = ((log, to_json(records).decode()) for log, records in logs(state, viewer, since).items() if records)
        return f'{{"type":"update","seq":{state.seq},"set":{_object(new)},"append":{_object(tails)}}}'

    def forget(self) -> None:
        """Nothing shown to build on (no socket left: an idle game holds no frames; or each was sent its whole
        view): each viewer's next update carries every section."""
        self._common, self._own = {}, {}
