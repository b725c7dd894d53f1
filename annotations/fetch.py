"""Fetching a URL that a researcher named: the one way the server reaches out to such hosts.

The URL comes from a manifest, and the fetch runs inside our network (the web process, the Celery
workers, a GPU cluster), so without these checks it reaches Redis on 127.0.0.1:6379, the database,
cloud metadata at 169.254.169.254 or any host next to the worker (server-side request forgery):

- only http and https; the host is resolved once and every address it resolves to must be public,
  unless the operator allows it (FETCH_ALLOW_HOSTS); the connection then goes to an address that was
  checked, never to a second lookup's answer (DNS rebinding), while the Host header and the TLS
  certificate check still use the name;
- redirects are followed here, each Location checked like the first URL, and capped;
- the whole fetch is cut at the total timeout (not per read: a server trickling one byte every few
  seconds would hold a per-read timeout forever), and the body is streamed up to the byte cap;
- a failure gives a generic reason, never "refused" against "reset" nor the remote reason phrase,
  so the fetch cannot be used as a port scanner or to read another server's error text.
"""
import http.client
import io
import ipaddress
import re
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

NOT_ALLOWED = "could not fetch: address not allowed"
NOT_HTTP = "could not fetch: only http and https URLs are allowed"
BAD_URL = "could not fetch: not a valid URL"
NOT_FOUND = "could not fetch: host not found"
FAILED = "could not fetch: connection failed"
TIMED_OUT = "could not fetch: timed out"
TOO_MANY_REDIRECTS = "could not fetch: too many redirects"

USER_AGENT = "ArtAlign/1.0 (research image import)"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?")


class FetchError(ValueError):
    """Why a fetch failed, in words that say nothing about the network behind the address."""


@dataclass(frozen=True)
class AllowRule:
    """One FETCH_ALLOW_HOSTS entry: a host name, or an address or network; optionally one port."""
    name: str | None = None
    network: IPNetwork | None = None
    port: int | None = None

    def allows(self, name: str, address: IPAddress, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is None:
            return self.name == name.rstrip(".")
        return address.version == self.network.version and address in self.network


def allow_rules_parse(entries: list[str]) -> list[AllowRule]:
    """Parse FETCH_ALLOW_HOSTS entries: `images.lab.example`, `10.2.0.0/16`, `127.0.0.1:8080`,
    `[::1]:8080`, `[fd00::/8]`; ValueError naming the first bad one."""
    return [_allow_rule_parse(entry) for entry in entries]


def _allow_rule_parse(entry: str) -> AllowRule:
    text, port_text = entry.strip().lower(), ""
    if text.startswith("["):
        text, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not re.fullmatch(r":[0-9]+", rest)):
            raise ValueError(f"{entry!r} is not a host, address or network with an optional :port")
        port_text = rest[1:]
    elif text.count(":") == 1:
        text, port_text = text.split(":")
    port = int(port_text) if port_text.isdigit() else None
    if port_text and not (port and port < 65536):
        raise ValueError(f"{entry!r}: the port must be a number from 1 to 65535")
    try:
        return AllowRule(network=ipaddress.ip_network(text, strict=False), port=port)
    except ValueError:
        if not _HOST_NAME.fullmatch(text) or "/" in text:
            raise ValueError(f"{entry!r} is not a host name, address or network") from None
        return AllowRule(name=text.rstrip("."), port=port)


def address_is_public(address: IPAddress) -> bool:
    """True for a globally routable unicast address; False for loopback, private, link-local,
    site-local, multicast, reserved, unspecified and shared (100.64/10) ones, and for IPv6 forms
    that carry such an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo)."""
    if address.version == 6 and address.ipv4_mapped:
        return address_is_public(address.ipv4_mapped)
    if (not address.is_global or address.is_multicast or address.is_reserved or address.is_loopback
            or address.is_link_local or address.is_unspecified or address.is_private):
        return False
    if address.version == 4:
        return True
    if address.is_site_local:
        return False
    embedded = _embedded_ipv4(address)
    return embedded is None or address_is_public(embedded)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # ASCII (IDNA) name or address literal, without brackets
    port: int
    path: str  # request target: path and query, percent-encoded

    @classmethod
    def parse(cls, url: str) -> "_Target":
        try:
            parts = urlsplit(url.strip())
            port = parts.port
            host = (parts.hostname or "").encode("idna").decode("ascii")
        except (ValueError, UnicodeError):
            raise FetchError(BAD_URL) from None
        if parts.scheme not in ("http", "https"):
            raise FetchError(NOT_HTTP)
        if not host:
            raise FetchError(BAD_URL)
        path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
        if parts.query:
            path += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
        default_port = 443 if parts.scheme == "https" else 80
        return cls(parts.scheme, host, port or default_port, path)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == (443 if self.scheme == "https" else 80) else f"{host}:{self.port}"


