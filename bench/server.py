"""gunicorn in the production profile (DEBUG off, plain HTTP) on a free loopback port: the server of
the load benchmark (`python -m bench.load`) and of the tests that need a real server process
(tests/servers.py, tests/conftest.py)."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Each simulated participant of the load benchmark sends about 2 requests a second at saturation;
# all of them start sessions from 127.0.0.1, several a second.
BENCH_RATES = {"THROTTLE_ANNOTATOR": "600/min", "THROTTLE_NEW_SESSION": "100000/hour"}


def server_env(media_root: Path, var_dir: Path, static_root: Path) -> dict[str, str]:
    """The production profile on loopback: DEBUG off, plain HTTP (no TLS on 127.0.0.1). The request
    rates stay on, raised (unless the environment sets them) for a crowd that shares one address
    and sends without pause: BENCH_RATES."""
    key = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50)
    return {**BENCH_RATES, **os.environ, "DEBUG": "false", "SECRET_KEY": key,
            "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "false", "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false", "MEDIA_ROOT": str(media_root), "VAR_DIR": str(var_dir),
            "STATIC_ROOT": str(static_root), "DJANGO_SETTINGS_MODULE": "config.settings"}


def static_collect(env: dict) -> None:
    """collectstatic into the env's STATIC_ROOT, unless it holds a collection already."""
    if not (Path(env["STATIC_ROOT"]) / "staticfiles.json").is_file():
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=PROJECT_ROOT,
                       env=env, check=True)


def gunicorn_start(env: dict, port: int, workers: int, threads: int, log: Path) -> subprocess.Popen:
    """gunicorn with the project's config file on 127.0.0.1:port, in its own process group."""
    static_collect(env)
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi",
               "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)]
    if threads > 1:
        command += ["--worker-class", "gthread"]
    with log.open("w") as handle:
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True)


def server_wait(base: str, process: subprocess.Popen | None, timeout: float = 60) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"{base}/healthz did not answer 200 within {timeout:.0f}s")


def server_stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
