import random

import pytest

from consent_server.domain import merkle
from tests.rfc9162 import Reference, sha256


def entries(n, seed=0):
    rng = random.Random(seed)
    return [rng.randbytes(rng.randrange(0, 40)) for _ in range(n)]


def grown_store(leaf_hashes, seed=0):
    # Appended in batches of random sizes, as the integrator will: every
    # batch's nodes are made from the stored right edge alone.
    rng = random.Random(seed)
    store = merkle.MemoryStore()
    at = 0
    while at < len(leaf_hashes):
        step = rng.choice((1, 1, 2, 3, 7, 64, 500))
        store.append(leaf_hashes[at : at + step])
        at += step
    return store


def flipped(proof, i):
    changed = list(proof)
    changed[i] = bytes([changed[i][0] ^ 1]) + changed[i][1:]
    return changed


@pytest.fixture(scope="module")
def small():
    ref = Reference(entries(64))
    return ref, grown_store(ref.leaves)


def test_hashing_is_rfc_9162():
    assert merkle.leaf_hash(b"entry") == sha256(b"\x00entry")
    assert merkle.node_hash(b"a" * 32, b"b" * 32) == sha256(
        b"\x01" + b"a" * 32 + b"b" * 32
    )
    assert sha256(b"") == merkle.EMPTY_ROOT
    assert merkle.root(merkle.MemoryStore(), 0) == sha256(b"")


def test_roots_of_every_size_up_to_64(small):
    ref, store = small
    for n in range(65):
        assert merkle.root(store, n) == ref.mth(0, n)
        assert merkle.root_of(ref.leaves[:n]) == ref.mth(0, n)


def test_the_store_keeps_only_complete_subtrees(small):
    ref, store = small
    # 64 leaves: 64 + 32 + ... + 1 nodes, each the MTH of exactly its range.
    assert len(store.nodes) == 127
    for (level, index), value in store.nodes.items():
        assert value == ref.mth(index << level, (index + 1) << level)


def test_inclusion_proofs_for_every_size_up_to_64(small):
    ref, store = small
    for n in range(1, 65):
        head = ref.mth(0, n)
        for i in range(n):
            proof = merkle.inclusion_proof(store, i, n)
            assert proof == ref.path(i, 0, n)
            leaf = ref.leaves[i]
            assert merkle.verify_inclusion(i, n, leaf, proof, head)
            for j in range(len(proof)):
                assert not merkle.verify_inclusion(i, n, leaf, flipped(proof, j), head)
            assert not merkle.verify_inclusion(i, n, leaf, proof + [head], head)
            if proof:
                assert not merkle.verify_inclusion(i, n, leaf, proof[:-1], head)
            # Another leaf's index, or another size with that size's head.
            for other in {i - 1, i + 1, (i + 5) % n} - {i}:
                assert not merkle.verify_inclusion(other, n, leaf, proof, head)
            for size in {n - 1, n + 1, n + 2, 64} - {n}:
                if 0 < size <= 64:
                    assert not merkle.verify_inclusion(
                        i, size, leaf, proof, ref.mth(0, size)
                    )
            assert not merkle.verify_inclusion(i, n, flipped([leaf], 0)[0], proof, head)


def test_consistency_proofs_for_every_pair_of_sizes_up_to_64(small):
    ref, store = small
    for n in range(1, 65):
        new = ref.mth(0, n)
        for m in range(1, n + 1):
            old = ref.mth(0, m)
            proof = merkle.consistency_proof(store, m, n)
            assert proof == ref.proof(m, n)
            assert merkle.verify_consistency(m, n, proof, old, new)
            for j in range(len(proof)):
                assert not merkle.verify_consistency(m, n, flipped(proof, j), old, new)
            assert not merkle.verify_consistency(m, n, proof + [new], old, new)
            if proof:
                assert not merkle.verify_consistency(m, n, proof[:-1], old, new)
            for size in {m - 1, m + 1, 1} - {m}:
                if 0 < size <= n:
                    assert not merkle.verify_consistency(
                        size, n, proof, ref.mth(0, size), new
                    )
            for size in {n - 1, n + 1, 64} - {n}:
                if m <= size <= 64:
                    assert not merkle.verify_consistency(
                        m, size, proof, old, ref.mth(0, size)
                    )
            # A rewritten past: the old head of other leaves.
            assert not merkle.verify_consistency(m, n, proof, flipped([old], 0)[0], new)


