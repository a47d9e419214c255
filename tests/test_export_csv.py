import csv
import io

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from consent_server.domain import export
from tests.fuzzing import PROPERTY

BOOLEAN = {"authentication", "security", "preferences", "analytics"}
BOOLEAN |= {"advertising", "gpc"}
NUMBER = {"seq", "consent_revision", "config_revision"}


def row(text):
    # Step: an event as the export gets it, every text field holding `text`.
    out = {}
    for i, key in enumerate(export.EXPORT_FIELDS):
        if key in BOOLEAN:
            out[key] = i % 2 == 0
        elif key in NUMBER:
            out[key] = i
        elif key == "continues":
            out[key] = None
        else:
            out[key] = text
    return out


def as_csv_writer_writes(event):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(export.EXPORT_FIELDS)
    writer.writerow(export._cell(event[k]) for k in export.EXPORT_FIELDS)
    return buffer.getvalue()


@PROPERTY
@given(st.text(max_size=30))
@example('Mozilla/5.0 (KHTML, like Gecko) "quoted"')
@example("Mozilla/5.0 (KHTML, like Gecko)")
@example("a,=b")
@example("x,-1")
@example("@home")
@example("caf\u00e9, \u00fcber")
@example("=HYPERLINK(1)")
@example("-2")
@example("\t=1+1")
@example("a\\b")
@example("line\nbreak\r")
@example("\u202eevil\ufffe=x")
@example("")
def test_each_csv_line_is_what_csv_writer_writes(text):
    event = row(text)
    lines = "".join(list(export.csv_lines([export.cells_of(event)]))[:-1])
    assert lines == as_csv_writer_writes(event)
    (read,) = csv.DictReader(io.StringIO(lines))
    assert read["gpc"] in ("true", "false")


@pytest.mark.parametrize("rows", (1, export.CSV_BATCH, export.CSV_BATCH + 1, 1234))
def test_a_csv_export_in_batches_has_every_row_once(rows):
    events = [row(f"agent {i}") | {"seq": i, "hash": f"h{i}"} for i in range(rows)]
    text = "".join(export.csv_lines(export.cells_of(e) for e in events))
    lines = text.splitlines()
    assert len(lines) == rows + 2
    assert [r["seq"] for r in csv.DictReader(io.StringIO("\n".join(lines[:-1])))] == [
        str(i) for i in range(rows)
    ]
    assert lines[-1] == f"#end rows={rows} hash=h{rows - 1}"
