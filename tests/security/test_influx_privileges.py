"""Issue 18, findings 3 and 4: what each InfluxDB account may do, statement by statement, through
the URL every client uses (``InfluxDB.url``), and what answers without credentials.

InfluxDB 1.x grants per database READ, WRITE or ALL, and ``DELETE``/``DROP SERIES`` need only
WRITE: the write-only ``ingest`` account could erase the park's history. The gate in front of
InfluxDB (:mod:`aisym.services.influxgate`) refuses those statements per account; InfluxDB's own
grants still apply behind it. Each statement runs on a fresh database holding 200 points, and the
points are counted afterwards with the admin account: a refusal must also leave the data whole.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess

import pytest
import requests

from aisym.influx import InfluxError, InfluxV1
from tests.conftest import make_influxdb

ACCOUNTS = {"ingest": "ingest-pw", "controller": "controller-pw", "dashboards": "dashboards-pw"}
POINTS = 200

# statement -> InfluxQL ({db}: the database, {me}: the account running it)
STATEMENTS = {
    "DELETE": 'DELETE FROM "m"',
    "DROP SERIES": "DROP SERIES FROM /.*/",
    "DROP MEASUREMENT": 'DROP MEASUREMENT "m"',
    "DROP DATABASE": 'DROP DATABASE "{db}"',
    "SELECT INTO": 'SELECT * INTO "copy" FROM "m" GROUP BY *',
    "CREATE RETENTION POLICY": 'CREATE RETENTION POLICY "short" ON "{db}" DURATION 1h REPLICATION 1 DEFAULT',
    "DROP RETENTION POLICY": 'DROP RETENTION POLICY "autogen" ON "{db}"',
    "CREATE USER": "CREATE USER \"evil\" WITH PASSWORD 'evil-pw' WITH ALL PRIVILEGES",
    "GRANT": 'GRANT ALL ON "{db}" TO "{me}"',
    "read": 'SELECT count("value") FROM "m"',
}
# what each account may do: everything else must be refused
ALLOWED = {
    "admin": {*STATEMENTS, "write"},
    "controller": {"read", "write"},  # reads the last levels after a restart, writes its health series
    "dashboards": {"read"},
    "ingest": {"write"},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A private InfluxDB (its own accounts: the session's server must keep its user list)."""
    with make_influxdb(tmp_path_factory.mktemp("influx-privileges")) as s:
        yield s


def _fresh_database(server, name: str) -> InfluxV1:
    server.provision(name, {"ingest": ACCOUNTS["ingest"]}, {"dashboards": ACCOUNTS["dashboards"]},
                     owners={"controller": ACCOUNTS["controller"]}, reset_passwords=False)
    admin = server.client(name)
    admin.write([f'm,tag=t{i % 5} value={i} {1000 + i}' for i in range(POINTS)])
    return admin


def _points(admin: InfluxV1) -> int:
    try:
        rows = admin.rows('SELECT count("value") FROM "m"')
    except InfluxError:
        return 0  # the database is gone
    return rows[0]["count"] if rows else 0


def _client(server, account: str, database: str) -> InfluxV1:
    password = server.admin_password if account == "admin" else ACCOUNTS[account]
    return InfluxV1(server.url, database, account, password)


def _try(client: InfluxV1, what: str, me: str) -> str:
    try:
        if what == "write":
            client.write(["w value=1 5000"])
        else:
            client.query(STATEMENTS[what].format(db=client.database, me=me), method="POST")
    except InfluxError as e:
        return f"refused {e.status}"
    return "done"


