import datetime as dt
import json
import random

import pytest

from consent_server.domain.entry import (
    FIELDS_V1,
    FIELDS_V2,
    entry_bytes,
    entry_object,
    fast_entry,
)

AWKWARD = [
    "",
    '"',
    "\\",
    '\\"',
    "\x00\x01\x1f\x7f",
    "\b\f\n\r\t",
    "\u2028\u2029",
    "é中文🙂",
    "\ud7ff\ue000\uffff",
    "</script>",
    "\u202e",
]


def event(rng):
    def text():
        return "".join(
            rng.choice(AWKWARD + ["a", "Z", " "]) for _ in range(rng.randrange(5))
        )

    return {
        "seq": rng.choice([1, 2**31, 2**53 - 1, rng.randrange(10**9)]),
        "event_id": text(),
        "consent_id": text(),
        "continues": rng.choice([None, text()]),
        "site": text(),
        "consent_revision": rng.randrange(1000),
        "config_revision": rng.randrange(1000),
        **{
            k: rng.random() < 0.5
            for k in (
                "authentication",
                "security",
                "preferences",
                "analytics",
                "advertising",
                "gpc",
            )
        },
        "method": text(),
        "language": text(),
        "texts_hash": text(),
        "origin": text(),
        "path": text(),
        "ip": text(),
        "user_agent": text(),
        "recorded_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        + dt.timedelta(microseconds=rng.choice([0, 1, 999_999, rng.randrange(10**13)])),
        "scan": rng.choice([None, True, False]),
        # None: an event recorded before version 2 (a version-1 entry).
        "config_hash": rng.choice([None, text()]),
        # Fields outside the entry's version never reach it.
        "hash": text(),
        "leaf_index": 3,
    }


def test_the_fast_entry_is_the_canonical_one_over_awkward_values():
    rng = random.Random(7)
    for _ in range(5000):
        fields = event(rng)
        assert fast_entry(fields) == entry_bytes(fields)


def test_an_entry_is_rfc_8785_json_of_its_versions_fields():
    fields = {**event(random.Random(1)), "config_hash": None}
    value = json.loads(entry_bytes(fields))
    assert list(value) == sorted(value)
    assert set(value) == {"v", *FIELDS_V1} and value["v"] == 1
    shown = json.loads(entry_bytes({**fields, "config_hash": "c" * 64}))
    assert list(shown) == sorted(shown)
    assert set(shown) == {"v", *FIELDS_V2} and shown["v"] == 2
    assert shown["config_hash"] == "c" * 64
    # Version 2 adds its field and changes nothing else of version 1.
    assert {k: v for k, v in shown.items() if k not in ("v", "config_hash")} == {
        k: v for k, v in value.items() if k != "v"
    }
    assert value == json.loads(json.dumps(entry_object(fields)))
    assert b" " not in entry_bytes(
        {**fields, **{k: "x" for k in ("user_agent", "path")}}
    )


@pytest.mark.parametrize(
    "change",
    ({"analytics": 1}, {"seq": True}, {"seq": "7"}, {"site": None}, {"gpc": None}),
)
def test_a_value_of_another_type_is_not_written_the_fast_way(change):
    fields = {**event(random.Random(2)), **change}
    with pytest.raises((TypeError, KeyError)):
        fast_entry(fields)