def test_every_tree_extends_the_empty_one(small):
    ref, store = small
    assert merkle.verify_consistency(0, 5, [], merkle.EMPTY_ROOT, ref.mth(0, 5))
    assert not merkle.verify_consistency(0, 5, [], ref.mth(0, 1), ref.mth(0, 5))
    with pytest.raises(ValueError):
        merkle.consistency_proof(store, 0, 5)
    with pytest.raises(ValueError):
        merkle.inclusion_proof(store, 5, 5)
    assert not merkle.verify_inclusion(5, 5, ref.leaves[5], [], ref.mth(0, 5))


def test_proofs_beyond_the_stored_tree_are_refused(small):
    _, store = small
    with pytest.raises(KeyError):
        merkle.inclusion_proof(store, 3, 65)
    with pytest.raises(KeyError):
        merkle.root(store, 65)


def test_random_proofs_in_a_tree_of_100000():
    n_max = 100_000
    ref = Reference(entries(n_max, seed=1))
    store = grown_store(ref.leaves, seed=1)
    assert store.size == n_max
    # About two stored nodes per leaf.
    assert len(store.nodes) == 2 * n_max - bin(n_max).count("1")
    rng = random.Random(2)
    for _ in range(60):
        n = rng.randint(1, n_max)
        m = rng.randint(1, n)
        i = rng.randrange(n)
        head, old = ref.mth(0, n), ref.mth(0, m)
        assert merkle.root(store, n) == head
        proof = merkle.inclusion_proof(store, i, n)
        assert proof == ref.path(i, 0, n)
        assert merkle.verify_inclusion(i, n, ref.leaves[i], proof, head)
        for j in range(len(proof)):
            assert not merkle.verify_inclusion(
                i, n, ref.leaves[i], flipped(proof, j), head
            )
        other = (i + rng.randrange(1, n)) % n if n > 1 else 1
        assert not merkle.verify_inclusion(other, n, ref.leaves[i], proof, head)
        size = rng.randint(i + 1, n_max)
        if size != n:
            assert not merkle.verify_inclusion(
                i, size, ref.leaves[i], proof, ref.mth(0, size)
            )
        proof = merkle.consistency_proof(store, m, n)
        assert proof == ref.proof(m, n)
        assert merkle.verify_consistency(m, n, proof, old, new := head)
        for j in range(len(proof)):
            assert not merkle.verify_consistency(m, n, flipped(proof, j), old, new)
        if m > 1:
            assert not merkle.verify_consistency(
                m - 1, n, proof, ref.mth(0, m - 1), new
            )
        if n < n_max:
            assert not merkle.verify_consistency(
                m, n + 1, proof, old, ref.mth(0, n + 1)
            )
    assert merkle.root_of(ref.leaves) == ref.mth(0, n_max)


def test_a_batch_makes_its_nodes_from_the_right_edge_alone():
    leaves = [merkle.leaf_hash(e) for e in entries(1000, seed=3)]
    whole = merkle.MemoryStore()
    whole.append(leaves)
    # A store that holds only the right edge of 777 leaves still gets every
    # node a batch completes.
    edge = merkle.MemoryStore()
    edge.nodes = {k: whole.nodes[k] for k in merkle.frontier_keys(777)}
    made = merkle.append_leaves(edge, 777, leaves[777:])
    assert {(n.level, n.index): n.hash for n in made} == {
        k: v for k, v in whole.nodes.items() if ((k[1] + 1) << k[0]) > 777
    }


def test_leaf_hashes_must_be_32_bytes():
    with pytest.raises(ValueError):
        merkle.MemoryStore().append([b"short"])
