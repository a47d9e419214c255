import hashlib
from functools import lru_cache

# An independent check, written from RFC 9162 section 2.1 as it reads:
# MTH (2.1.1), PATH (2.1.3.1) and PROOF/SUBPROOF (2.1.4.1), recursive and
# naive, over a list of entries. Only SHA-256 is shared with the product.


def sha256(data):
    return hashlib.sha256(data).digest()


class Reference:
    def __init__(self, entries):
        self.leaves = [sha256(b"\x00" + e) for e in entries]
        # Memoised on the range only, so that proofs over 100,000 leaves stay
        # fast; the recursion itself is the RFC's.
        self.mth = lru_cache(maxsize=None)(self._mth)

    def _mth(self, start, end):
        n = end - start
        if n == 0:
            return sha256(b"")
        if n == 1:
            return self.leaves[start]
        k = 1
        while k * 2 < n:
            k *= 2
        return sha256(b"\x01" + self.mth(start, start + k) + self.mth(start + k, end))

    def path(self, m, start, end):
        n = end - start
        if n == 1:
            return []
        k = 1
        while k * 2 < n:
            k *= 2
        if m < k:
            return self.path(m, start, start + k) + [self.mth(start + k, end)]
        return self.path(m - k, start + k, end) + [self.mth(start, start + k)]

    def subproof(self, m, start, end, b):
        n = end - start
        if m == n:
            return [] if b else [self.mth(start, end)]
        k = 1
        while k * 2 < n:
            k *= 2
        if m <= k:
            return self.subproof(m, start, start + k, b) + [self.mth(start + k, end)]
        return self.subproof(m - k, start + k, end, False) + [
            self.mth(start, start + k)
        ]

    def proof(self, m, n):
        return self.subproof(m, 0, n, True)
