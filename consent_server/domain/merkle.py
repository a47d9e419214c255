"""The consent log's Merkle tree: RFC 9162 section 2.1 hashing, proofs and checks.

The tree is kept as the hashes of its *complete* subtrees: node ``(level,
index)`` covers the leaves ``[index * 2**level, (index + 1) * 2**level)`` and
is stored once, when its last leaf arrives (level 0 holds the leaf hashes).
Such a node never changes, so the same stored hashes serve every tree size,
past or present. A subtree hash a proof needs, MTH(D[a:b]), is one stored
node when the range is complete, or otherwise folded from the O(log n) stored
nodes that tile the range from the left (the tree's right edge). Appending a
leaf stores one leaf hash and on average one node above it.

The algorithms work against a :class:`HashSource` (one ``get_many`` for all
the hashes a proof or a root needs, so a database answers in one query);
:class:`MemoryStore` is the in-memory one. Proofs are lists of 32-byte hashes
in the RFC's order; the checks follow sections 2.1.3.2 and 2.1.4.2 step by
step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

HASH_SIZE = 32
# MTH({}) = SHA-256() (RFC 9162 section 2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()


@dataclass(frozen=True, slots=True)
class Node:
    """A complete subtree's hash: leaves [index * 2**level, (index + 1) * 2**level)."""

    level: int
    index: int
    hash: bytes


Key = tuple[int, int]


class HashSource(Protocol):
    """Where the tree's stored hashes come from (a table, or memory)."""

    def get_many(self, keys: Sequence[Key]) -> list[bytes]:
        """The hashes of the nodes ``(level, index)``, in the order asked.

        :raise KeyError: a node is not stored (the tree is smaller than asked).
        """
        ...


class MemoryStore:
    """A :class:`HashSource` in a dict, for tests and offline checks."""

    def __init__(self) -> None:
        self.nodes: dict[Key, bytes] = {}
        self.size = 0

    def get(self, level: int, index: int) -> bytes:
        """One stored node's hash; :raise KeyError: not stored."""
        return self.nodes[(level, index)]

    def get_many(self, keys: Sequence[Key]) -> list[bytes]:
        """The hashes of the nodes asked for, in that order."""
        return [self.nodes[key] for key in keys]

    def append(self, leaf_hashes: Sequence[bytes]) -> list[Node]:
        """Add leaves after the current ones; returns the nodes it stored."""
        made = append_leaves(self, self.size, leaf_hashes)
        self.nodes.update(((n.level, n.index), n.hash) for n in made)
        self.size += len(leaf_hashes)
        return made


def leaf_hash(entry: bytes) -> bytes:
    """The leaf hash of an entry: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """An interior node's hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (which is at least 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def range_keys(start: int, end: int) -> list[Key]:
    """The stored nodes that tile leaves [start, end), largest first.

    ``start`` must be a multiple of the smallest power of two at least
    ``end - start``, as every range of the RFC's recursion is (and [0, n)).
    """
    size = end - start
    if size <= 0 or start % (1 << (size - 1).bit_length()):
        raise ValueError(f"[{start}, {end}) is not a subtree range")
    keys = []
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            keys.append((level, start >> level))
            start += 1 << level
    return keys


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of the range tiled by these nodes (largest first): folded
    from the right, as MTH splits off its largest complete left subtree."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _hashes_of(source: HashSource, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """MTH of each range, with one ``get_many`` for all of them."""
    tilings = [range_keys(a, b) for a, b in ranges]
    fetched = iter(source.get_many([key for keys in tilings for key in keys]))
    return [fold([next(fetched) for _ in keys]) for keys in tilings]


def root(source: HashSource, size: int) -> bytes:
    """The tree head MTH(D[0:size]) of the first ``size`` leaves."""
    if size == 0:
        return EMPTY_ROOT
    return _hashes_of(source, [(0, size)])[0]


def frontier_keys(size: int) -> list[Key]:
    """The complete nodes along the right edge of a tree of ``size`` leaves:
    all a new leaf's ancestors can need, and what its root folds."""
    return range_keys(0, size) if size else []


