"""One game's review as one file, in each format an export takes besides the CSV tables (one file per table): the
same bytes whether the API sends them or `wargame export` writes them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from game_rules.review import Review
from server import export, report, workbook

ExportFormat = Literal["json", "csv", "xlsx", "md", "html"]
"""What an export may be asked for: `csv` is a file per table (`export.csv_tables`), the rest one document each."""
Format = Literal["json", "xlsx", "md", "html"]


@dataclass(frozen=True)
class Document:
    body: bytes
    media_type: str
    suffix: str


def document(loaded: export.Loaded, r: Review, format: Format) -> Document:
    """JSON re-imports; the workbook holds every table; Markdown and HTML are the report."""
    if format == "json":
        text = json.dumps(export.to_json(loaded, r.state), ensure_ascii=False, indent=1)
        return Document(text.encode(), "application/json", "json")
    if format == "xlsx":
        return Document(workbook.workbook(loaded, r), workbook.MEDIA_TYPE, "xlsx")
    info = export.info(loaded, r)
    if format == "md":
        return Document(report.markdown(info, r).encode(), "text/markdown; charset=utf-8", "md")
    return Document(report.html_report(info, r).encode(), "text/html; charset=utf-8", "html")
