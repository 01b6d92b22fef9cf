"""Verified access tokens, remembered for a while: a bounded LRU keyed by the token's SHA-256.

Verifying an RS256 access token (base64, JSON, an RSA signature, the claims) is stateless:
the same token verifies the same way until its ``exp``. A success can therefore be kept and
answered again without the signature check, as long as:

- the key is the whole token: a changed byte anywhere is a different key, so a tampered
  token is never served from the cache;
- an entry is refused from its ``exp`` on, exactly as the verifier would (PyJWT, leeway 0:
  expired when ``exp <= now``), and then forgotten;
- failures are never kept: an invalid token is verified (and refused) every time;
- whether the token's user lost their access since (:mod:`common.withdrawals`) is asked by
  the caller on every request, hit or miss: the cache holds only what cannot change.

What invalidates an entry: its ``exp``, and being the least recently used once the cache is
full. A new signing key restarts every process (the verifying key is a setting), which
empties it. Used by every service's authentication (:mod:`common.authentication`) and by
the gateway (``proxy.tokens``, with metrics of its own).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

# What the cache answers for a token it holds whose exp has passed: refused without a second look.
EXPIRED: Any = object()


def token_key(raw_token: bytes | str) -> bytes:
    """The cache key of a raw token: its SHA-256, 32 bytes whatever the token's length.

    The key is no credential, but what an entry keeps may hold one: the services keep the verified
    token object, whose ``token`` attribute is the raw token (the gateway keeps only the claims).
    """
    return hashlib.sha256(raw_token.encode() if isinstance(raw_token, str) else raw_token).digest()


class VerifiedTokenCache:
    """A thread-safe LRU of verified tokens: key -> (exp, what the verification gave)."""

    def __init__(self, max_size: int):
        self.max_size = max_size
        self._entries: OrderedDict[bytes, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: bytes, now: float) -> Any:
        """Return what was kept, None if the token is unknown, or ``EXPIRED`` (and forget it) from its exp on."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= now:  # never accepted again, and no longer worth keeping
                del self._entries[key]
                return EXPIRED
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: bytes, exp: float, value: Any) -> None:
        if self.max_size <= 0:
            return
        with self._lock:
            self._entries[key] = (exp, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
