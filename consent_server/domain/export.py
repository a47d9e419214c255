"""The log as people and programs read it: JSON objects and spreadsheet-safe CSV.

Every export (NDJSON or CSV, from the API or the command line) ends with an
*end line* stating how many event rows came before it and the chain hash the
export ends at. An export cut short (a dropped connection, a killed worker)
has no end line, so a reader can tell a complete file from a partial one.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO, cast

from .chain import GENESIS_HASH, HASHED_FIELDS
from .vocabulary import CATEGORIES

EXPORT_FIELDS = (*HASHED_FIELDS, "hash")
# The CSV export's columns: the event's, then whether the cookie scanner made
# it and the hash of the config document shown (each added last, so that
# columns read by position stay where they were).
CSV_FIELDS = (*EXPORT_FIELDS, "scan", "config_hash")

# Characters a terminal or a spreadsheet would act on instead of showing: C0
# controls (tab and newline included), DEL, C1 controls, and the bidi
# embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069),
# which can make a cell read backwards.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CSV_ESCAPE = re.compile("[\\\\\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def as_json(row: dict[str, Any]) -> dict[str, Any]:
    """An event as the API and exports show it."""
    out = {k: row[k] for k in EXPORT_FIELDS}
    out["recorded_at"] = row["recorded_at"].isoformat()
    # Not a chain field (the event's Merkle leaf covers it): a choice the
    # cookie scanner made, not a visitor.
    out["scan"] = row.get("scan") in (True, 1)
    # Nor this: the event's version-2 entry covers it (None on older events).
    out["config_hash"] = row.get("config_hash")
    return out


def cells_of(shown: dict[str, Any]) -> list[Any]:
    """An event as exports take it: the values of :func:`as_json`'s dict in
    CSV_FIELDS order.

    Exports work on such lists (``store.events.raw_rows`` reads them from the
    database directly), not on dicts: a million of them are written in
    seconds.
    """
    return [shown[k] for k in CSV_FIELDS]


_HASH = EXPORT_FIELDS.index("hash")
# How many cells follow the hash in a row.
_AFTER_HASH = len(CSV_FIELDS) - 1 - _HASH


class Tally:
    """Counts the event rows passing through and keeps the last one's hash.

    ``end()`` is the end line's content: ``{"rows", "hash"}``. ``hash`` is the
    ``hash`` of the last exported row; an empty export states the chain's
    start (``GENESIS_HASH``, 64 zeros). Further facts about the export (a
    tree size and root) are added as further keys, so readers that know
    only these two keep working.
    """

    def __init__(self, rows: Iterable[Row]) -> None:
        self._rows = rows
        self.rows = 0
        self.hash = GENESIS_HASH

    def __iter__(self) -> Iterator[Row]:
        rows = 0
        row: Row = ()
        try:
            for row in self._rows:
                rows += row.rows if isinstance(row, JoinedBlock) else 1
                yield row
        finally:
            # Counted in a local and kept once: a million attribute writes
            # cost more than the rest of a row.
            self.rows += rows
            if rows:
                if isinstance(row, JoinedBlock):
                    row = row.texts[-1]
                self.hash = (
                    row.rsplit(JOINED, _AFTER_HASH + 1)[1]
                    if isinstance(row, str)
                    else row[_HASH]
                )

    def end(self) -> dict[str, Any]:
        """What the end line states, once every row has passed."""
        return {"rows": self.rows, "hash": self.hash}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\\":
        return "\\\\"  # doubled, so an escape in the data reads back unchanged
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _cell(value: Any) -> Any:
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        # A user agent holding "\x1b[2J" or "\u202e" must not clear a terminal
        # or turn a cell around: control characters are shown as escapes.
        value = _CSV_ESCAPE.sub(_escape, value)
        if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            # A visitor's user agent must not become a formula in a spreadsheet.
            return "'" + value
    return value


def csv_end_line(end: dict[str, Any]) -> str:
    """The CSV end line: ``#end rows=N hash=H``, one ``key=value`` per fact."""
    return "#end " + " ".join(f"{k}={v}" for k, v in end.items()) + "\n"


# Rows written between two yields: one write of some 200 KB instead of one
# a row.
CSV_BATCH = 500
# Joins a row's text cells for one search; a character no cell needs.
_JOIN = "\ufffe"
# A formula's first character at the start of a cell of a joined row.
_CSV_FORMULA = re.compile(f"{_JOIN}[=+\\-@]")
_BOOLEANS = tuple(
    i for i, k in enumerate(CSV_FIELDS) if k in (*CATEGORIES, "gpc", "scan")
)


