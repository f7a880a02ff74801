"""A progress bar on standard error for long command-line work; silent when stderr is not a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def bar(items: Iterable[T], total: int, label: str, width: int = 30) -> Iterator[T]:
    show = sys.stderr.isatty() and total > 0
    step = max(1, total // 100)
    for done, item in enumerate(items, start=1):
        if show and (done % step == 0 or done == total):
            filled = width * done // total
            sys.stderr.write(f"\r{label:>9} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        yield item