def test_each_statement_per_account(server):
    """Every account's outcome for every statement: ``done`` only where :data:`ALLOWED` says so."""
    wrong, n = [], 0
    for account in ALLOWED:
        for i, what in enumerate([*STATEMENTS, "write"]):
            db = f"p_{account}_{i}"
            admin = _fresh_database(server, db)
            outcome = _try(_client(server, account, db), what, account)
            left = _points(admin)
            n += 1
            may = what in ALLOWED[account]
            refused_right = outcome in ("refused 401", "refused 403") and left == POINTS
            if (outcome == "done") != may or (not may and not refused_right):
                wrong.append(f"{account}: {what}: {outcome}, {left} of {POINTS} points left")
            admin.query(f'DROP DATABASE "{db}"', method="POST")
    admin = server.client()
    if "evil" in {r["user"] for r in admin.rows("SHOW USERS")}:
        admin.query('DROP USER "evil"', method="POST")
    print(f"{len(wrong)} of {n} account x statement outcomes wrong")
    assert wrong == [], "\n".join(wrong)


# Ways to smuggle a forbidden statement past a filter that reads the query differently from InfluxDB.
def _evasions(db: str, user: str, password: str) -> list[tuple[str, str, dict]]:
    auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    hdr = {"Authorization": auth}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    sel = 'SELECT count("value") FROM "m"'
    return [
        ("lower case", "POST", {"params": {"db": db, "q": 'delete from "m"'}, "headers": hdr}),
        ("second statement", "POST", {"params": {"db": db, "q": f'{sel}; DELETE FROM "m"'}, "headers": hdr}),
        ("leading block comment", "POST", {"params": {"db": db, "q": '/* hi */ DELETE FROM "m"'}, "headers": hdr}),
        ("leading line comment", "POST", {"params": {"db": db, "q": '-- hi\nDELETE FROM "m"'}, "headers": hdr}),
        ("semicolon in a string", "POST",
         {"params": {"db": db, "q": f"{sel} WHERE tag = ';'; DELETE FROM \"m\""}, "headers": hdr}),
        ("quote inside a regex", "POST",
         {"params": {"db": db, "q": f"{sel} WHERE tag =~ /'/; DELETE FROM \"m\"; {sel} WHERE tag = '1'"},
          "headers": hdr}),
        ("quote inside a FROM regex", "POST",
         {"params": {"db": db, "q": f"SELECT * FROM /'/; DROP SERIES FROM /.*/; {sel} WHERE tag = '1'"},
          "headers": hdr}),
        ("quote in a comment", "POST",
         {"params": {"db": db, "q": f"{sel} -- it's\n; DELETE FROM \"m\""}, "headers": hdr}),
        ("GET", "GET", {"params": {"db": db, "q": 'DELETE FROM "m"'}, "headers": hdr}),
        ("statement in the form body", "POST",
         {"params": {"db": db, "q": sel}, "data": {"q": 'DELETE FROM "m"'}, "headers": {**hdr, **form}}),
        ("q twice", "POST", {"params": [("db", db), ("q", sel), ("q", 'DELETE FROM "m"')], "headers": hdr}),
        ("multipart form", "POST",
         {"params": {"db": db}, "files": {"q": ("q.txt", b'DELETE FROM "m"')}, "headers": hdr}),
        ("u/p beside another basic-auth name", "POST",
         {"params": {"db": db, "q": 'DELETE FROM "m"', "u": user, "p": password},
          "headers": {"Authorization": "Basic " + base64.b64encode(b"admin:guess").decode()}}),
        ("SELECT INTO in a subquery", "POST",
         {"params": {"db": db, "q": 'SELECT * FROM (SELECT * INTO "x" FROM "m")'}, "headers": hdr}),
        ("trailing slash", "POST", {"params": {"db": db, "q": 'DELETE FROM "m"'}, "headers": hdr, "path": "/query/"}),
        ("double slash", "POST", {"params": {"db": db, "q": 'DELETE FROM "m"'}, "headers": hdr, "path": "//query"}),
    ]