_CONTINUES = CSV_FIELDS.index("continues")
_CONFIG_HASH = CSV_FIELDS.index("config_hash")
_CSV_TEMPLATE = ",".join(["%s"] * len(CSV_FIELDS))
_COMMAS = len(CSV_FIELDS) - 1
# The types of a row's cells once its booleans are words and a missing
# ``continues`` is empty: numbers where the log has them, text elsewhere.
_PLAIN_CELLS = frozenset(
    {
        tuple(
            int if k in ("seq", "consent_revision", "config_revision") else str
            for k in CSV_FIELDS
        )
    }
)


# The printable ASCII bytes a cell may hold as it is: not '"' nor '\\'.
_PLAIN_BYTES = bytes(b for b in range(0x20, 0x7F) if b not in b'"\\')
_CSV_CELL_FORMULA = re.compile(",[=+\\-@]")
_TEXT_CELLS = tuple(i for i, t in enumerate(next(iter(_PLAIN_CELLS))) if t is str)


def _csv_line(row: Sequence[Any]) -> str:
    """One event's CSV line, as ``csv.writer`` writes the cells of :func:`_cell`.

    A row of plain cells (text without a quote, a backslash, a control
    character or a formula's first character, numbers that are ints) is
    written with one string format, quoting only the cells with a comma: a
    full export writes a million of them. Any other row goes the way of
    :func:`_csv_line_by_cell`.
    """
    cells = list(row)
    for i in _BOOLEANS:
        value = cells[i]
        if value is True or value is False:
            cells[i] = "true" if value else "false"
    if cells[_CONTINUES] is None:
        cells[_CONTINUES] = ""  # as csv.writer writes None
    if cells[_CONFIG_HASH] is None:
        cells[_CONFIG_HASH] = ""
    if tuple(map(type, cells)) in _PLAIN_CELLS:
        line = _CSV_TEMPLATE % tuple(cells)
        # No cell to quote for a quote or escape for a backslash or a
        # control character (an ASCII line with only printable bytes), and
        # none starting like a formula: ints start with a digit or "-",
        # which only sends the row the long way.
        if (
            line.isascii()
            and not line.encode().translate(None, _PLAIN_BYTES)
            and line[0] not in "=+-@"
            and not _CSV_CELL_FORMULA.search(line)
        ):
            if line.count(",") == _COMMAS:
                return line + "\n"
            # Quote the cells with a comma (a user agent's "KHTML, like").
            for i in _TEXT_CELLS:
                if "," in cells[i]:
                    cells[i] = '"' + cells[i] + '"'
            return _CSV_TEMPLATE % tuple(cells) + "\n"
    return _csv_line_by_cell(row)


def _csv_line_by_cell(row: Sequence[Any]) -> str:
    """One event's CSV line, as ``csv.writer`` writes the cells of :func:`_cell`.

    Nearly every row has nothing to escape: two searches over its text cells
    joined tell, and such a row is joined by hand, three times quicker than
    ``csv.writer``. A row they flag goes the long way, cell by cell.
    """
    cells = list(row)
    text = _JOIN + _JOIN.join([c for c in cells if isinstance(c, str)])
    if _CSV_ESCAPE.search(text) or _CSV_FORMULA.search(text):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(_cell(c) for c in cells)
        return buffer.getvalue()
    for i in _BOOLEANS:
        value = cells[i]
        if value is True or value is False:
            cells[i] = "true" if value else "false"
    # Without control characters (the search above), csv.writer quotes a
    # cell only for a comma or a double quote in it.
    return (
        ",".join(
            [
                ("" if c is None else str(c))
                if not isinstance(c, str)
                else '"' + c.replace('"', '""') + '"'
                if '"' in c or "," in c
                else c
                for c in cells
            ]
        )
        + "\n"
    )


# Joins a row's cells as text (see plain_joined): a control character, which
# no cell written as it is can hold.
JOINED = "\x1f"
_PLAIN_JOINED = _PLAIN_BYTES + JOINED.encode()
_JOINED_FORMULA = re.compile(f"{JOINED}[=+\\-@]")


def plain_joined(text: str) -> bool:
    """Whether cells joined by :data:`JOINED` make a CSV line as they are.

    The text is each cell as :func:`_csv_line` writes it (booleans as
    words, numbers as digits, nothing for None), joined; it is plain when
    it has every cell and no cell needs a quote, an escape or a formula
    guard, which :func:`_joined_csv_line` then only quotes for a comma.
    """
    return (
        text.isascii()
        and not text.encode().translate(None, _PLAIN_JOINED)
        and text.count(JOINED) == _COMMAS
        and text[:1] not in ("=", "+", "-", "@", "")
        and not _JOINED_FORMULA.search(text)
    )


@dataclass(frozen=True)
class JoinedBlock:
    """Several rows as :func:`plain_joined` takes them, every one of them
    plain: see :func:`joined_block`. A full export passes its rows a batch
    at a time so, not one by one."""

    texts: list[str]

    @property
    def rows(self) -> int:
        """How many rows the block holds."""
        return len(self.texts)


