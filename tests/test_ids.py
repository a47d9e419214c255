import time
import uuid

from consent_server.domain.ids import new_id


def test_an_id_is_a_uuid_of_version_7():
    made = new_id()
    parsed = uuid.UUID(made)
    assert str(parsed) == made
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_an_id_starts_with_the_time_it_was_made():
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= int(made.replace("-", "")[:12], 16) <= after


def test_ids_made_later_sort_later():
    first = new_id()
    time.sleep(0.002)
    assert new_id() > first


def test_ids_are_not_repeated():
    assert len({new_id() for _ in range(10_000)}) == 10_000


def test_recorded_ids_are_of_version_7(consent):
    answer = consent.post().get_json()
    assert uuid.UUID(answer["id"]).version == 7
    assert uuid.UUID(answer["event_id"]).version == 7
