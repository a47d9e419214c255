import csv
import io

import pytest
import sqlalchemy as sa
from hypothesis import example, given
from hypothesis import strategies as st

from consent_server.domain import export
from consent_server.store import events
from consent_server.store.engine import make_engine
from consent_server.store.schema import consent_events, metadata
from tests.fuzzing import PROPERTY

BOOLEAN = {"authentication", "security", "preferences", "analytics"}
BOOLEAN |= {"advertising", "gpc", "scan"}
NUMBER = {"seq", "consent_revision", "config_revision"}


def row(text):
    # Step: an event as the export gets it, every text field holding `text`.
    out = {}
    for i, key in enumerate(export.CSV_FIELDS):
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
    writer.writerow(export.CSV_FIELDS)
    writer.writerow(export._cell(event[k]) for k in export.CSV_FIELDS)
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


@pytest.mark.parametrize(
    ("column", "value"),
    (
        (None, None),
        ("recorded_at", "2026-01-01 00:00:00.000000"),
        ("recorded_at", "2026-02-30 00:00:00.000000"),
        ("recorded_at", "2026-01-01 00:00:00.000001+02:00"),
        ("consent_revision", 2.5),
        ("consent_revision", -3),
        ("seq", -1),
        ("analytics", 2),
        ("gpc", "yes"),
        ("site", 'a"b'),
        ("site", "a,b"),
        ("site", "=1+1"),
        ("site", "a\x1fb"),
        ("user_agent", "Mozilla/5.0 (KHTML, like Gecko)"),
        ("user_agent", "tab\there"),
        ("user_agent", "é☃"),
        ("path", b"/bytes"),
        ("continues", "0c1d"),
        ("continues", 7),
        ("scan", 1),
        ("scan", 0),
        ("scan", 2),
    ),
)
def test_the_csv_text_sqlite_writes_is_the_line_of_the_typed_row(
    tmp_path, column, value
):
    engine = make_engine(f"sqlite:///{tmp_path}/log.sqlite")
    metadata.create_all(engine)
    row = {name: "text" for name in export.EXPORT_FIELDS}
    row.update(seq=1, consent_revision=1, config_revision=1, continues=None)
    row.update(authentication=1, security=1, preferences=0, analytics=1)
    row.update(advertising=0, gpc=0, recorded_at="2026-01-01 00:00:00.000331")
    if column is not None:
        row[column] = value
    names = ", ".join(f'"{k}"' for k in row)
    marks = ", ".join("?" for _ in row)
    with engine.begin() as conn:
        # Step: stored as given, past the column types, as plain SQL would.
        conn.exec_driver_sql(
            f"INSERT INTO consent_events ({names}) VALUES ({marks})",
            tuple(row.values()),
        )
    with engine.connect() as conn:
        try:
            with conn.begin():
                typed = conn.execute(sa.select(consent_events)).mappings().one()
            expected = "".join(
                export.csv_lines([export.cells_of(export.as_json(typed))])
            )
        except ValueError as exc:  # a time that cannot be read
            expected = type(exc)
        try:
            found = "".join(export.csv_lines(events.iter_csv_rows(conn)))
        except ValueError as exc:
            found = type(exc)
    assert found == expected
    engine.dispose()


def joined(text):
    # Step: a row's cells joined as the database writes them, `text` in each
    # text cell.
    cells = export.cells_of(row(text))
    return export.JOINED.join(
        "" if c is None else ("true" if c else "false") if type(c) is bool else str(c)
        for c in cells
    )


CELLS = st.text(
    alphabet=st.sampled_from(["a", ",", '"', "=", "-", "\n", "\\", "é", " ", "1"]),
    max_size=6,
)


@PROPERTY
@given(st.lists(CELLS, max_size=5), st.lists(st.text(max_size=3), max_size=2))
@example(["Mozilla/5.0 (KHTML, like Gecko)", "plain"], [])
@example(["a,b"], [export.JOINED * 3])
@example(["x,y,z", "=1", "a"], [])
def test_a_block_of_joined_rows_is_written_as_each_row_is(cells, extra):
    texts = [joined(text) for text in cells] + extra
    block = export.joined_block(texts)
    if all(export.plain_joined(t) for t in texts) and texts:
        assert block is not None
        assert export._block_csv_lines(block) == "".join(
            export._joined_csv_line(t) for t in texts
        )
        whole = "".join(export.csv_lines([block]))
        assert whole == "".join(export.csv_lines(texts))
    else:
        assert block is None
