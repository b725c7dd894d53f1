"""The one outbound fetch: internal addresses refused before connecting, redirects checked, time and
bytes capped for the whole fetch, generic reasons. Real sockets on loopback stand in for the internal
services (a listener that must see no connection) and for image servers (allowed by FETCH_ALLOW_HOSTS)."""
import ipaddress
import socket
import ssl
import subprocess
import threading
import time
from contextlib import contextmanager, suppress

import pytest

from annotations.editing import study_deferred_images_fetch
from annotations.fetch import (
    BAD_URL,
    FAILED,
    NOT_ALLOWED,
    NOT_HTTP,
    TIMED_OUT,
    TOO_MANY_REDIRECTS,
    FetchError,
    address_is_public,
    fetch_public,
)
from annotations.images import ImageProblem, fetch_url
from annotations.imports import artwork_ensure_image, artworks_import
from annotations.models import Artwork
from annotations.tables import ImportFailed
from tests.factories import image_bytes, write_csv
from tests.test_settings import settings_in_subprocess

IMAGE = image_bytes()


def fetch(url: str, max_bytes: int = 1_000_000, total_timeout_s: float = 5, **kwargs) -> bytes:
    return fetch_public(url, max_bytes=max_bytes, total_timeout_s=total_timeout_s, **kwargs)


def reason(url: str, **kwargs) -> str:
    with pytest.raises(FetchError) as error:
        fetch(url, **kwargs)
    return str(error.value)


@pytest.fixture
def internal_port():
    """A port listening on both 127.0.0.1 and [::1], like Redis or PostgreSQL on loopback; after the
    test it must have seen no connection at all."""
    for _ in range(20):
        v4 = socket.create_server(("127.0.0.1", 0))
        try:
            v6 = socket.create_server(("::1", v4.getsockname()[1]), family=socket.AF_INET6)
            break
        except OSError:
            v4.close()
    yield v4.getsockname()[1]
    for listener in (v4, v6):
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # a connection, even one never accepted, would be waiting here
        listener.close()


def answer(status: int, body: bytes = b"", reason: str = "OK", **headers) -> bytes:
    head = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@contextmanager
