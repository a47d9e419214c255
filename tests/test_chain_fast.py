import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import example, given
from hypothesis import strategies as st

from consent_server.domain import chain
from consent_server.store import log as store_log
from consent_server.store.engine import make_engine
from consent_server.store.schema import consent_events, metadata
from tests.fuzzing import PROPERTY

TEXT = st.text(max_size=12) | st.sampled_from(
    ('a"b', "back\\slash", "new\nline", "\x00", "\x7f", "\u202e", "\ud800", "é", "%s")
)
NUMBER = st.integers() | st.booleans() | st.floats(allow_nan=True) | st.none()
BOOLEAN = st.booleans() | st.integers(-2, 2)


def canonical(values):
    # Step: the row as row_hash gets it, booleans as the typed read makes them.
    fields = dict(zip(chain.HASHED_FIELDS, values, strict=False))
    for key in ("authentication", "security", "preferences", "analytics"):
        fields[key] = bool(fields[key])
    fields["advertising"], fields["gpc"] = bool(values[10]), bool(values[12])
    return fields


@PROPERTY
@given(
    seq=NUMBER,
    text=TEXT,
    revision=NUMBER,
    flag=BOOLEAN,
    when=st.datetimes(timezones=st.just(dt.UTC)),
    continues=st.none() | TEXT,
)
@example(seq=10**30, text="Mozilla/5.0 (KHTML, like Gecko)", revision=1, flag=1,
         when=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), continues=None)  # fmt: skip
@example(seq=1, text="ünïcödé ☃ 😀", revision=2, flag=True,
         when=dt.datetime(1, 1, 1, tzinfo=dt.UTC), continues="x")  # fmt: skip
def test_the_fast_hash_is_row_hash_or_gives_up(seq, text, revision, flag, when,
                                               continues):  # fmt: skip
    values = [seq, text, text, text, revision, 1, flag, flag, flag, flag, flag, text]
    values += [flag, text, "5f" * 32, text, text, text, text]
    values += [when.isoformat(), "0" * 64, continues]
    fields = canonical(values)
    fields["recorded_at"] = when
    try:
        expected = chain.row_hash(fields)
    except (TypeError, ValueError, UnicodeEncodeError):
        expected = None  # the canonical hash cannot be made: verify fails too
    fast = chain.fast_row_hash(values)
    assert fast is None or fast == expected
    plain = [text] if continues is None else [text, continues]
    if (
        all(type(v) is int for v in (seq, revision))
        and flag in (0, 1)
        and all(t.isascii() and t.isprintable() for t in plain)
        and not any('"' in t or "\\" in t for t in plain)
    ):
        # A plain row is never given up on.
        assert fast is not None


TIMES = (
    "2026-01-01 00:00:00.000331",
    "2026-01-01 00:00:00.000000",
    "2026-02-30 00:00:00.000000",  # no such day
    "0000-01-01 00:00:00.000000",
    "2026-01-01 24:00:00.000000",
    "2026-01-01 00:00:00",
    "2026-01-01T00:00:00.000001",
    "2026-01-01 00:00:00.000001+02:00",
    "2026-01-01 00:00:00.00033Z",
    "9999-12-31 23:59:59.999999",
)


@pytest.mark.parametrize("recorded_at", TIMES)
@pytest.mark.parametrize(
    ("column", "value"),
    (
        (None, None),
        ("consent_revision", 2.5),
        ("consent_revision", 10**15),
        ("analytics", 2),
        ("analytics", "1"),
        ("gpc", "yes"),
        ("site", 'a"b'),
        ("user_agent", "tab\there"),
        ("user_agent", "é☃"),
        ("path", b"/bytes"),
        ("continues", "0c1d"),
        ("continues", 7),
    ),
)
def test_the_hash_sqlite_writes_is_row_hash(tmp_path, recorded_at, column, value):
    engine = make_engine(f"sqlite:///{tmp_path}/log.sqlite")
    metadata.create_all(engine)
    row = {name: "text" for name in chain.HASHED_FIELDS}
    row.update(seq=1, consent_revision=1, config_revision=1, continues=None)
    row.update(authentication=1, security=1, preferences=0, analytics=1)
    row.update(advertising=0, gpc=0, recorded_at=recorded_at, hash="h")
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
    with engine.connect() as conn, conn.begin():
        try:
            typed = conn.execute(sa.select(consent_events)).mappings().one()
            expected = chain.row_hash(dict(typed))
        except (TypeError, ValueError, UnicodeEncodeError):
            # No append writes such a row: the walk names it as changed
            # (a hash no row has), not with a traceback.
            expected = ""
        try:
            ((*stored, found),) = list(store_log._chain_rows(conn, 1, 1))
            assert stored == [1, "text", "h"]
        except (TypeError, ValueError, UnicodeEncodeError) as exc:
            found = type(exc)
    assert found == expected
    engine.dispose()
