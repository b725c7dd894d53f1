"""The cache backend with CACHE_URL: Django's Redis cache, keeping one redis-py client per pool.

Django's RedisCacheClient builds a new `redis.Redis` for every cache operation, and building one
fills its table of about 170 response callbacks; the annotator site's throttles make two cache
operations per request, so that construction was about 4% of a submission's web CPU (bench.load,
profiled). A redis-py client is thread-safe and holds no connection of its own (its pool does, and
the pool starts afresh in a forked process), so one client per pool serves every operation.
"""
from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class KeptClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class KeptClientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = KeptClientRedisCacheClient
        self._scripts: dict[str, object] = {}

    def script(self, source: str):
        """A Lua script run on the cache's server in one round trip (redis-py's Script: EVALSHA,
        loaded on first use), registered once per process."""
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self._cache.get_client(write=True).register_script(source)
        return script
