"""The review's tables as one spreadsheet workbook (Office Open XML, .xlsx): a first sheet naming the game, then a
sheet per table of `export.tables` in the same columns as the CSV files.

A CSV file splits into columns only where the spreadsheet's list separator is a comma; in a German or French
locale it opens as one column of text.  A workbook opens the same everywhere, keeps numbers as numbers and times
as times, and holds every table in one file.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from game_rules.review import Review
from server import export

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WIDEST = 60
"""Characters: a column of long texts (messages, descriptions) is cut to this width on screen, not in the cell."""
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
BOLD = Font(bold=True)


def workbook(loaded: export.Loaded, r: Review) -> bytes:
    """The workbook's bytes, streamed (openpyxl's write-only mode): a 10,000-event game's take about 2 s
    (docs/review.md), so callers in a server run it on a thread."""
    info = export.info(loaded, r)
    book = Workbook(write_only=True)
    about = [["game", info.game_id], ["title", info.title], ["scenario", info.scenario], ["created", info.created_at]]
    about += [["played", info.played], *[["objective", objective] for objective in info.objectives]]
    _fill(book.create_sheet("game"), about, header=False)
    for name, rows in export.tables(loaded, r).items():
        sheet = book.create_sheet(name)
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(rows[0]))}{max(len(rows), 2)}"
        _fill(sheet, rows, header=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _fill(sheet: WriteOnlyWorksheet, rows: list[list[Any]], header: bool) -> None:
    # A streamed sheet takes its column widths before its first row.
    widths: dict[int, int] = {}
    for row in rows:
        for c, value in enumerate(row, start=1):
            widths[c] = max(widths.get(c, 0), len(TIME_FORMAT) if isinstance(value, datetime) else len(str(value)))
    dimensions = sheet.column_dimensions  # type: ignore[attr-defined]  # made by its _setup; not in the stubs
    for c, width in widths.items():
        dimensions[get_column_letter(c)].width = min(WIDEST, width + 2)
    for r, row in enumerate(rows):
        sheet.append([_cell(sheet, value, bold=header and r == 0) for value in row])


def _cell(sheet: WriteOnlyWorksheet, value: Any, bold: bool) -> Cell:
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # text, never parsed: a player's "=…" stays what they wrote, not a formula to run
    else:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, datetime):
            cell.number_format = TIME_FORMAT
    if bold:
        cell.font = BOLD
    return cell