def fetch_public(url: str, *, max_bytes: int, total_timeout_s: float, max_redirects: int | None = None) -> bytes:
    """GET an http(s) URL from an allowed address and return the body; FetchError with a generic reason.

    The body is at most max_bytes (one more byte is read to notice a larger one); the whole fetch,
    redirects included, ends within total_timeout_s (plus the name lookups, which the resolver bounds).
    """
    deadline = time.monotonic() + total_timeout_s
    rules = allow_rules_parse(settings.FETCH_ALLOW_HOSTS)
    redirects_left = settings.FETCH_MAX_REDIRECTS if max_redirects is None else max_redirects
    while True:
        target = _Target.parse(url)
        connection, response = _connect(target, _addresses_checked(target, rules), deadline), None
        try:
            response = _request(connection, target)
            if response.status in _REDIRECTS and response.getheader("Location"):
                if redirects_left <= 0:
                    raise FetchError(TOO_MANY_REDIRECTS)
                redirects_left -= 1
                url = urljoin(url, response.getheader("Location"))
                continue
            if not 200 <= response.status < 300:
                raise FetchError(f"could not fetch: HTTP {response.status}")
            return _body(response, max_bytes)
        except FetchError:
            raise
        except TimeoutError:
            raise FetchError(TIMED_OUT) from None
        except (OSError, ValueError, http.client.HTTPException):  # ValueError: e.g. a bad chunk size
            raise FetchError(FAILED) from None
        finally:
            if response is not None:
                response.close()
            connection.close()


def _addresses_checked(target: _Target, rules: list[AllowRule]) -> list[tuple]:
    """The host's addresses (getaddrinfo entries), each public or allowed; FetchError if any is not."""
    try:
        found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise FetchError(NOT_FOUND) from None
    if not found:
        raise FetchError(NOT_FOUND)
    for family, _type, _proto, _name, sockaddr in found:
        if family not in (socket.AF_INET, socket.AF_INET6):
            raise FetchError(NOT_ALLOWED)
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address.version == 6 and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not (address_is_public(address) or any(rule.allows(target.host, address, target.port) for rule in rules)):
            raise FetchError(NOT_ALLOWED)
    return found


def _connect(target: _Target, addresses: list[tuple], deadline: float) -> http.client.HTTPConnection:
    """A connection to the first checked address that answers, TLS verified for the name."""
    for family, kind, proto, _name, sockaddr in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(_time_left(deadline))
            sock.connect(sockaddr)
            if target.scheme == "https":
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=target.host)
        except TimeoutError:
            sock.close()
            raise FetchError(TIMED_OUT) from None
        except OSError:
            sock.close()
            continue
        connection = http.client.HTTPConnection(target.host, target.port)
        connection.sock = _DeadlineSocket(sock, deadline)
        return connection
    raise FetchError(FAILED)


def _request(connection: http.client.HTTPConnection, target: _Target) -> http.client.HTTPResponse:
    connection.request("GET", target.path, headers={
        "Host": target.host_header, "User-Agent": USER_AGENT, "Accept": "image/*,*/*;q=0.5",
        "Accept-Encoding": "identity", "Connection": "close",
    })
    return connection.getresponse()


def _body(response: http.client.HTTPResponse, max_bytes: int) -> bytes:
    declared = response.getheader("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"could not fetch: the file is {int(declared):,} bytes, over the limit of {max_bytes:,}")
    body = bytearray()
    while chunk := response.read1(min(_CHUNK, max_bytes + 1 - len(body))):
        body += chunk
        if len(body) > max_bytes:
            raise FetchError(f"could not fetch: the file is over the limit of {max_bytes:,} bytes")
    return bytes(body)


def _time_left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


class _DeadlineSocket:
    """The connected socket as http.client uses it (sendall, makefile, close), with every send and
    receive limited to the time left before the deadline: the cap is on the whole fetch."""

    def __init__(self, sock: socket.socket, deadline: float):
        self._sock, self._deadline = sock, deadline
        self._users = 1  # the connection; each response reading from it adds one (as socket.makefile does)

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(_time_left(self._deadline))
        self._sock.sendall(data)

    def recv_into(self, buffer) -> int:
        self._sock.settimeout(_time_left(self._deadline))
        return self._sock.recv_into(buffer)

    def makefile(self, mode: str = "rb") -> io.BufferedReader:
        self._users += 1
        return io.BufferedReader(_DeadlineReader(self))

    def close(self) -> None:
        # http.client closes the connection as soon as a response says "Connection: close" and keeps
        # reading the body from the response: the socket closes when the last of them lets go.
        self._users -= 1
        if self._users == 0:
            self._sock.close()


class _DeadlineReader(io.RawIOBase):
    def __init__(self, sock: _DeadlineSocket):
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._sock.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            self._sock.close()
        super().close()
