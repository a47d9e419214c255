"""Signed checkpoints: C2SP tlog-checkpoint texts in C2SP signed notes, Ed25519.

A note is some text ending in a newline, a blank line, and one line per
signature: ``— NAME BASE64(keyid || signature)`` (an em dash, U+2014, and a
space). The keys are written as Go's ``golang.org/x/mod/sumdb/note`` writes
them, so the Go verifiers transparency logs and witnesses use accept ours:

- verifier key (to publish): ``NAME+HEX(keyid)+BASE64(0x01 || public key)``;
- signer key (secret: ``CONSENT_LOG_KEY`` or a key file):
  ``PRIVATE+KEY+NAME+HEX(keyid)+BASE64(0x01 || seed)``;

where keyid is the first 4 bytes of SHA-256(NAME || 0x0A || 0x01 || public
key). Opening a note follows that package's ``Open``: signatures by unknown
keys are set aside, not refused, so witnesses may add their own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature as _BadSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .errors import InvalidInput

ALG_ED25519 = 0x01
SIGNATURE_PREFIX = "— "
# As Go's note package: a note with more signature lines is refused unread.
MAX_SIGNATURES = 100
# Unicode White_Space, which Go's unicode.IsSpace tests: no key name has one.
_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
)
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class NoteError(InvalidInput):
    """A note, a checkpoint or a key that cannot be accepted."""

    def __init__(self, message: str, code: str = "invalid_note") -> None:
        super().__init__(code, message)


class MalformedNote(NoteError):
    """The text is not a signed note at all."""

    def __init__(self, why: str = "") -> None:
        super().__init__("malformed note" + (f": {why}" if why else ""))


class BadKey(NoteError):
    """A verifier or signer key that is not in the format, or whose keyid lies."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "invalid_key")


class InvalidSignature(NoteError):
    """A known key's signature does not verify: the text was changed."""

    def __init__(self, name: str, key_id: bytes) -> None:
        super().__init__(f"invalid signature for key {name}+{key_id.hex()}")


class AmbiguousKey(NoteError):
    """Two of the given verifier keys share a name and keyid."""

    def __init__(self, name: str, key_id: bytes) -> None:
        super().__init__(f"ambiguous key {name}+{key_id.hex()}")


class UnverifiedNote(NoteError):
    """No signature is by a key given: ``note`` holds what was read."""

    def __init__(self, note: Note) -> None:
        super().__init__("note has no verifiable signatures")
        self.note = note


