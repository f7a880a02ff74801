"""The scenarios a server offers: those shipped with the package, and an institution's own library, a folder of
scenario files (`wargame serve --scenarios DIR`) read again whenever a file in it changes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from game_rules.scenario import Scenario, ScenarioError, parse_scenario

log = logging.getLogger("wargame.scenarios")

SUFFIXES = (".yaml", ".yml")
FIRST_GAME = "baltic-demo"
"""The shipped scenario for a group's first game (short phases, six delegations): `wargame demo` plays it, and
the lists of scenarios name it first, so that the lobby offers it before the others."""


@lru_cache(maxsize=1)
def builtin() -> dict[str, Scenario]:
    """The shipped scenarios, `FIRST_GAME` first, then by id."""
    folder = resources.files("game_rules") / "scenarios"
    found = (parse_scenario(f.read_text(encoding="utf-8")) for f in folder.iterdir() if f.name.endswith(".yaml"))
    return {s.id: s for s in sorted(found, key=lambda s: (s.id != FIRST_GAME, s.id))}


@dataclass(frozen=True)
class _Read:
    scenario: Scenario | None
    problems: tuple[str, ...]


class Library:
    """The shipped scenarios and the files of `folder` (none: the shipped ones only).  A file that cannot be played
    is left out, and its problems logged once per version of the file; so is one whose id another already has."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder else None
        self._read: dict[Path, tuple[float, _Read]] = {}
        self._clashes: set[tuple[Path, float]] = set()
        """Files whose id another scenario has, by version: each is logged once."""

    def all(self) -> dict[str, Scenario]:
        found = dict(builtin())
        for path, read in self._files():
            if read.scenario is None:
                continue
            if read.scenario.id in found:
                version = (path, self._read[path][0])
                if version not in self._clashes:
                    self._clashes.add(version)
                    log.warning("scenario file %s left out: the id %r is already taken", path, read.scenario.id)
                continue
            found[read.scenario.id] = read.scenario
        return found

    def get(self, scenario_id: str) -> Scenario | None:
        return self.all().get(scenario_id)

    def _files(self) -> list[tuple[Path, _Read]]:
        if self.folder is None:
            return []
        try:
            paths = sorted(p for p in self.folder.iterdir() if p.suffix in SUFFIXES and p.is_file())
        except OSError as error:
            log.warning("the scenario library %s cannot be read: %s", self.folder, error)
            return []
        read = [(path, self._file(path)) for path in paths]
        self._read = {path: self._read[path] for path, _ in read if path in self._read}
        return read

    def _file(self, path: Path) -> _Read:
        try:
            changed = path.stat().st_mtime
        except OSError:
            return _Read(None, ("the file is gone",))
        known = self._read.get(path)
        if known is not None and known[0] == changed:
            return known[1]
        try:
            read = _Read(parse_scenario(path.read_text(encoding="utf-8")), ())
        except (OSError, UnicodeDecodeError) as error:
            read = _Read(None, (f"cannot be read: {error}",))
        except ScenarioError as error:
            read = _Read(None, tuple(error.problems))
        for problem in read.problems:
            log.warning("scenario file %s left out: %s", path, problem)
        self._read[path] = (changed, read)
        return read
