"""A visitor's receipt: their event, its inclusion proof, and the checkpoint it is in.

A receipt is one JSON object::

    {"event": {...}, "leaf_index": 7, "tree_size": 12,
     "inclusion": ["base64", ...], "checkpoint": "signed note"}

``event`` is the event's entry object (:mod:`consent_server.domain.entry`),
so the leaf hash is computed from the receipt itself. :func:`check` needs
nothing but the receipt and the log's verifier key: no database, no network.
It proves that the log, under that key, committed to this event at this
place in a tree whose signed head it holds; anyone with a later checkpoint
can then ask the log for a consistency proof that the tree still contains it.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from . import merkle
from .entry import FIELDS_V1, FIELDS_V2, VERSIONS, canonical
from .errors import InvalidInput
from .note import Checkpoint, NoteError, Verifier, open_checkpoint

# A config hash as entries hold it: SHA-256 in lower-case hex.
HEX64 = re.compile("[0-9a-f]{64}")


class BadReceipt(InvalidInput):
    """A receipt that does not prove what it claims; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__("invalid_receipt", message)


def build(
    event: dict[str, Any],
    leaf_index: int,
    tree_size: int,
    inclusion: list[bytes],
    checkpoint_note: str,
) -> dict[str, Any]:
    """A receipt as the API hands it out."""
    return {
        "event": event,
        "leaf_index": leaf_index,
        "tree_size": tree_size,
        "inclusion": [base64.b64encode(h).decode() for h in inclusion],
        "checkpoint": checkpoint_note,
    }


@dataclass(frozen=True)
class CheckedReceipt:
    """What a receipt proved."""

    checkpoint: Checkpoint
    leaf_index: int
    event: dict[str, Any]


def _whole(value: Any, name: str) -> int:
    if type(value) is not int or value < 0:
        raise BadReceipt(f"{name} is not a whole number")
    return value


def _hashes(value: Any) -> list[bytes]:
    if not isinstance(value, list) or not all(isinstance(h, str) for h in value):
        raise BadReceipt("inclusion is not a list of base64 hashes")
    out = []
    for text in value:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        # One spelling per hash: unused low bits set would still decode.
        if len(raw) != merkle.HASH_SIZE or base64.b64encode(raw).decode() != text:
            raise BadReceipt("inclusion holds something that is not a 32-byte hash")
        out.append(raw)
    return out


def check(receipt: Any, verifier: Verifier) -> CheckedReceipt:
    """Check a receipt against the log's verifier key alone.

    :raise BadReceipt: naming the first thing that does not hold.
    """
    if not isinstance(receipt, dict):
        raise BadReceipt("a receipt is a JSON object")
    missing = [
        k
        for k in ("event", "leaf_index", "tree_size", "inclusion", "checkpoint")
        if k not in receipt
    ]
    if missing:
        raise BadReceipt(f"the receipt has no {', '.join(missing)}")
    event = receipt["event"]
    if not isinstance(event, dict) or event.get("v") not in VERSIONS:
        raise BadReceipt(
            f"event is not a log entry of version {' or '.join(map(str, VERSIONS))}"
        )
    version = event["v"]
    if set(event) != {"v", *(FIELDS_V2 if version == 2 else FIELDS_V1)} or (
        version == 2
        and not (
            isinstance(event["config_hash"], str)
            and HEX64.fullmatch(event["config_hash"])
        )
    ):
        raise BadReceipt(
            f"event does not hold the fields of a version {version} log entry"
        )
    leaf_index = _whole(receipt["leaf_index"], "leaf_index")
    tree_size = _whole(receipt["tree_size"], "tree_size")
    proof = _hashes(receipt["inclusion"])
    note = receipt["checkpoint"]
    if not isinstance(note, str):
        raise BadReceipt("checkpoint is not a signed note")
    try:
        checkpoint = open_checkpoint(note, verifier)
    except NoteError as exc:
        raise BadReceipt(f"the checkpoint does not verify: {exc.message}") from None
    if checkpoint.size != tree_size:
        raise BadReceipt(
            f"tree_size is {tree_size} but the checkpoint is of {checkpoint.size}"
        )
    try:
        leaf = merkle.leaf_hash(canonical(event))
    except (TypeError, ValueError):
        raise BadReceipt("event cannot be written as canonical JSON") from None
    if not merkle.verify_inclusion(leaf_index, tree_size, leaf, proof, checkpoint.root):
        raise BadReceipt(
            "the event is not in the checkpoint's tree at that leaf: the"
            " receipt was changed, or is not from this log"
        )
    return CheckedReceipt(checkpoint, leaf_index, event)