def valid_name(name: str) -> bool:
    """Whether a key name is allowed: not empty, no white space, no '+'."""
    return bool(name) and "+" not in name and not _SPACES.intersection(name)


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte id of an Ed25519 key under a name (raw 32-byte public key)."""
    return hashlib.sha256(
        name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key
    ).digest()[:4]


def _b64decode(text: str) -> bytes:
    # Standard alphabet with padding, nothing else (no spaces, no '-_').
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _parse_key(
    fields: Sequence[str],
    what: str,
    alg: int = ALG_ED25519,
    wrong_alg: Callable[[int], str] | None = None,
) -> tuple[bytes, bytes]:
    """The keyid and the 32 key bytes of a key's last three fields, whose
    key starts with the algorithm byte ``alg`` (``wrong_alg`` words another)."""
    name, hex_id, key64 = fields
    try:
        key = _b64decode(key64)
    except ValueError:
        key = b""
    if not valid_name(name) or not _HEX8.fullmatch(hex_id) or not key:
        raise BadKey(f"malformed {what} key")
    if key[0] != alg:
        raise BadKey(
            wrong_alg(key[0])
            if wrong_alg
            else f"unknown {what} key algorithm {key[0]}: only Ed25519 (1)"
        )
    if len(key) != 33:
        raise BadKey(f"malformed {what} key: an Ed25519 key has 32 bytes")
    return bytes.fromhex(hex_id), key[1:]


@dataclass(frozen=True)
class Verifier:
    """A public key that checks a name's signatures."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def from_key(cls, vkey: str) -> Verifier:
        """Read a verifier key ``NAME+HEX(keyid)+BASE64(0x01 || key)``.

        :raise BadKey: not in that format, or the keyid does not match.
        """
        fields = vkey.split("+", 2)
        if len(fields) != 3:
            raise BadKey("malformed verifier key: NAME+KEYID+KEY expected")
        hex_id, raw = _parse_key(fields, "verifier")
        if key_id(fields[0], raw) != hex_id:
            raise BadKey("the verifier key's keyid does not match its name and key")
        return cls(fields[0], hex_id, Ed25519PublicKey.from_public_bytes(raw))

    @property
    def key(self) -> str:
        """The verifier key as text, to publish."""
        raw = self.public_key.public_bytes_raw()
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([ALG_ED25519]) + raw)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's over ``message``."""
        try:
            self.public_key.verify(signature, message)
        except _BadSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A private key that signs notes under a name."""

    name: str
    key_id: bytes
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> Signer:
        """A new random key for ``name``.

        :raise BadKey: the name has white space or a '+', or is empty.
        """
        if not valid_name(name):
            raise BadKey(f"a key name has no spaces and no '+': {name!r}")
        private = Ed25519PrivateKey.generate()
        return cls(name, key_id(name, private.public_key().public_bytes_raw()), private)

    @classmethod
    def from_key(cls, skey: str) -> Signer:
        """Read a signer key ``PRIVATE+KEY+NAME+HEX(keyid)+BASE64(0x01 || seed)``.

        :raise BadKey: not in that format, or the keyid does not match.
        """
        fields = skey.split("+", 4)
        if len(fields) != 5 or fields[:2] != ["PRIVATE", "KEY"]:
            raise BadKey("malformed signer key: PRIVATE+KEY+NAME+KEYID+KEY expected")
        hex_id, seed = _parse_key(fields[2:], "signer")
        private = Ed25519PrivateKey.from_private_bytes(seed)
        # The keyid is of the public key: derive it before trusting the line.
        if key_id(fields[2], private.public_key().public_bytes_raw()) != hex_id:
            raise BadKey("the signer key's keyid does not match its name and key")
        return cls(fields[2], hex_id, private)

    @property
    def key(self) -> str:
        """The signer key as text: the secret to keep."""
        seed = self.private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        key64 = _b64(bytes([ALG_ED25519]) + seed)
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{key64}"

    @property
    def verifier(self) -> Verifier:
        """The matching verifier."""
        return Verifier(self.name, self.key_id, self.private_key.public_key())

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of ``message``."""
        return self.private_key.sign(message)


@dataclass(frozen=True)
class Signature:
    """One signature line of a note: the key's name and id, and its base64."""

    name: str
    key_id: bytes
    base64: str

    @property
    def line(self) -> str:
        return f"{SIGNATURE_PREFIX}{self.name} {self.base64}\n"


@dataclass(frozen=True)
class Note:
    """An opened note: its text, the signatures that verified, and those by
    keys not given (kept, in order, for whoever knows them)."""

    text: str
    signatures: tuple[Signature, ...]
    unverified: tuple[Signature, ...]