@pytest.mark.parametrize("account", ["ingest", "controller"])
def test_no_way_around_the_refusal(server, account):
    """Each evasion is tried on a fresh database; none may remove a point."""
    through = []
    n = len(_evasions("x", account, ACCOUNTS[account]))
    for i in range(n):
        db = f"e_{account}_{i}"
        admin = _fresh_database(server, db)
        what, method, kw = _evasions(db, account, ACCOUNTS[account])[i]
        path = kw.pop("path", "/query")
        r = requests.request(method, server.url + path, timeout=10, **kw)
        left = _points(admin)
        if left != POINTS:
            through.append(f"{what}: HTTP {r.status_code}, {left} of {POINTS} points left")
        admin.query(f'DROP DATABASE "{db}"', method="POST")
    print(f"{account}: {len(through)} of {n} evasions erased data")
    assert through == [], "\n".join(through)


def test_read_queries_that_look_odd_still_run(server):
    """The gate refuses what is ambiguous, not what is merely unusual: Grafana's multi-statement
    requests with regexes and strings, division, bound parameters and EXPLAIN all run."""
    admin = _fresh_database(server, "reads")
    reader = _client(server, "dashboards", "reads")
    queries = [
        'SELECT mean("value") FROM "m" WHERE "tag" =~ /^t[0-4]$/ AND time >= 0 AND time < 600000ms GROUP BY time(1m), "tag"; '
        'SELECT last("value") FROM "m" WHERE "tag" =~ /^t1$/ AND "tag" = \'t1\'',
        'SELECT "value" / 2 FROM "m" WHERE "tag" = \'a;b\' LIMIT 1',
        "SELECT /val.*/ FROM /^m$/ LIMIT 1",
        'SHOW TAG VALUES FROM "m" WITH KEY = "tag"',
        "SHOW MEASUREMENTS; SHOW FIELD KEYS",
        'EXPLAIN SELECT count("value") FROM "m"',
        'select count("value") from "m" where "tag" = \'into\'',
    ]
    for q in queries:
        reader.query(q)
    r = requests.get(server.url + "/query", params={"db": "reads", "q": 'SELECT * FROM "m" WHERE "tag" = $t',
                                                     "params": '{"t": "t1"}'},
                     auth=("dashboards", ACCOUNTS["dashboards"]), timeout=10)
    assert r.status_code == 200 and len(r.json()["results"][0]["series"][0]["values"]) == POINTS // 5
    # chunked responses stream through
    r = requests.get(server.url + "/query", params={"db": "reads", "q": 'SELECT * FROM "m"', "chunked": "true",
                                                     "chunk_size": "50"},
                     auth=("dashboards", ACCOUNTS["dashboards"]), timeout=10)
    assert r.status_code == 200 and r.text.count('"series"') == POINTS // 50
    assert _points(admin) == POINTS
    admin.query('DROP DATABASE "reads"', method="POST")


def test_nothing_answers_without_credentials(server, tmp_path):
    """Finding 4: ``/debug/vars`` and the backup/restore RPC port gave everything to anyone local."""
    admin = _fresh_database(server, "secret")
    debug = requests.get(server.url + "/debug/vars", timeout=5)
    print(f"/debug/vars without credentials: {debug.status_code}")
    assert debug.status_code in (403, 404) and "memstats" not in debug.text
    for path in ("/debug/requests", "/debug/pprof/", "/api/v2/write", "/"):
        assert requests.get(server.url + path, timeout=5).status_code in (403, 404), path
    if server.isolation != "netns":
        pytest.skip("unshare --net cannot run here: influxd's RPC port listens on 127.0.0.1 (the fallback, logged)")
    connected = True
    try:
        socket.create_connection(("127.0.0.1", server.rpc_port), timeout=1).close()
    except OSError:
        connected = False
    try:  # influxd backup retries a refused connection for ever: what counts is what it copied
        rc = subprocess.run(["influxd", "backup", "-portable", "-db", "secret", "-host", f"127.0.0.1:{server.rpc_port}",
                             str(tmp_path / "copy")], capture_output=True, timeout=8).returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
    copied = [p.name for p in (tmp_path / "copy").glob("*") if p.stat().st_size] if (tmp_path / "copy").exists() else []
    print(f"RPC port {server.rpc_port}: connect {'accepted' if connected else 'refused'}; "
          f"backup without credentials: exit {rc}, {len(copied)} files copied")
    assert not connected and copied == [], copied
    # influxd has no TCP socket in this machine's network namespace at all
    assert os.readlink(f"/proc/{server.pid}/ns/net") != os.readlink("/proc/self/ns/net")
    assert _points(admin) == POINTS
    admin.query('DROP DATABASE "secret"', method="POST")