# An event as exports take it: cells (see cells_of), or cells joined as
# text (plain_joined), or a block of such texts.
Row = Sequence[Any] | str | JoinedBlock

# The bytes a block of plain joined rows holds: a row's, and the newline.
_PLAIN_BLOCK = _PLAIN_JOINED + b"\n"
# Makes a formula's first character \x01 and a newline a separator: then
# one search finds a cell that starts like a formula, quicker than a regex
# (the plain test has left no other control character).
_FORMULA_TABLE = bytes.maketrans(b"=+-@\n", b"\x01\x01\x01\x01" + JOINED.encode())
_FORMULA_CELL = JOINED.encode() + b"\x01"


def joined_block(texts: list[str]) -> JoinedBlock | None:
    """The texts of several rows as one block, when :func:`plain_joined`
    holds for every one of them; else None (take them one by one).

    The same test, made over the rows joined by newlines at once (a cell
    holding a newline would leave one more than the joins).
    """
    text = "\n".join(texts)
    if not texts or not text.isascii() or text[:1] in ("=", "+", "-", "@"):
        return None
    data = text.encode()
    if (
        data.translate(None, _PLAIN_BLOCK)
        or text.count("\n") != len(texts) - 1
        or set(map(str.count, texts, itertools.repeat(JOINED))) != {_COMMAS}
        or _FORMULA_CELL in data.translate(_FORMULA_TABLE)
    ):
        return None
    return JoinedBlock(texts)


def _block_csv_lines(block: JoinedBlock) -> str:
    # As _joined_csv_line writes each of its rows.
    text = "\n".join(map(_quote_commas, block.texts))
    return text.replace(JOINED, ",") + "\n"


def _quote_commas(text: str) -> str:
    """A plain joined row with each cell that holds a comma quoted."""
    comma = text.find(",")
    if comma < 0:
        return text
    start = text.rfind(JOINED, 0, comma) + 1
    end = text.find(JOINED, comma)
    if end < 0:
        end = len(text)
    if text.find(",", end) < 0:
        # One cell with commas, nearly always (a user agent's "KHTML, like").
        return f'{text[:start]}"{text[start:end]}"{text[end:]}'
    return JOINED.join(['"' + c + '"' if "," in c else c for c in text.split(JOINED)])


def _joined_csv_line(text: str) -> str:
    return _quote_commas(text).replace(JOINED, ",") + "\n"


def csv_lines(
    rows: Iterable[Row], facts: dict[str, Any] | None = None
) -> Iterator[str]:
    """The export as CSV text: a header, the event lines, the end line.

    ``rows`` are events as :func:`cells_of` gives them, or as their cells'
    text joined by :data:`JOINED` where :func:`plain_joined` holds.

    Event lines come :data:`CSV_BATCH` at a time. When the rows stop with an
    error, the lines before it are still given, then the error is raised: the
    text lacks its end line.
    """
    tally = Tally(rows)
    yield ",".join(CSV_FIELDS) + "\n"
    batch: list[str] = []
    try:
        for row in tally:
            if isinstance(row, JoinedBlock):
                if batch:
                    yield "".join(batch)
                    batch = []
                yield _block_csv_lines(row)
                continue
            batch.append(
                _joined_csv_line(row) if isinstance(row, str) else _csv_line(row)
            )
            if len(batch) == CSV_BATCH:
                yield "".join(batch)
                batch = []
    except Exception:
        if batch:
            yield "".join(batch)
        raise
    if batch:
        yield "".join(batch)
    # Facts the rows' reader found (the tree's size and root), read once the
    # rows have all passed.
    yield csv_end_line({**tally.end(), **(facts or {})})


def _json_line(value: dict[str, Any]) -> str:
    # json escapes C0 itself; DEL, C1 and bidi controls become \u escapes
    # too, which read back as the same string, so a terminal shows them.
    text = json.dumps(value, ensure_ascii=False)
    return CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def ndjson_lines(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The export as NDJSON: one event object a line, then ``{"end": {...}}``.

    ``rows`` are events as :func:`cells_of` gives them.
    """
    tally = Tally(rows)
    for row in tally:
        yield _json_line(dict(zip(CSV_FIELDS, cast(Sequence[Any], row), strict=True)))
    yield _json_line({"end": tally.end()})


def write_csv(
    out: TextIO, rows: Iterable[Row], facts: dict[str, Any] | None = None
) -> None:
    """Write the CSV export, end line included, to a text stream."""
    for line in csv_lines(rows, facts):
        out.write(line)


def write_ndjson(out: TextIO, rows: Iterable[Sequence[Any]]) -> None:
    """Write the NDJSON export, end line included, to a text stream."""
    for line in ndjson_lines(rows):
        out.write(line)


def object_lines(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """NDJSON lines of ready-made objects, the end line among them (the
    export with the Merkle tree, ``store.tree_export``)."""
    for record in records:
        yield _json_line(record)
