"""The Redis cache (throttle and rate-limit counters) when Redis is the broker: with Redis down, every
operation answers at once as a miss instead of raising, so pages and the API keep answering (limits are then
not counted until Redis is back; the outage shows on /healthz)."""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

log = logging.getLogger(__name__)

# After a failure, Redis is not tried again for this long (each try may wait for the connect timeout).
RETRY_AFTER_SECONDS = 5.0


class _FailSoftClient(RedisCacheClient):
    _down_until = 0.0

    def _guard(self, name, default, *args, **kwargs):
        import redis

        if time.monotonic() < _FailSoftClient._down_until:
            return default
        try:
            return getattr(super(), name)(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            log.warning("Redis cache unreachable (%s): %s treated as a miss", exc, name)
            _FailSoftClient._down_until = time.monotonic() + RETRY_AFTER_SECONDS
            return default

    def get(self, key, default):
        return self._guard("get", default, key, default)

    def set(self, key, value, timeout):
        return self._guard("set", None, key, value, timeout)

    def add(self, key, value, timeout):
        return self._guard("add", True, key, value, timeout)

    def touch(self, key, timeout):
        return self._guard("touch", False, key, timeout)

    def delete(self, key):
        return self._guard("delete", False, key)

    def get_many(self, keys):
        return self._guard("get_many", {}, keys)

    def set_many(self, data, timeout):
        return self._guard("set_many", None, data, timeout)

    def delete_many(self, keys):
        return self._guard("delete_many", None, keys)

    def has_key(self, key):
        return self._guard("has_key", False, key)

    def incr(self, key, delta):
        return self._guard("incr", delta, key, delta)

    def clear(self):
        return self._guard("clear", False)


class FailSoftRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _FailSoftClient