@pytest.mark.parametrize(("query", "kinds"), [
    ('SELECT * FROM "m"; DELETE FROM "m"', [("SELECT", True), ("DELETE", False)]),
    ("SELECT 1 FROM m WHERE t = ';'; DROP SERIES FROM /.*/", [("SELECT", True), ("DROP SERIES", False)]),
    ("SELECT x FROM m WHERE t =~ /';/ AND u = 'a;b'", [("SELECT", True)]),  # ';' and a quote inside a regex
    ('SELECT a FROM "m" WHERE t = \'it\\\'s;\'', [("SELECT", True)]),  # an escaped quote
    ('SELECT mean(v) / 2 FROM m; SHOW MEASUREMENTS', [("SELECT", True), ("SHOW MEASUREMENTS", True)]),
    ('select * into "x" from "m"', [("SELECT", False)]),
    ('SELECT "into" FROM m WHERE t = \'into\'', [("SELECT", True)]),  # INTO only as a quoted name or a string
    ("/* c */ DELETE FROM m", [("run a statement that opens with no keyword", False)]),
    ("EXPLAIN ANALYZE SELECT * INTO y FROM m", [("EXPLAIN", False)]),
])
def test_statements_are_split_as_influxql_does(query, kinds):
    from aisym.services.influxql import statements

    assert [(s.kind, s.reads_only) for s in statements(query)] == kinds


@pytest.mark.parametrize("query", [
    'SELECT "v" / 2 FROM m; SELECT 1',  # after an identifier '/' may open a regex (FROM m /re/)
    "SELECT * FROM m /'/; DELETE FROM m; SELECT * FROM m WHERE t = 'x'",
    "SELECT a -- )\n /'/; DELETE FROM m; SELECT ''",  # a comment hides what precedes the '/'
    "SELECT 'unterminated",
])
def test_a_query_influxql_could_read_two_ways_is_refused(query):
    from aisym.services.influxql import Ambiguous, statements

    with pytest.raises(Ambiguous):
        statements(query)


def test_without_a_namespace_the_gate_still_refuses_and_says_so(tmp_path, caplog):
    """The fallback where ``unshare --net`` cannot run: loopback ports, said loudly, the gate as before."""
    with make_influxdb(tmp_path / "loopback", isolate=False) as s:
        assert s.isolation == "loopback"
        assert "NOT isolated" in caplog.text
        assert "NOT ISOLATED" in s.gate_log.read_text()
        s.provision("lb", {"ingest": ACCOUNTS["ingest"]}, reset_passwords=False)
        s.client("lb").write(["m value=1 1000"])
        with pytest.raises(InfluxError) as info:
            InfluxV1(s.url, "lb", "ingest", ACCOUNTS["ingest"]).query('DELETE FROM "m"', method="POST")
        assert info.value.status == 403
        assert s.client("lb").rows('SELECT count("value") FROM "m"')[0]["count"] == 1


