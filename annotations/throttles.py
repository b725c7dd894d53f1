"""Request rates of the annotator site, counted by Django REST framework's throttle in the cache.

Two rates (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]; env THROTTLE_ANNOTATOR, THROTTLE_NEW_SESSION):
- `annotator`: every request of one participant's session (pages, answers, images), keyed by the
  session, not the address, since a lab's participants share one address;
- `new_session`: sessions started from one address, so that a script cannot invent participants
  without end and hold the study's artworks away from real ones.

Counts live in the default cache: shared by every web process with CACHE_URL (Redis), per process
without. On Redis (config.cache) a request is counted by one Lua script, DRF's sliding window kept as
a sorted set of request times: one round trip instead of DRF's read and write of the whole pickled
history, and atomic, so that requests sent at once are all counted (DRF's read-then-write lets the
later write drop the earlier one's count). A cache that cannot be reached lets requests through
(logged): losing a rate limit for a while costs less than turning participants away mid-study.
"""
import logging
import math
import secrets

from django.core.checks import Tags, Warning, register
from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger("artalign.throttle")


# KEYS[1]: the count; ARGV: now, the window (s), the rate's number of requests, a unique member.
# Refused: the oldest request time still in the window; allowed: nil (the request is counted).
SLIDING_WINDOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])))
return false
"""


class AnnotatorThrottle(SimpleRateThrottle):
    """DRF's sliding-window throttle for one scope and one key (default: the client's address,
    read as DRF does, with NUM_PROXIES); on Redis, counted by SLIDING_WINDOW."""

    def __init__(self, scope: str, ident: object = None):
        self.scope, self.ident = scope, ident
        super().__init__()

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # read now: tests and settings may change it

    def get_cache_key(self, request, view) -> str:
        ident = self.get_ident(request) if self.ident is None else self.ident
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        if self.rate is None or not hasattr(self.cache, "script"):
            return super().allow_request(request, view)
        # A key of its own: DRF's (a pickled list) may still be in the cache from before.
        self.key, self.now = f"{self.get_cache_key(request, view)}.times", self.timer()
        oldest = self.cache.script(SLIDING_WINDOW)(keys=[self.cache.make_and_validate_key(self.key)], args=[
            repr(self.now), self.duration, self.num_requests, f"{self.now!r}:{secrets.token_hex(4)}"])
        self.history = [] if oldest is None else [float(oldest)]  # what DRF's wait() reads: the oldest
        return oldest is None

    def wait(self) -> float | None:
        if hasattr(self.cache, "script") and self.history:
            return self.duration - (self.now - self.history[-1])
        return super().wait()


def throttle_wait(scope: str, request, ident: object = None) -> int | None:
    """Count this request against `scope`'s rate for `ident`: None if allowed, else the whole
    seconds to wait before the next one is."""
    throttle = AnnotatorThrottle(scope, ident)
    try:
        if throttle.allow_request(request, None):
            return None
    except (RedisError, OSError) as exc:
        logger.warning("throttle %s: cache unreachable, request let through: %s: %s", scope, type(exc).__name__, exc)
        return None
    return max(1, math.ceil(throttle.wait() or 1))


@register(Tags.security, deploy=True)
def throttle_cache_check(app_configs, **kwargs) -> list[Warning]:
    from django.conf import settings

    rates = [rate for rate in api_settings.DEFAULT_THROTTLE_RATES.values() if rate]
    if rates and settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        return [Warning("Request rates are counted per process: each gunicorn worker lets a participant make the "
                        "whole rate.", hint="Set CACHE_URL=redis://127.0.0.1:6379/1 so that web processes share "
                        "the counts.", id="annotations.W001")]
    return []
