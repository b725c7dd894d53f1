"""gunicorn in the production profile (DEBUG off) on a loopback port, for tests that need a real
server: the same launcher as the load benchmark (bench.server)."""
import http.cookiejar
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from bench.server import free_port, gunicorn_start, server_env, server_stop, server_wait


def server_database_url() -> str:
    """The test database, as a URL for a server process."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@contextmanager
def gunicorn_serving(tmp_path: Path, static_root: Path, media_root: Path, workers: int = 1, healthy: bool = True,
                     **env):
    """Yields the base URL of a gunicorn serving the project with `env` on top of the loopback profile;
    once /healthz says 200, or (healthy=False) once it answers at all."""
    full = {**server_env(media_root, tmp_path / "var", static_root), "CELERY_BROKER_URL": "", **env}
    port = free_port()
    process = gunicorn_start(full, port, workers, 1, tmp_path / "gunicorn.log")
    base = f"http://127.0.0.1:{port}"
    try:
        server_wait(base, process, timeout=60) if healthy else _wait_listening(base, process)
        yield base
    finally:
        server_stop(process)


@contextmanager
def not_http_serving(answer: bytes = b"garbage\r\n"):
    """Yields the base URL of a loopback server that answers every request with one line that is not
    HTTP (urllib raises http.client.BadStatusLine, which is no OSError)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                try:
                    conn.settimeout(5)
                    conn.recv(65536)
                    conn.sendall(answer)
                except OSError:
                    pass  # the client gave up first

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def _wait_listening(base: str, process, timeout: float = 60) -> None:
    """For a server whose /healthz is expected to fail: until it answers at all."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited"
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=5)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer")


class Browser:
    """A cookie-keeping HTTP client that never follows redirects by itself and never raises on 4xx/5xx."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str, follow: bool = True):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.jar)]
        if not follow:
            handlers.append(self._NoRedirect())
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, path: str, data: dict | None = None, headers: dict | None = None, params: dict | None = None):
        url = self.base + path + (f"?{urllib.parse.urlencode(params)}" if params else "")
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), exc.headers