def serving(respond):
    """A TCP server on 127.0.0.1; respond(conn, path) writes the answer. Yields (port, request heads)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    heads, stop = [], threading.Event()

    def loop():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                head = b""
                while b"\r\n\r\n" not in head and (data := conn.recv(4096)):
                    head += data
                heads.append(head.decode("latin-1"))
                with suppress(OSError):  # the client hung up: what a cut-off fetch does
                    respond(conn, head.split(b" ")[1].decode() if head.count(b" ") > 1 else "")

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], heads
    finally:
        stop.set()
        thread.join()
        listener.close()


def routes(table: dict):
    """A responder from a table of path -> raw answer bytes (404 otherwise)."""
    return lambda conn, path: conn.sendall(table.get(path, answer(404, b"no", "Not Found")))


INTERNAL_FORMS = [
    "127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "localhost", "[::1]",
    "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]",
    "0.0.0.0", "[::]",
]
PRIVATE_FORMS = [
    "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "[fe80::1]", "[fc00::1]",
    "[fec0::1]", "224.0.0.1", "[ff02::1]", "240.0.0.1", "255.255.255.255", "[2002:a00:1::]",
]


@pytest.mark.parametrize("host", INTERNAL_FORMS)
def test_every_spelling_of_loopback_is_refused_before_any_connection(internal_port, host):
    assert reason(f"http://{host}:{internal_port}/image.png") == NOT_ALLOWED


@pytest.mark.parametrize("host", PRIVATE_FORMS)
def test_private_link_local_shared_multicast_and_reserved_addresses_are_refused_at_once(host):
    started = time.monotonic()
    assert reason(f"http://{host}/latest/meta-data/") == NOT_ALLOWED
    assert time.monotonic() - started < 1, "refused without trying to connect"


@pytest.mark.parametrize("address, public", [
    ("93.184.215.14", True), ("2606:4700::1111", True), ("::ffff:93.184.215.14", True),
    ("2002:5db8:d70e::1", True), ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False), ("64:ff9b::a00:1", False),
])
def test_ipv6_forms_are_judged_by_the_ipv4_address_they_carry(address, public):
    assert address_is_public(ipaddress.ip_address(address)) is public


def test_only_http_and_https_are_fetched(internal_port):
    for url in (f"ftp://127.0.0.1:{internal_port}/x", "file:///etc/passwd", f"gopher://127.0.0.1:{internal_port}/"):
        assert reason(url) == NOT_HTTP
    assert reason("http://[::1/") == BAD_URL


def test_an_allowed_host_and_port_does_not_open_other_loopback_ports(settings, internal_port):
    with serving(routes({"/image.png": answer(200, IMAGE)})) as (port, heads):
        settings.FETCH_ALLOW_HOSTS = [f"127.0.0.1:{port}"]
        assert fetch(f"http://127.0.0.1:{port}/image.png") == IMAGE
        assert reason(f"http://127.0.0.1:{internal_port}/") == NOT_ALLOWED
    assert heads[0].startswith("GET /image.png HTTP/1.1\r\n") and f"Host: 127.0.0.1:{port}\r\n" in heads[0]


def test_a_body_arriving_after_the_headers_of_a_closing_connection_is_read_whole(settings):
    """As most servers send it: headers first, then the file, then the connection closes."""
    big = IMAGE * 50

    def respond(conn, path):
        conn.sendall(answer(200, big)[:-len(big)])
        time.sleep(0.1)
        conn.sendall(big)

    with serving(respond) as (port, _):
        settings.FETCH_ALLOW_HOSTS = [f"127.0.0.1:{port}"]
        assert fetch(f"http://127.0.0.1:{port}/image.png") == big


def test_a_redirect_chain_is_followed_and_each_hop_checked(settings, internal_port):
    with serving(lambda conn, path: None) as (other_port, other_heads), serving(routes({
        "/to-image": answer(301, Location="/image.png"),
        "/image.png": answer(200, IMAGE, Content_Type="image/png"),
        "/to-redis": answer(302, Location=f"http://127.0.0.1:{internal_port}/"),
        "/to-other-port": answer(307, Location=f"http://127.0.0.1:{other_port}/image.png"),
        "/to-metadata": answer(302, Location="http://169.254.169.254/latest/meta-data/"),
        "/to-decimal": answer(302, Location=f"http://2130706433:{internal_port}/"),
        "/to-ftp": answer(302, Location=f"ftp://127.0.0.1:{internal_port}/"),
        "/to-file": answer(302, Location="file:///etc/passwd"),
        "/loop": answer(302, Location="/loop"),
    })) as (port, heads):
        settings.FETCH_ALLOW_HOSTS = [f"127.0.0.1:{port}"]
        base = f"http://127.0.0.1:{port}"
        assert fetch(f"{base}/to-image") == IMAGE
        assert [head.split(" ")[1] for head in heads] == ["/to-image", "/image.png"]
        for path in ("/to-redis", "/to-other-port", "/to-metadata", "/to-decimal"):
            assert reason(base + path) == NOT_ALLOWED
        assert reason(f"{base}/to-ftp") == reason(f"{base}/to-file") == NOT_HTTP
        heads.clear()
        assert reason(f"{base}/loop", max_redirects=3) == TOO_MANY_REDIRECTS
        assert len(heads) == 4, "the first request and three redirects, then it stops"
    assert other_heads == [], "the loopback port that was not allowed saw no request"


def test_a_redirect_chain_of_several_hops_arrives(settings):
    table = {"/a": answer(302, Location="/b"), "/b": answer(303, Location="/c"), "/c": answer(308, Location="/d")}
    with serving(routes(table)) as (port, heads):
        table["/d"] = answer(301, Location=f"http://127.0.0.1:{port}/image.png")
        table["/image.png"] = answer(200, IMAGE)
        settings.FETCH_ALLOW_HOSTS = [f"127.0.0.1:{port}"]
        assert fetch(f"http://127.0.0.1:{port}/a", max_redirects=4) == IMAGE
        assert reason(f"http://127.0.0.1:{port}/a", max_redirects=3) == TOO_MANY_REDIRECTS


def trickle(conn, head: bytes, body_interval: float, head_interval: float = 0.0):
    for byte in head:
        conn.sendall(bytes([byte]))
        time.sleep(head_interval)
    for _ in range(25):  # five seconds: a per-read timeout of a second would wait for every byte
        conn.sendall(b"x")
        time.sleep(body_interval)


def silent(conn, path):
    """Says nothing, for up to five seconds or until the client hangs up."""
    conn.settimeout(5)
    conn.recv(1)


@pytest.mark.parametrize("respond", [
    lambda conn, path: trickle(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", body_interval=0.2),
    lambda conn, path: trickle(conn, b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 25, 0.2, head_interval=0.2),
    silent,
], ids=["body", "headers", "silent"])
def test_a_server_trickling_bytes_is_cut_at_the_total_timeout(settings, respond):
    with serving(respond) as (port, _):
        settings.FETCH_ALLOW_HOSTS = [f"127.0.0.1:{port}"]
        started = time.monotonic()
        assert reason(f"http://127.0.0.1:{port}/slow.png", total_timeout_s=1.5) == TIMED_OUT
        elapsed = time.monotonic() - started
    assert 1.4 < elapsed < 2.5, f"cut after {elapsed:.2f} s, each byte arriving well within a per-read timeout"


def endless(conn, path):
    conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
    for _ in range(100_000):
        conn.sendall(b"x" * 4096)


def test_the_byte_cap_holds_for_declared_and_undeclared_lengths(settings):
    table = {"/declared": answer(200, b"x" * 1001), "/exact": answer(200, b"x" * 1000)}
    respond = lambda conn, path: endless(conn, path) if path == "/endless" else routes(table)(conn, path)  # noqa: E731
    with serving(respond) as (port, _):
        settings.FETCH_ALLOW_HOSTS = [f"127.0.0.1:{port}"]
        base = f"http://127.0.0.1:{port}"
        assert fetch(f"{base}/exact", max_bytes=1000) == b"x" * 1000
        assert "over the limit of 1,000" in reason(f"{base}/declared", max_bytes=1000)
        started = time.monotonic()
        assert "over the limit of 1,000" in reason(f"{base}/endless", max_bytes=1000, total_timeout_s=10)
        assert time.monotonic() - started < 2, "stopped at the cap, not at the timeout"


def test_failures_give_generic_reasons_that_tell_nothing_about_the_port_or_server(settings):
    closed = socket.create_server(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.0/8"]
    with serving(lambda conn, path: conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")) as (ssh_port, _), \
            serving(lambda conn, path: None) as (hangup_port, _), \
            serving(lambda conn, path: conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")) \
            as (garbled_port, _), \
            serving(routes({"/secret": answer(404, b"internal detail", "Not Found: db-7.internal down")})) as (web, _):
        assert reason(f"http://127.0.0.1:{closed_port}/") == FAILED      # refused
        assert reason(f"http://127.0.0.1:{hangup_port}/") == FAILED      # closed without a response
        assert reason(f"http://127.0.0.1:{ssh_port}/") == FAILED         # not HTTP at all
        assert reason(f"http://127.0.0.1:{garbled_port}/") == FAILED     # a broken chunked body
        assert reason(f"http://127.0.0.1:{web}/secret") == "could not fetch: HTTP 404"


def test_the_connection_goes_to_the_address_that_was_checked(settings, monkeypatch, internal_port):
    """DNS rebinding: a name that answers an allowed address first and an internal one afterwards."""
    real_getaddrinfo, answers = socket.getaddrinfo, []
    with serving(routes({"/image.png": answer(200, IMAGE)})) as (port, heads):
        def rebinding(host, port_, *args, **kwargs):
            if host != "rebind.example":
                return real_getaddrinfo(host, port_, *args, **kwargs)
            answers.append("127.0.0.1" if not answers else "127.0.0.2")
            return real_getaddrinfo(answers[-1], port_, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        settings.FETCH_ALLOW_HOSTS = [f"127.0.0.1:{port}"]
        assert fetch(f"http://rebind.example:{port}/image.png") == IMAGE
    assert answers == ["127.0.0.1"], "one lookup, and the connection went to its answer"
    assert f"Host: rebind.example:{port}\r\n" in heads[0]


@pytest.fixture
def certificate(tmp_path):
    def make(name: str):
        key, cert = tmp_path / f"{name}.key", tmp_path / f"{name}.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        return cert, key
    return make


@contextmanager
def serving_tls(cert, key, names: list):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)

    def respond(conn, path):
        conn.sendall(answer(200, IMAGE))

    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    conn.recv(4096)
                    respond(conn, "/")
            except (OSError, ssl.SSLError):
                raw.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        listener.close()


def test_tls_is_verified_for_the_name_while_connecting_to_the_checked_address(settings, monkeypatch, certificate):
    good_cert, good_key = certificate("localhost")
    other_cert, other_key = certificate("other.example")
    monkeypatch.setenv("SSL_CERT_FILE", str(good_cert))  # our test CA: the certificate itself
    names = []
    with serving_tls(good_cert, good_key, names) as port:
        settings.FETCH_ALLOW_HOSTS = [f"localhost:{port}"]
        assert fetch(f"https://localhost:{port}/image.png") == IMAGE
    assert names == ["localhost"], "SNI carries the name, not the address connected to"
    with serving_tls(other_cert, other_key, []) as port:
        settings.FETCH_ALLOW_HOSTS = [f"localhost:{port}"]
        assert reason(f"https://localhost:{port}/image.png") == FAILED


def test_a_bad_allow_entry_fails_loudly_naming_the_setting(tmp_path):
    result = settings_in_subprocess(VAR_DIR=str(tmp_path), DEBUG="true",
                                    FETCH_ALLOW_HOSTS="images.lab.example,10.2.0.0/33")
    assert result.returncode != 0 and "FETCH_ALLOW_HOSTS: '10.2.0.0/33'" in result.stderr


# The paths that fetch a researcher's URL: the import, and the deferred download (fetched when the
# study opens, by study_deferred_images_fetch, or by the CLIP worker through artwork_ensure_image).

def test_an_import_refuses_every_internal_address_and_stores_nothing(study, tmp_path, internal_port):
    urls = [f"http://{host}:{internal_port}/x.png" for host in INTERNAL_FORMS] + \
           [f"http://{host}/x.png" for host in PRIVATE_FORMS]
    with pytest.raises(ImportFailed) as error:
        artworks_import(study, write_csv(tmp_path / "m.csv", [{"url": url} for url in urls]))
    assert [(e.row, e.reason) for e in error.value.errors] == [(n, NOT_ALLOWED) for n in range(1, len(urls) + 1)]
    assert not Artwork.objects.exists()


def test_an_import_follows_an_allowed_redirect_chain_and_refuses_one_into_the_network(study, tmp_path, settings,
                                                                                      internal_port):
    with serving(routes({
        "/a.png": answer(302, Location="/b.png"), "/b.png": answer(301, Location="/image.png"),
        "/image.png": answer(200, IMAGE), "/inside.png": answer(302, Location=f"http://[::1]:{internal_port}/"),
    })) as (port, _):
        settings.FETCH_ALLOW_HOSTS = [f"127.0.0.1:{port}"]
        rows = [{"id": "good", "url": f"http://127.0.0.1:{port}/a.png"},
                {"id": "inside", "url": f"http://127.0.0.1:{port}/inside.png"}]
        result = artworks_import(study, write_csv(tmp_path / "m.csv", rows), skip_bad_rows=True)
    assert [(e.row, e.reason) for e in result.skipped] == [(2, NOT_ALLOWED)]
    assert list(study.artworks.values_list("external_id", "width")) == [("good", 64)]


def test_deferred_downloads_to_internal_addresses_fail_with_the_generic_reason(study, internal_port):
    artworks = Artwork.objects.bulk_create(
        Artwork(study=study, external_id=f"a{n}", image_url=f"http://{host}:{internal_port}/x.png")
        for n, host in enumerate(INTERNAL_FORMS))
    study_deferred_images_fetch(study.pk)  # the open-time fetch task's service
    assert set(study.artworks.values_list("fetch_error", flat=True)) == {NOT_ALLOWED}
    assert not study.artworks.exclude(image="").exists()
    with pytest.raises(ImageProblem, match=f"^{NOT_ALLOWED}$"):
        artwork_ensure_image(artworks[0])  # what the CLIP worker calls for a deferred image


def test_fetch_url_keeps_its_interface_for_its_callers(settings):
    with serving(routes({"/image.png": answer(200, IMAGE)})) as (port, _):
        settings.FETCH_ALLOW_HOSTS = [f"127.0.0.1:{port}"]
        assert fetch_url(f"http://127.0.0.1:{port}/image.png", timeout=5, max_bytes=len(IMAGE)) == IMAGE
        with pytest.raises(ImageProblem, match="over the limit"):
            fetch_url(f"http://127.0.0.1:{port}/image.png", timeout=5, max_bytes=len(IMAGE) - 1)