def append_leaves(
    source: HashSource, size: int, leaf_hashes: Iterable[bytes]
) -> list[Node]:
    """The nodes to store when leaves join a tree of ``size`` leaves: each
    new leaf, and every subtree that its arrival completes.

    Reads only the current right edge (one ``get_many``), so a batch of N
    leaves costs one read and about 2N new nodes.
    """
    keys = frontier_keys(size)
    edge = dict(zip(keys, source.get_many(keys), strict=True))
    made: list[Node] = []
    index = size
    for value in leaf_hashes:
        if len(value) != HASH_SIZE:
            raise ValueError("a leaf hash has 32 bytes")
        level, position, current = 0, index, value
        made.append(Node(0, position, current))
        edge[(0, position)] = current
        # A node at an odd position completes its parent with its left sibling.
        while position & 1:
            current = node_hash(edge.pop((level, position - 1)), current)
            del edge[(level, position)]
            level, position = level + 1, position >> 1
            made.append(Node(level, position, current))
            edge[(level, position)] = current
        index += 1
    return made


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The subtrees whose hashes make PATH(index, D[0:size]) (RFC 9162
    section 2.1.3.1), in the proof's order: from the leaf up."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    start, end, ranges = 0, size, []
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The subtrees whose hashes make PROOF(old_size, D[0:new_size]) (RFC
    9162 section 2.1.4.1), in the proof's order; none when the sizes match."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size}")
    start, end, whole, ranges = 0, new_size, True, []
    # SUBPROOF(m, D[start:end], whole), unrolled: m stays an absolute size.
    while old_size != end:
        k = _split(end - start)
        if old_size - start <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            whole = False
    if not whole:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def inclusion_proof(source: HashSource, index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves."""
    return _hashes_of(source, inclusion_ranges(index, size))


def consistency_proof(source: HashSource, old_size: int, new_size: int) -> list[bytes]:
    """The proof that the tree of ``new_size`` leaves extends that of ``old_size``."""
    return _hashes_of(source, consistency_ranges(old_size, new_size))


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """Whether ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree
    of ``size`` leaves whose head is ``root_hash`` (RFC 9162 section 2.1.3.2)."""
    # 1. The index must be inside the tree.
    if not 0 <= index < size or any(len(p) != HASH_SIZE for p in proof):
        return False
    # 2.-3.
    fn, sn, r = index, size - 1, leaf
    # 4.
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    # 5.
    return sn == 0 and r == root_hash


def verify_consistency(
    old_size: int,
    new_size: int,
    proof: Sequence[bytes],
    old_root: bytes,
    new_root: bytes,
) -> bool:
    """Whether ``proof`` shows the tree (``new_size``, ``new_root``) extends
    (``old_size``, ``old_root``) (RFC 9162 section 2.1.4.2).

    The RFC's algorithm covers 0 < old_size < new_size. Equal sizes need an
    empty proof and equal heads; every tree extends the empty one (size 0,
    whose head is :data:`EMPTY_ROOT`), with an empty proof.
    """
    if any(len(c) != HASH_SIZE for c in proof) or not 0 <= old_size <= new_size:
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if old_size == new_size:
        return not proof and old_root == new_root
    # 1.
    if not proof:
        return False
    path = list(proof)
    # 2.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # 3.
    fn, sn = old_size - 1, new_size - 1
    # 4.
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    # 5.
    fr = sr = path[0]
    # 6.
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    # 7.
    return fr == old_root and sr == new_root and sn == 0


def root_of(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH of a whole sequence of leaf hashes, streamed (an export's root):
    keeps only the right edge, O(log n) hashes."""
    edge: list[tuple[int, bytes]] = []  # (level, hash), levels decreasing
    for value in leaf_hashes:
        level, current = 0, value
        while edge and edge[-1][0] == level:
            current = node_hash(edge.pop()[1], current)
            level += 1
        edge.append((level, current))
    if not edge:
        return EMPTY_ROOT
    return fold([h for _, h in edge])
