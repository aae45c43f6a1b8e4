"""A Merkle tree over byte strings, hashed as RFC 6962 (Certificate Transparency) does: a leaf is
``SHA-256(0x00 || data)``, an inner node ``SHA-256(0x01 || left || right)``, the tree of n leaves
splits at the largest power of two below n, and the empty tree is ``SHA-256("")``. The prefixes
keep a leaf from passing for a node (second-preimage attacks).

One patient's inclusion proof is the audit path: log2(N) hashes, whatever the size of the cohort.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root_of(leaves: Sequence[bytes]) -> bytes:
    """The tree head of these leaf hashes (already :func:`leaf_hash`-ed), in their order."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    # bottom-up, pairing neighbours and carrying an odd one up: the same tree as RFC 6962's
    # recursive definition (its left subtrees are always complete)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index``: the sibling hashes from the leaf up to the root."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} of a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_proof(leaves[:k], index), root_of(leaves[k:])]
    return [*inclusion_proof(leaves[k:], index - k), root_of(leaves[:k])]


def root_from_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """The root that leaf hash ``leaf`` at ``index`` and its audit path lead to in a tree of
    ``size`` leaves (RFC 9162, 2.1.3.2); None if the path has the wrong length."""
    if not 0 <= index < size:
        return None
    fn, sn, node = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            node = node_hash(sibling, node)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    return node if sn == 0 else None