def test_bodies_stream_through_in_every_framing(server):
    """Chunked and gzip-compressed writes, an HTTP/1.0 client, many requests on one connection."""
    import gzip

    admin = _fresh_database(server, "framing")
    auth = ("ingest", ACCOUNTS["ingest"])
    lines = [f"f value={i} {10_000 + i}" for i in range(3000)]
    chunked = requests.post(server.url + "/write", params={"db": "framing", "precision": "ms"}, auth=auth,
                            data=(("\n".join(lines[k:k + 500]) + "\n").encode() for k in range(0, 1000, 500)))
    assert chunked.status_code == 204, chunked.text
    zipped = requests.post(server.url + "/write", params={"db": "framing", "precision": "ms"}, auth=auth,
                           data=gzip.compress(("\n".join(lines[1000:]) + "\n").encode()),
                           headers={"Content-Encoding": "gzip"})
    assert zipped.status_code == 204, zipped.text
    assert admin.rows('SELECT count("value") FROM "f"')[0]["count"] == 3000
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        token = base64.b64encode(f"dashboards:{ACCOUNTS['dashboards']}".encode()).decode()
        s.sendall(b"GET /query?db=framing&chunked=true&q=SELECT+*+FROM+f HTTP/1.0\r\n"
                  b"Authorization: Basic " + token.encode() + b"\r\n\r\n")
        reply = b""
        while chunk := s.recv(65536):  # HTTP/1.0: the body ends where the gate closes the connection
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"200" and b"chunked" not in head.lower() and body.count(b'"values"') >= 1
    reader = _client(server, "dashboards", "framing")
    for _ in range(200):  # one keep-alive connection, one upstream connection
        reader.query('SELECT count("value") FROM "f"')
    admin.query('DROP DATABASE "framing"', method="POST")


def test_influxd_down_behind_the_gate_is_retryable(tmp_path):
    import signal

    with make_influxdb(tmp_path / "down") as s:
        s.provision("d", {"ingest": ACCOUNTS["ingest"]}, reset_passwords=False)
        os.kill(s.pid, signal.SIGKILL)
        with pytest.raises(InfluxError) as info:
            InfluxV1(s.url, "d", "ingest", ACCOUNTS["ingest"]).write(["m value=1 1000"])
        assert info.value.status == 503 and info.value.retryable, info.value


def test_the_gate_caps_its_connections_instead_of_running_out_of_descriptors(tmp_path):
    import threading
    import time

    from aisym.services.influxgate import serve

    policy = tmp_path / "policy.json"
    policy.write_text('{"auth": true, "admins": [], "accounts": {}}')
    srv = serve(("127.0.0.1", 0), str(tmp_path / "no-influxd.sock"), policy)
    srv.max_connections, srv._slots = 3, threading.BoundedSemaphore(3)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        held = [socket.create_connection(srv.server_address, timeout=5) for _ in range(3)]
        time.sleep(0.3)
        with socket.create_connection(srv.server_address, timeout=5) as extra:
            assert extra.recv(1) == b""  # closed at once: no thread, no upstream socket
        assert srv.turned_away == 1
        for h in held:
            h.close()
        time.sleep(0.3)
        assert requests.get(url + "/ping", timeout=5).status_code == 503  # served again; no influxd behind it
    finally:
        srv.shutdown()
        srv.server_close()


def test_a_keep_alive_client_is_told_when_a_refusal_closes_its_connection(server):
    """A refused POST closes the connection (its body is not read as the next request): the answer
    says ``Connection: close``, so a pooling client's next request goes on a new connection. Before,
    it reused the closed socket and got a reset instead of an answer (status 0 in the suite under load)."""
    _fresh_database(server, "keepalive")
    s = requests.Session()
    auth = ("dashboards", ACCOUNTS["dashboards"])
    for _ in range(20):
        refused = s.post(f"{server.url}/write", params={"db": "keepalive"}, data=b"m value=1 1", auth=auth, timeout=10)
        assert refused.status_code == 403 and refused.headers.get("Connection", "").lower() == "close"
        dropped = s.post(f"{server.url}/query", data={"q": 'DROP DATABASE "keepalive"'}, auth=auth, timeout=10)
        assert dropped.status_code == 403
        assert s.get(f"{server.url}/query", params={"db": "keepalive", "q": "SELECT count(value) FROM m"},
                     auth=auth, timeout=10).status_code == 200
