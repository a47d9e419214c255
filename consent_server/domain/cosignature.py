"""Witness cosignatures: C2SP tlog-cosignature v1, Ed25519.

A witness that checked a checkpoint's consistency with every earlier one
it saw adds a signature line of its own to the checkpoint's note::

    — NAME BASE64(keyid || timestamp || signature)

``timestamp`` is 8 bytes, big-endian: when the witness signed, in seconds
since the epoch. The signature is over ``cosignature/v1``, a ``time T``
line and the checkpoint's text (the note without its signature lines).
keyid is the first 4 bytes of SHA-256(NAME || 0x0A || 0x04 || public key),
and the keys are written as for the log's own key with 0x04 for 0x01:

- witness key (to publish): ``NAME+HEX(keyid)+BASE64(0x04 || public key)``;
- witness signing key (its secret):
  ``PRIVATE+KEY+NAME+HEX(keyid)+BASE64(0x04 || seed)``.

A cosignature says: at that time, this is the largest tree the witness had
seen of the log, and it extends every earlier one. A receipt cosigned by a
witness its reader trusts cannot come from a log made up for it: the
witness would have had to see that log instead of the real one. And the
witness's time bounds the log's own: an event in a tree the witness saw at
time T was recorded by then.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature as _BadSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .note import (
    BadKey,
    Note,
    Signature,
    _b64,
    _b64decode,
    valid_name,
)
from .note import _parse_key as note_key

ALG_COSIGNATURE_V1 = 0x04
HEADER = b"cosignature/v1\n"
MAX_TIMESTAMP = (1 << 63) - 1


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte id of a witness's Ed25519 key under its name."""
    return hashlib.sha256(
        name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public_key
    ).digest()[:4]


def message(text: str, timestamp: int) -> bytes:
    """What a cosignature at ``timestamp`` signs of a checkpoint ``text``."""
    return HEADER + f"time {timestamp}\n".encode() + text.encode("utf-8")


def _parse_key(fields: list[str], what: str) -> tuple[str, bytes, bytes]:
    """The name, keyid and 32 key bytes of a witness key's last three fields."""

    def wrong_alg(alg: int) -> str:
        return (
            f"not a {what} key: its algorithm is {alg}, a witness's is"
            f" {ALG_COSIGNATURE_V1} (consent-server keygen --witness makes one)"
        )

    wanted, raw = note_key(fields, what, ALG_COSIGNATURE_V1, wrong_alg)
    return fields[0], wanted, raw


@dataclass(frozen=True)
class Witness:
    """A witness's public key: checks its cosignatures."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def from_key(cls, vkey: str) -> Witness:
        """Read a witness key ``NAME+HEX(keyid)+BASE64(0x04 || key)``.

        :raise BadKey: not in that format, or the keyid does not match.
        """
        fields = vkey.strip().split("+", 2)
        if len(fields) != 3:
            raise BadKey("malformed witness key: NAME+KEYID+KEY expected")
        name, wanted, raw = _parse_key(fields, "witness")
        if key_id(name, raw) != wanted:
            raise BadKey("the witness key's keyid does not match its name and key")
        return cls(name, wanted, Ed25519PublicKey.from_public_bytes(raw))

    @property
    def id(self) -> str:
        """The witness's name and key id, ``NAME+HEX(keyid)``: two keys may
        share a name."""
        return f"{self.name}+{self.key_id.hex()}"

    @property
    def key(self) -> str:
        """The witness key as text, to publish."""
        raw = self.public_key.public_bytes_raw()
        data = bytes([ALG_COSIGNATURE_V1]) + raw
        return f"{self.name}+{self.key_id.hex()}+{_b64(data)}"

    def timestamp(self, text: str, signature: Signature) -> int | None:
        """When this witness cosigned the checkpoint ``text`` with
        ``signature``, or None when the line is not its valid cosignature."""
        if (signature.name, signature.key_id) != (self.name, self.key_id):
            return None
        try:
            raw = _b64decode(signature.base64)
        except ValueError:
            return None
        if len(raw) != 4 + 8 + 64:
            return None
        (timestamp,) = struct.unpack(">Q", raw[4:12])
        if timestamp > MAX_TIMESTAMP:
            return None
        try:
            self.public_key.verify(raw[12:], message(text, timestamp))
        except _BadSignature:
            return None
        return int(timestamp)


@dataclass(frozen=True)
class WitnessSigner:
    """A witness's private key: cosigns checkpoints it checked."""

    name: str
    key_id: bytes
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> WitnessSigner:
        """A new random witness key for ``name``.

        :raise BadKey: the name has white space or a '+', or is empty.
        """
        if not valid_name(name):
            raise BadKey(f"a key name has no spaces and no '+': {name!r}")
        private = Ed25519PrivateKey.generate()
        raw = private.public_key().public_bytes_raw()
        return cls(name, key_id(name, raw), private)

    @classmethod
    def from_key(cls, skey: str) -> WitnessSigner:
        """Read ``PRIVATE+KEY+NAME+HEX(keyid)+BASE64(0x04 || seed)``.

        :raise BadKey: not in that format, or the keyid does not match.
        """
        fields = skey.strip().split("+", 4)
        if len(fields) != 5 or fields[:2] != ["PRIVATE", "KEY"]:
            raise BadKey(
                "malformed witness signing key: PRIVATE+KEY+NAME+KEYID+KEY expected"
            )
        name, wanted, seed = _parse_key(fields[2:], "witness signing")
        private = Ed25519PrivateKey.from_private_bytes(seed)
        if key_id(name, private.public_key().public_bytes_raw()) != wanted:
            raise BadKey("the witness signing key's keyid does not match its key")
        return cls(name, wanted, private)

    @property
    def key(self) -> str:
        """The witness signing key as text: the witness's secret."""
        seed = self.private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        data = bytes([ALG_COSIGNATURE_V1]) + seed
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{_b64(data)}"

    @property
    def witness(self) -> Witness:
        """The matching public key."""
        return Witness(self.name, self.key_id, self.private_key.public_key())

    def cosign(self, text: str, timestamp: int) -> Signature:
        """The cosignature line of the checkpoint ``text`` at ``timestamp``."""
        signed = self.private_key.sign(message(text, timestamp))
        raw = self.key_id + struct.pack(">Q", timestamp) + signed
        return Signature(self.name, self.key_id, _b64(raw))


def cosigned_by(
    note: Note, witnesses: Iterable[Witness]
) -> dict[str, tuple[int, Signature]]:
    """The witnesses (by :attr:`Witness.id`) that validly cosigned an opened
    checkpoint note, each with its latest time and line; lines by other
    keys are left alone."""
    found: dict[str, tuple[int, Signature]] = {}
    for witness in witnesses:
        for signature in note.unverified:
            when = witness.timestamp(note.text, signature)
            if when is not None and when >= found.get(witness.id, (-1, signature))[0]:
                found[witness.id] = (when, signature)
    return found


def shown_time(timestamp: int) -> str:
    """A witness's time in words (UTC), or as it is when no date can hold it."""
    try:
        return f"{dt.datetime.fromtimestamp(timestamp, dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
    except (OverflowError, OSError, ValueError):
        return f"{timestamp} (seconds since 1970)"


def with_cosignatures(note: str, lines: Iterable[str]) -> str:
    """A signed note with more signature lines (``— NAME BASE64\\n``) after
    its own, each once."""
    text = note if note.endswith("\n") else note + "\n"
    return text + "".join(line for line in lines if line not in text)
