"""What one process keeps of the shared cache in its own memory: answers served without a round trip.

An entry belongs to a namespace (the same namespaces `Cache.bump` invalidates) and carries the namespace's
*generation* in this process when its computation began. `invalidate(namespace)` moves the generation on, so every
older entry — and every computation still running — stops counting at once; nothing is scanned. The owning cache
calls it when this process bumps the namespace and, with Redis, when another process's bump is broadcast (see
`core.cache.RedisCache`, which acknowledges each broadcast before the bumping request answers).

The near cache answers only while it is `live`: a Redis cache turns it off whenever it cannot hear the broadcasts
(not yet subscribed, connection lost), because then it could miss an invalidation.
"""

from __future__ import annotations

import time
from collections import OrderedDict


class NearCache:
    """Byte-bounded LRU of (namespace, key) → bytes, each entry valid for its generation and until its expiry."""

    def __init__(self, max_bytes: int, *, live: bool = True) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, str], tuple[int, float, bytes]] = OrderedDict()
        self._bytes = 0
        self._generations: dict[str, int] = {}
        # Bumped by reset(): entries of every namespace from before a gap in the broadcasts stop counting.
        self._epoch = 0
        self.live = live

    def generation(self, namespace: str) -> int | None:
        """The token to `put` a value computed from now on under; None while the near cache must not answer."""
        if not self.live or self.max_bytes <= 0:
            return None
        return self._epoch + self._generations.get(namespace, 0)

    def get(self, namespace: str, key: str) -> bytes | None:
        entry_key = (namespace, key)
        entry = self._entries.get(entry_key)
        if entry is None:
            return None
        generation, expires, value = entry
        if not self.live or generation != self._epoch + self._generations.get(namespace, 0):
            return None
        if expires <= time.monotonic():
            self._drop(entry_key)
            return None
        self._entries.move_to_end(entry_key)
        return value

    def put(self, namespace: str, key: str, value: bytes, *, generation: int, ttl: float) -> None:
        """Keep `value` if nothing invalidated the namespace since `generation` was read."""
        if generation != self.generation(namespace) or ttl <= 0 or len(value) > self.max_bytes // 8:
            return
        entry_key = (namespace, key)
        self._drop(entry_key)
        self._entries[entry_key] = (generation, time.monotonic() + ttl, value)
        self._bytes += len(value) + len(key)
        while self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def invalidate(self, namespace: str) -> None:
        self._generations[namespace] = self._generations.get(namespace, 0) + 1

    def reset(self, *, live: bool) -> None:
        """Forget everything (a gap in the broadcasts may have hidden invalidations) and answer again only if live."""
        self._epoch += 1_000_000_000
        self._entries.clear()
        self._bytes = 0
        self.live = live

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, entry_key: tuple[str, str]) -> None:
        entry = self._entries.pop(entry_key, None)
        if entry is not None:
            self._bytes -= len(entry[2]) + len(entry_key[1])
