"""Request rates of the annotator site, counted by Django REST framework's throttle in the cache.

Two rates (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]; env THROTTLE_ANNOTATOR, THROTTLE_NEW_SESSION):
- `annotator`: every request of one participant's session (pages, answers, images), keyed by the
  session, not the address, since a lab's participants share one address;
- `new_session`: sessions started from one address, so that a script cannot invent participants
  without end and hold the study's artworks away from real ones.

Counts live in the default cache: shared by every web process with CACHE_URL (Redis), per process
without. A cache that cannot be reached lets requests through (logged): losing a rate limit for a
while costs less than turning participants away mid-study.
"""
import logging
import math

from django.core.checks import Tags, Warning, register
from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger("artalign.throttle")


class AnnotatorThrottle(SimpleRateThrottle):
    """DRF's sliding-window throttle for one scope and one key (default: the client's address,
    read as DRF does, with NUM_PROXIES)."""

    def __init__(self, scope: str, ident: object = None):
        self.scope, self.ident = scope, ident
        super().__init__()

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # read now: tests and settings may change it

    def get_cache_key(self, request, view) -> str:
        ident = self.get_ident(request) if self.ident is None else self.ident
        return self.cache_format % {"scope": self.scope, "ident": ident}


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
