"""The log as people and programs read it: JSON objects and spreadsheet-safe CSV."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from .chain import HASHED_FIELDS

EXPORT_FIELDS = (*HASHED_FIELDS, "hash")


def as_json(row: dict[str, Any]) -> dict[str, Any]:
    """An event as the API and exports show it."""
    out = {k: row[k] for k in EXPORT_FIELDS}
    out["recorded_at"] = row["recorded_at"].isoformat()
    return out


def _cell(value: Any) -> Any:
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        # A visitor's user agent must not become a formula in a spreadsheet.
        return "'" + value
    return value


def csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The export as CSV text, a header and then one line per event."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for row in itertools.chain([None], rows):
        if row is not None:
            writer.writerow(_cell(row[k]) for k in EXPORT_FIELDS)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def write_csv(out: TextIO, rows: Iterable[dict[str, Any]]) -> None:
    """Write the CSV export to a text stream."""
    for line in csv_lines(rows):
        out.write(line)
