"""The gate: the only way to InfluxDB's HTTP API, on the port clients already use.

InfluxDB 1.x grants READ, WRITE or ALL per database, and ``DELETE``, ``DROP SERIES`` and ``DROP
RETENTION POLICY`` need only WRITE: it cannot express "may write, may not erase". So ``influxd``
runs where nothing but this gate reaches it (a private network namespace, its API on a unix
socket in a 0700 folder: see :class:`~aisym.services.influxdb.InfluxDB`) and the gate

- serves ``/ping``, ``/write`` and ``/query`` only (``/debug/vars``, ``/debug/requests`` and
  every other path answer 404: they need no credentials in InfluxDB);
- knows the account of a request from the credential InfluxDB will check (``u``/``p`` or basic
  auth), and forwards exactly that credential, as basic auth, so both judge the same account;
- reads every statement of ``q`` (:mod:`aisym.services.influxql`) and lets a non-admin account run
  only ``SELECT``/``SHOW``/``EXPLAIN`` without ``INTO`` (and only if its role reads), refusing
  anything else, and any query InfluxQL could read in two ways, with 403 or 400;
- forwards ``/query`` rebuilt from the parameters it checked (one ``q``, form-encoded), so
  InfluxDB cannot read a parameter the gate did not see (``q`` in the URL and in the body,
  multipart forms and compressed queries are refused).

InfluxDB's own authentication and grants still apply behind it: the gate adds refusals, never
rights. Roles come from a JSON policy file (``{"auth": true, "admins": [...], "accounts":
{"ingest": ["write"], ...}}``) that :meth:`InfluxDB.provision` keeps and the gate rereads when it
changes; an account it does not list may read and write (InfluxDB's grants decide) but never
erase. Bodies stream both ways with HTTP/1.1 keep-alive (one upstream connection per client
connection).

Run: ``python aisym/services/influxgate.py --listen 127.0.0.1:8086 --socket PATH --policy FILE`` (or
``python -m aisym.services.influxgate ...``, which also imports the rest of ``aisym.services``).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import http.client
import http.server
import json
import logging
import os
import resource
import socket
import sys
import threading
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

if __package__:
    from .influxql import Ambiguous, statements
else:  # started as a script by InfluxDB.start: skips aisym.services' own imports (pydantic, paho: ~0.6 s)
    from influxql import Ambiguous, statements  # type: ignore[no-redef]

log = logging.getLogger("aisym.influxgate")

PATHS = {"/ping": ("GET", "HEAD"), "/write": ("POST",), "/query": ("GET", "POST")}
MAX_QUERY_BYTES = 4 << 20  # a /query body is InfluxQL, never data
MAX_CHECKED_QUERY = 256 << 10  # a non-admin's q is read character by character (~1 µs each)
IDLE_TIMEOUT_S = 300  # an idle keep-alive connection is closed: each holds a thread and a descriptor
CHUNK = 256 << 10
# never forwarded: hop-by-hop, the credential (set again from what was checked), what the gate rewrites
_DROP_HEADERS = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade", "trailer",
                 "authorization", "proxy-authorization", "content-length", "host", "expect", "content-type"}


class UnixHTTPConnection(http.client.HTTPConnection):
    """``http.client`` over a unix socket (InfluxDB's ``bind-socket``)."""

    def __init__(self, path: str, timeout: float = 300.0):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


class Policy:
    """Roles per account from the policy file, reread when the file changes."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._mtime: int | None = None
        self._lock = threading.Lock()
        self.auth, self.admins, self.accounts = True, frozenset(), {}

    def _load(self) -> None:
        mtime = self.path.stat().st_mtime_ns
        if mtime == self._mtime:
            return
        with self._lock:
            data = json.loads(self.path.read_text())
            self.auth = bool(data.get("auth", True))
            self.admins = frozenset(data.get("admins", []))
            self.accounts = {u: frozenset(r) for u, r in (data.get("accounts") or {}).items()}
            self._mtime = mtime

    def may(self, user: str | None) -> frozenset[str] | None:
        """``None`` for an admin (everything), else the set of ``read``/``write`` the account may do."""
        self._load()
        if user is None:
            return None if not self.auth else frozenset()
        if user in self.admins:
            return None
        return self.accounts.get(user, frozenset({"read", "write"}))


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class GateHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: a response goes out as headers then body; with Nagle's algorithm the body waits
    # for the client's delayed ACK of the headers (40 ms per small query, measured: 19 queries/s)
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_S
    server_version = "aisym-influxgate"
    sys_version = ""
    policy: Policy
    socket_path: str

    def log_message(self, format: str, *args) -> None:
        pass  # refusals are logged on their own; a line per request would cost more than the forwarding

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    # -- one request --------------------------------------------------------------------------
    def _handle(self) -> None:
        url = urlsplit(self.path)
        try:
            if url.path not in PATHS:
                raise Refused(404, f"{url.path}: not served (only /ping, /write and /query pass the gate)")
            if self.command not in PATHS[url.path]:
                raise Refused(405, f"{self.command} {url.path}: not allowed")
            params = parse_qsl(url.query, keep_blank_values=True)
            user, password = self._credential(params)
            may = self.policy.may(user)
            params = [(k, v) for k, v in params if k not in ("u", "p")]
            if url.path == "/ping":
                self._forward("/ping", params, None, None)
            elif url.path == "/write":
                self._check_write(user, may)
                self._forward("/write", params, (user, password), self._body())
            else:
                params = self._query_params(params)
                self._check_query(user, may, params)
                self._forward("/query", params, (user, password), None)
        except Refused as e:
            self._refuse(e.status, str(e))
        except OSError as e:  # the client went away mid-request: nothing to answer
            log.info("client %s: %s", self.client_address, e)
            self.close_connection = True

    def _credential(self, params: list[tuple[str, str]]) -> tuple[str | None, str | None]:
        """The account InfluxDB would authenticate: ``u``/``p`` in the URL, else basic auth."""
        us = [v for k, v in params if k == "u"]
        ps = [v for k, v in params if k == "p"]
        header = self.headers.get("Authorization")
        if len(us) > 1 or len(ps) > 1:
            raise Refused(400, "u or p given more than once")
        if us and us[0]:
            if header:
                raise Refused(400, "credentials given twice (u/p and an Authorization header)")
            return us[0], ps[0] if ps else ""
        if not header:
            return None, None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            raise Refused(401, f"{scheme} authentication is not accepted here (basic auth or u/p)")
        try:
            user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Refused(401, "unable to parse authentication credentials") from None
        if not sep or not user:
            raise Refused(401, "unable to parse authentication credentials")
        return user, password

    def _check_write(self, user: str | None, may: frozenset[str] | None) -> None:
        if may is not None and "write" not in may:
            raise self._forbidden(user, "write")

    def _check_query(self, user: str | None, may: frozenset[str] | None, params: list[tuple[str, str]]) -> None:
        if may is None:
            return
        query = dict(params).get("q", "")
        if len(query) > MAX_CHECKED_QUERY:
            raise Refused(413, f"a query over {MAX_CHECKED_QUERY} characters (only admins may send one)")
        try:
            parsed = statements(query)
        except Ambiguous as e:
            log.warning("refused for %s: %s: %.200r", user, e, query)
            raise Refused(400, f"{e}") from None
        for st in parsed:
            if not st.reads_only or "read" not in may:
                raise self._forbidden(user, st.kind, st.text)

    def _forbidden(self, user: str | None, what: str, text: str = "") -> Refused:
        if user is None:
            return Refused(401, "unable to parse authentication credentials")
        log.warning("refused for %s: %s%s", user, what, f": {text[:200]!r}" if text else "")
        return Refused(403, f"account {user!r} may not {what} (aisym gate: only admins change or erase data)")

    def _query_params(self, params: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """URL and form parameters, each once: what InfluxDB will get, rebuilt from what was checked."""
        body = bytearray()
        for chunk in self._body() if self.command == "POST" else ():
            body += chunk
            if len(body) > MAX_QUERY_BYTES:
                raise Refused(413, f"a /query body over {MAX_QUERY_BYTES} bytes")
        if body:
            ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if ctype != "application/x-www-form-urlencoded" or self.headers.get("Content-Encoding"):
                raise Refused(415, f"a /query body must be application/x-www-form-urlencoded, not {ctype or 'untyped'}")
            try:
                form = parse_qsl(bytes(body).decode(), keep_blank_values=True, strict_parsing=False)
            except UnicodeDecodeError:
                raise Refused(400, "the /query body is not UTF-8") from None
            params = [*form, *params]
        out: dict[str, str] = {}
        for k, v in params:
            if k in ("u", "p"):
                continue
            if k in out and k == "q":
                raise Refused(400, "q given more than once")
            out.setdefault(k, v)
        return list(out.items())

    def _body(self):
        """The request body as chunks (Content-Length or chunked), read as it is forwarded."""
        te = self.headers.get("Transfer-Encoding", "").lower()
        if te and te != "chunked":
            raise Refused(501, f"Transfer-Encoding {te} is not supported")
        if te == "chunked":
            return self._chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise Refused(400, "Content-Length is not a number") from None
        return self._sized(length)

    def _sized(self, length: int):
        while length > 0:
            chunk = self.rfile.read(min(CHUNK, length))
            if not chunk:
                raise ConnectionError("client closed mid-body")
            length -= len(chunk)
            yield chunk

    def _chunked(self):
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise ConnectionError(f"bad chunk size line {line[:40]!r}") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return
            yield from self._sized(size)
            self.rfile.readline(8)

    # -- forwarding -----------------------------------------------------------------------------
    def _drop_upstream(self) -> None:
        conn, self._conn = getattr(self, "_conn", None), None
        if conn is not None:
            conn.close()

    def finish(self) -> None:
        self._drop_upstream()
        super().finish()

    def _upstream(self) -> UnixHTTPConnection:
        conn = getattr(self, "_conn", None)
        if conn is None:
            conn = self._conn = UnixHTTPConnection(self.socket_path)
        return conn

    def _forward(self, path: str, params, cred, body) -> None:
        sized = path == "/write" and "chunked" not in self.headers.get("Transfer-Encoding", "").lower()
        if path == "/query" and self.command == "POST":
            payload = urlencode(params).encode()
            target, chunks, length = "/query", [payload], len(payload)
        else:
            target = path + ("?" + urlencode(params) if params else "")
            chunks = body or []
            length = int(self.headers.get("Content-Length") or 0) if sized else None
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _DROP_HEADERS]
        if path == "/query" and self.command == "POST":
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        elif self.headers.get("Content-Type"):
            headers.append(("Content-Type", self.headers["Content-Type"]))
        if cred and cred[0] is not None:
            token = base64.b64encode(f"{cred[0]}:{cred[1] or ''}".encode()).decode()
            headers.append(("Authorization", "Basic " + token))
        try:
            resp = self._send_upstream(target, headers, chunks, length)
        except (OSError, http.client.HTTPException) as e:
            self._drop_upstream()
            log.warning("InfluxDB behind the gate did not answer: %s", e)
            self.close_connection = True  # a half-sent body cannot be told apart from the next request
            self._refuse(503, f"InfluxDB behind the gate did not answer: {e}")
            return
        self._relay(resp)

    def _send_upstream(self, target: str, headers, chunks, length: int | None) -> http.client.HTTPResponse:
        conn = self._upstream()
        conn.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", "influxdb")
        for k, v in headers:
            conn.putheader(k, v)
        if self.command in ("POST", "PUT", "PATCH"):
            conn.putheader(*(("Content-Length", str(length)) if length is not None else ("Transfer-Encoding", "chunked")))
        conn.endheaders()
        for chunk in chunks:
            if not chunk:
                continue
            conn.send(chunk if length is not None else b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if length is None and self.command in ("POST", "PUT", "PATCH"):
            conn.send(b"0\r\n\r\n")
        return conn.getresponse()

    def _relay(self, resp: http.client.HTTPResponse) -> None:
        self.send_response_only(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        no_body = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
        if no_body:
            if resp.status not in (204, 304):
                self.send_header("Content-Length", "0")
            self.end_headers()
            resp.read()
            return
        if resp.length is not None and not resp.chunked:
            self.send_header("Content-Length", str(resp.length))
            self.end_headers()
            while chunk := resp.read(CHUNK):
                self.wfile.write(chunk)
        elif self.request_version == "HTTP/1.0":  # no chunked encoding: the end of the body is the close
            self.close_connection = True
            self.end_headers()
            while chunk := resp.read1(CHUNK):
                self.wfile.write(chunk)
        else:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while chunk := resp.read1(CHUNK):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        if resp.will_close:
            self._drop_upstream()

    def _refuse(self, status: int, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        self.send_response_only(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="InfluxDB"')
        if status >= 400 and self.command in ("POST", "PUT", "PATCH"):
            self.close_connection = True  # the body may be unread: do not read it as the next request
        if self.close_connection:
            # said in the header, or a keep-alive client pools the socket and its next request
            # meets the close (a reset, not an answer)
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class GateServer(http.server.ThreadingHTTPServer):
    """One thread per connection, at most :attr:`max_connections` at once.

    Each connection holds two descriptors (the client's and influxd's socket): past the process's
    descriptor limit ``accept`` would fail in a loop and every client, the ingestor included, would
    be locked out. A connection over the cap is closed at once instead, and counted in the log.
    """

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, *args, **kwargs):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
        if want > soft:  # the soft limit is often 1024 where the hard one is far higher
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        self.max_connections = max(8, (resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 64) // 2)
        self._slots = threading.BoundedSemaphore(self.max_connections)
        self.turned_away = 0
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):
            self.turned_away += 1
            log.warning("connection from %s closed: %d connections open (the cap); %d turned away so far",
                        client_address, self.max_connections, self.turned_away)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def serve(listen: tuple[str, int], socket_path: str, policy_file: Path) -> GateServer:
    handler = type("Handler", (GateHandler,), {"policy": Policy(policy_file), "socket_path": socket_path})
    return GateServer(listen, handler)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="influxgate", description=__doc__.split("\n")[0])
    ap.add_argument("--listen", required=True, help="HOST:PORT clients use (InfluxDB.url)")
    ap.add_argument("--socket", required=True, help="influxd's unix socket (bind-socket)")
    ap.add_argument("--policy", required=True, type=Path, help="JSON file: auth, admins, accounts -> roles")
    ap.add_argument("--isolation", default="netns", help="netns or loopback (said in the log at start)")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s influxgate: %(message)s")
    host, _, port = a.listen.rpartition(":")
    srv = serve((host, int(port)), a.socket, a.policy)
    if a.isolation != "netns":
        log.warning("NOT ISOLATED: influxd runs in this machine's network namespace (unshare failed); its HTTP and "
                    "RPC ports listen on 127.0.0.1 and any local process can reach them past this gate")
    log.info("serving %s -> %s (pid %d)", a.listen, a.socket, os.getpid())
    with contextlib.suppress(KeyboardInterrupt):
        srv.serve_forever(poll_interval=0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