def _check_text(text: str) -> bytes:
    """The note text's bytes, if a note may carry it."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedNote("the text is not UTF-8") from None
    if not text.endswith("\n"):
        raise MalformedNote("the text does not end in a newline")
    if any(c < "\x20" and c != "\n" for c in text):
        raise MalformedNote("a control character in the text")
    return data


def sign(text: str, signers: Sequence[Signer]) -> str:
    """The signed note of ``text`` (which ends in a newline), one line per signer.

    :raise MalformedNote: the text cannot be carried by a note.
    """
    data = _check_text(text)
    if not signers:
        raise ValueError("a note needs at least one signer")
    lines = [
        Signature(s.name, s.key_id, _b64(s.key_id + s.sign(data))).line for s in signers
    ]
    return text + "\n" + "".join(lines)


def open_note(note: str | bytes, verifiers: Iterable[Verifier]) -> Note:
    """Read a signed note and check its signatures by the keys given.

    Signatures by other keys are set aside in ``unverified``; a repeated
    signature counts once.

    :raise MalformedNote: not a signed note.
    :raise InvalidSignature: a given key's signature does not verify.
    :raise AmbiguousKey: two given keys share a name and keyid.
    :raise UnverifiedNote: no signature is by a given key.
    """
    if isinstance(note, str):
        try:
            data = note.encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedNote("not UTF-8") from None
    else:
        data = note
    try:
        message = data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedNote("not UTF-8") from None
    if any(c < "\x20" and c != "\n" for c in message):
        raise MalformedNote("a control character")
    # The signatures follow the last blank line.
    split = message.rfind("\n\n")
    if split < 0:
        raise MalformedNote("no blank line before the signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNote("the signatures do not end in a newline")
    text_bytes = text.encode("utf-8")

    known: dict[tuple[str, bytes], list[Verifier]] = {}
    for verifier in verifiers:
        known.setdefault((verifier.name, verifier.key_id), []).append(verifier)

    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"more than {MAX_SIGNATURES} signatures")
    verified: list[Signature] = []
    unverified: list[Signature] = []
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise MalformedNote("a line after the blank line is not a signature")
        name, _, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = _b64decode(b64)
        except ValueError:
            raw = b""
        if _b64(raw) != b64:
            # One spelling per signature: unused low bits set decode the same,
            # so a note with a changed byte would still read as signed.
            raw = b""
        if not valid_name(name) or len(raw) < 5:
            raise MalformedNote("a signature line is not '— NAME BASE64'")
        signature = Signature(name, raw[:4], b64)
        candidates = known.get((name, raw[:4]))
        if candidates is None:
            if signature not in unverified:
                unverified.append(signature)
            continue
        if len(candidates) > 1:
            raise AmbiguousKey(name, raw[:4])
        if any((s.name, s.key_id) == (name, raw[:4]) for s in verified):
            continue
        if not candidates[0].verify(text_bytes, raw[4:]):
            raise InvalidSignature(name, raw[:4])
        verified.append(signature)
    opened = Note(text, tuple(verified), tuple(unverified))
    if not verified:
        raise UnverifiedNote(opened)
    return opened


@dataclass(frozen=True)
class Checkpoint:
    """A C2SP tlog-checkpoint: the log's origin, its size and its root hash,
    and any extension lines after them."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The checkpoint as a note's text."""
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read a checkpoint's text (a note's text, signatures removed).

        :raise MalformedNote: not a checkpoint.
        """
        if not text.endswith("\n"):
            raise MalformedNote("a checkpoint ends in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedNote("a checkpoint has an origin, a size and a root hash")
        origin, size, root64, *extensions = lines
        if not origin:
            raise MalformedNote("the checkpoint's origin line is empty")
        if not _DECIMAL.fullmatch(size):
            raise MalformedNote("the checkpoint's size is not a decimal number")
        try:
            root = _b64decode(root64)
        except ValueError:
            root = b""
        if len(root) != 32 or _b64(root) != root64:
            raise MalformedNote("the checkpoint's root hash is not 32 bytes in base64")
        if any(not line for line in extensions):
            raise MalformedNote("an empty extension line in the checkpoint")
        return cls(origin, int(size), root, tuple(extensions))

    def sign(self, signer: Signer) -> str:
        """The checkpoint as a signed note."""
        return sign(self.text, [signer])


def open_checkpoint(
    note: str | bytes, log_key: Verifier, origin: str | None = None
) -> Checkpoint:
    """The checkpoint in a signed note, if the log's key signed it.

    ``origin`` (by default the key's name, as ``keygen`` makes keys) must be
    the checkpoint's first line: a checkpoint of another log under the same
    key is refused.

    :raise NoteError: not a checkpoint, or not signed by ``log_key``.
    """
    checkpoint = Checkpoint.parse(open_note(note, [log_key]).text)
    expected = log_key.name if origin is None else origin
    if checkpoint.origin != expected:
        raise NoteError(
            f"the checkpoint is of log {checkpoint.origin!r}, not {expected!r}"
        )
    return checkpoint
