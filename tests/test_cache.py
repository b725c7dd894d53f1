"""The Redis cache backend (config.cache): Django's, with one redis-py client kept per pool."""

import pytest

from config.cache import KeptClientRedisCache
from tests.conftest import require, worker_redis_url


def test_the_same_client_serves_every_operation_and_reads_and_writes_as_django_s_does():
    url = worker_redis_url(second=True)
    require(bool(url), "TEST_REDIS_URL is not set")
    cache = KeptClientRedisCache(url, {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
                                       "KEY_PREFIX": "test-cache-backend"})
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client and cache._cache.get_client() is client  # one server
    cache.set("rate", [1.5, 2.5], 30)
    assert cache.get("rate") == [1.5, 2.5] and cache.get("missing", "default") == "default"
    cache.delete("rate")
    assert cache.get("rate") is None


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0"])
def test_a_cache_that_is_down_gives_up_within_its_timeout(url):
    from redis.exceptions import ConnectionError as RedisConnectionError

    cache = KeptClientRedisCache(url, {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}})
    with pytest.raises(RedisConnectionError):
        cache.get("anything")
