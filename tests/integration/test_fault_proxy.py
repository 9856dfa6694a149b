"""adversarial.md T-34, in-doubt COMMIT, with a fault proxy (pgproxy.py)
between one worker and PostgreSQL.

Each test starts a separate `pcsurvey serve` (one worker, its own socket
and config, the test instance's keys and forms) whose `database =` points
at the proxy on 127.0.0.1, which relays to the test PostgreSQL's unix
socket.  A respondent is walked through a form by FastCGI requests straight
to that worker's socket (no nginx: the status the worker itself chose is
what we see, and nginx's own timeouts do not hide a hang).  Then the proxy
is armed and the submit is sent:

* the staff form's submit is one statement in autocommit (store.c
  STMT_SUBMIT, prepared as "submit"): the proxy forwards its Bind/Execute/
  Sync, lets PostgreSQL commit, drops the answer and closes the worker's
  connection.  The invitation form's submit is BEGIN, invite_use,
  response_insert, draft_delete, COMMIT: cut after the COMMIT.
  Expected: 503 (http-api.md: the database could not be reached; the
  page says to try again, so a person or a client retries; never 500,
  never a confirmation the worker could not know to be true), quickly;
  the row is there although the worker could not know it; the retry with
  the same draft cookie (the idempotency key: the receipt hash is derived
  from the draft's token) answers 303 to done, the done page shows the
  receipt, and there is exactly one row.
* blackhole: the same statement is forwarded, then nothing is relayed and
  nothing closed.  The request must end within nginx's
  fastcgi_read_timeout (deploy/nginx.conf.in, 15 s): past it nginx has
  answered 504 and a worker still waiting is a worker lost.  libpq has no
  timeout of its own, and the proxy's kernel answers TCP keepalives (and
  acknowledges what the worker sent, so tcp_user_timeout cannot fire
  either): only a client-side deadline in store.c bounds this, and it must
  be shorter than 15 s less what the handler spent before the statement.

Rows are counted by SQL by a marker answer (hours_per_week, spend_2025_26)
among rows with an id above the largest before the test.  The logs (the
separate server's and the test instance's: pcsurvey, nginx, PostgreSQL)
must hold no value the test sent (typed text, the draft token, the
receipt and invitation codes), only `ts level event` lines, and no
sanitizer report.

Bounded: every wait has a deadline, the proxy's threads are daemons,
proxy and server are stopped in `finally`; traffic only to 127.0.0.1 and
unix sockets.
"""

import csv
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import lib
from lib import csrf
from pgproxy import PgProxy, bind_stmt, query_is
from test_adversarial import (FCGI_END, FCGI_STDOUT, FORM, INVITE_FORM, SAN_RE, base_params,
                              conf_path, fcgi_parse, fcgi_request, max_id,
                              pcsurvey_bin, supervisor_pid)

STAFF_PAGES = ["before-you-start", "about-your-work", "support", "how-work-feels", "your-ideas"]
INVITE_PAGES = ["your-icb", "strategy", "commissioned", "spend-and-monitoring", "about-this-return"]
QUICK = 5.0                 # seconds: a cut connection must give its answer within this
DB_DOWN_TEXT = "We could not reach our database just now"
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\dT\S+ [a-z]+ [a-z_]+")


def nginx_read_timeout():
    """fastcgi_read_timeout of deploy/nginx.conf.in, in seconds (the bound of
    a request as a person sees it)."""
    with open(os.path.join(lib.ROOT, "deploy", "nginx.conf.in"), encoding="utf-8") as f:
        m = re.search(r"^\s*fastcgi_read_timeout\s+(\d+)s?\s*;", f.read(), re.M)
    assert m, "no fastcgi_read_timeout in deploy/nginx.conf.in"
    return int(m.group(1))


# ------------------------------------------------------------------ the stack

def conninfo_keys(conninfo):
    return dict(kv.split("=", 1) for kv in conninfo.split() if "=" in kv)


def upstream_socket():
    """The test PostgreSQL's unix socket, from the instance's `database =`."""
    k = conninfo_keys(lib._conf_value("database", lib.DBCONN))
    host, port = k.get("host", ""), k.get("port", "5432")
    assert host.startswith("/"), "the test database is not on a unix socket: %r" % host
    path = os.path.join(host, ".s.PGSQL.%s" % port)
    assert os.path.exists(path), "no PostgreSQL socket at %s" % path
    return path


def proxied_conninfo(port):
    """The instance's `database =` with host and port replaced by the proxy's."""
    k = conninfo_keys(lib._conf_value("database", lib.DBCONN))
    k["host"], k["port"] = "127.0.0.1", str(port)
    return " ".join("%s=%s" % kv for kv in k.items())


def serve_bin():
    """The binary the test instance runs (/proc/<supervisor>/exe), so the
    separate server expects the schema the instance migrated even when
    build/san/pcsurvey was rebuilt since test-up; else pcsurvey_bin()."""
    try:
        exe = "/proc/%d/exe" % supervisor_pid()
        if os.access(exe, os.X_OK) and "pcsurvey" in os.readlink(exe):
            return exe
    except (OSError, ValueError):
        pass
    return pcsurvey_bin()


def invite_code(label):
    """One invitation code for the invitation form (`pcsurvey invite create`
    with the instance's binary and config)."""
    p = subprocess.run([serve_bin(), "invite", "create", "--form", INVITE_FORM, "--count", "1",
                        "--label", label, "--config", conf_path()], capture_output=True, timeout=60,
                       env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
    assert p.returncode == 0, "invite create: %s" % p.stderr.decode(errors="replace")[-300:]
    rows = list(csv.DictReader(io.StringIO(p.stdout.decode("utf-8"))))
    assert len(rows) == 1 and rows[0].get("code"), "invite create printed %r" % rows
    return rows[0]["code"]


class Server:
    """A separate `pcsurvey serve`: one worker, its own socket, config and
    log file (stdout and stderr)."""

    def __init__(self, database):
        self.dir = tempfile.mkdtemp(prefix="pcs-t34-")
        self.sock = os.path.join(self.dir, "s.sock")
        self.log = os.path.join(self.dir, "serve.log")
        self.conf = os.path.join(self.dir, "pcsurvey.conf")
        with open(conf_path(), encoding="utf-8") as f:
            lines = [l for l in f if not re.match(r"\s*(socket|workers|database)\s*=", l)]
        with open(self.conf, "w", encoding="utf-8") as f:
            f.writelines(lines)
            f.write("database = %s\nsocket = %s\nworkers = 1\n" % (database, self.sock))
        self.p = None
        self.logf = None

    def start(self):
        self.logf = open(self.log, "wb")
        env = dict(os.environ, ASAN_OPTIONS="abort_on_error=1:detect_leaks=0",
                   UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
        self.p = subprocess.Popen([serve_bin(), "serve", "--config", self.conf],
                                  stdout=self.logf, stderr=subprocess.STDOUT, env=env,
                                  start_new_session=True, cwd=self.dir)
        up = lib.wait_for(lambda: self.p.poll() is not None or
                          (os.path.exists(self.sock) and len(self.workers()) == 1), timeout=20, step=0.05)
        assert up and self.p.poll() is None, "pcsurvey serve did not start: %s" % self.log_text()[-400:]
        return self

    def workers(self):
        try:
            with open("/proc/%d/task/%d/children" % (self.p.pid, self.p.pid)) as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            return []
        out = []
        for k in kids:
            try:
                with open("/proc/%d/stat" % k) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                        out.append(k)
            except OSError:
                pass
        return sorted(out)

    def log_text(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.p is not None and self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(5)
        if self.logf:
            self.logf.close()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def where_is(pid):
    """What a process is blocked in: /proc syscall number and wchan."""
    out = []
    for f in ("syscall", "wchan"):
        try:
            with open("/proc/%d/%s" % (pid, f)) as fh:
                out.append("%s=%s" % (f, fh.read().split(" ")[0].strip() or "-"))
        except OSError:
            out.append("%s=?" % f)
    return " ".join(out)


# ------------------------------------------------------------------ FastCGI

class Call:
    """One FastCGI request on its own connection to a worker's socket;
    read() goes on until the worker ends the request or a deadline."""

    def __init__(self, sock_path, method, uri, cookie=None, body=b""):
        extra = {}
        if cookie:
            extra["HTTP_COOKIE"] = cookie
        if method == "POST":
            extra["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
            extra["CONTENT_LENGTH"] = str(len(body))
        self.what = "%s %s" % (method, uri)
        self.data = b""
        self.done = False
        self.elapsed = None
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(5)
        self.t0 = time.monotonic()
        try:
            self.s.connect(sock_path)
            self.s.sendall(fcgi_request(base_params(method, uri, **extra), body=body))
        except OSError:
            self.s.close()
            raise
        self.s.settimeout(0.2)

    def read(self, timeout):
        end = time.monotonic() + timeout
        while not self.done and time.monotonic() < end:
            try:
                b = self.s.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                b = b""
            self.data += b
            if not b or any(t == FCGI_END for t, _, _ in fcgi_parse(self.data)):
                self.done = True
                self.elapsed = time.monotonic() - self.t0
        return self.done

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def response(self):
        out = b"".join(c for t, r, c in fcgi_parse(self.data) if t == FCGI_STDOUT and r == 1)
        if not out:
            return None                 # no answer at all (what nginx turns into 502)
        head, _, body = out.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.split(b"\r\n"):
            k, _, v = line.decode("latin-1").partition(":")
            if k.lower() == "status":
                status = int(v.strip().split()[0])
            elif k:
                headers.append((k.strip(), v.strip()))
        r = lib.Response(status, "", headers, body)
        r.elapsed = self.elapsed
        return r


class Walker:
    """One respondent speaking FastCGI to a worker: a cookie jar and steps."""

    def __init__(self, sock_path, form_id):
        self.sock = sock_path
        self.form_id = form_id
        self.base = "/f/" + form_id
        self.jar = {}

    def send(self, method, path, fields=None):
        body = lib.encode_form(fields) if fields is not None else b""
        cookie = "; ".join("%s=%s" % kv for kv in self.jar.items()) or None
        return Call(self.sock, method, path, cookie, body)

    def finish(self, call, timeout=30):
        try:
            ok = call.read(timeout)
        finally:
            call.close()
        assert ok, "%s: no answer within %d s" % (call.what, timeout)
        r = call.response()
        assert r is not None, "%s: the worker ended the request without an answer" % call.what
        self.keep_cookies(r)
        return r

    def keep_cookies(self, r):
        for c in r.cookies():
            if c.expired():
                self.jar.pop(c.name, None)
            else:
                self.jar[c.name] = c.value

    def get(self, path):
        return self.finish(self.send("GET", path))

    def post(self, path, fields):
        return self.finish(self.send("POST", path, fields))

    def token(self, path):
        g = self.get(path)
        assert g.status == 200, "GET %s: %d %s" % (path, g.status, lib.text_of(g.text)[:200])
        t = csrf(g.text)
        assert t, "no csrf on %s" % path
        return t

    def step(self, page, fields):
        path = "%s/p/%s" % (self.base, page)
        r = self.post(path, [("csrf", self.token(path))] + list(fields))
        assert r.status == 303, "POST %s: %d %s" % (path, r.status, lib.text_of(r.text)[:200])
        return r

    def check_token(self):
        return self.token(self.base + "/check")

    def submit(self, tok):
        return self.post(self.base + "/submit", [("csrf", tok)])

    def receipt(self):
        d = self.get(self.base + "/done")
        assert d.status == 200, "GET done: %d %s" % (d.status, lib.text_of(d.text)[:200])
        m = re.search(r'id="receipt-code"[^>]*>([^<]+)<', d.text)
        assert m, "done page without a receipt code"
        return m.group(1).strip()

    def draft_token(self):
        return self.jar.get("pcs_draft")


def walk_staff(w, hours, text):
    """A respondent on the staff form, to the check page; its csrf token."""
    t = w.token(FORM)
    r = w.post(FORM + "/start", [("csrf", t)])
    assert r.status == 303, "POST start: %d" % r.status
    fields = {"before-you-start": [("consent", "yes")],
              "about-your-work": [("role", "gp_salaried"), ("icb", "QE1"), ("hours_per_week", str(hours))],
              "your-ideas": [("helped_most", text)]}
    for p in STAFF_PAGES:
        w.step(p, fields.get(p, []))
    return w.check_token()


def walk_invite(w, code, spend, text):
    """A respondent on the invitation form from its link, to the check page."""
    r = w.get("/i/" + code)
    assert r.status == 303 and r.location == "/f/%s/p/your-icb" % INVITE_FORM, \
        "GET /i/{code}: %d %r" % (r.status, r.location)
    fields = {"your-icb": [("icb", "QE1")],
              "spend-and-monitoring": [("spend_2025_26", str(spend))],
              "about-this-return": [("lead_job_title", text)]}
    for p in INVITE_PAGES:
        w.step(p, fields.get(p, []))
    return w.check_token()


# ------------------------------------------------------------------ checks

def staff_rows(last, hours):
    return int(lib.sql_value(
        "SELECT count(*) FROM pcs.response WHERE id > %d AND form_id = '%s' "
        "AND answers->>'hours_per_week' = '%d'" % (last, FORM.split("/")[-1], hours)))


def invite_rows(last, spend):
    return int(lib.sql_value(
        "SELECT count(*) FROM pcs.response WHERE id > %d AND form_id = '%s' "
        "AND answers->>'spend_2025_26' = '%d'" % (last, INVITE_FORM, spend)))


def all_rows(last):
    return int(lib.sql_value("SELECT count(*) FROM pcs.response WHERE id > %d" % last))


def assert_db_down_503(r, what):
    assert r.status != 500, "%s: 500 (a lost connection is not a bug of the request)" % what
    assert r.status == 503, "%s: %d %s (expected 503)" % (what, r.status, lib.text_of(r.text)[:200])
    assert DB_DOWN_TEXT in lib.text_of(r.text), "%s: 503 without the database message" % what


def assert_confirmed(w, r, what):
    done = w.base + "/done"
    assert r.status == 303 and r.location == done, \
        "%s: %d to %r %s (expected 303 to %s)" % (what, r.status, r.location, lib.text_of(r.text)[:200], done)
    return w.receipt()


def assert_logs_clean(server, markers, main_off):
    """No value sent in any log, only `ts level event` lines, no sanitizer."""
    own = server.log_text()
    main = lib.log_text()
    for m in markers:
        if m:
            assert m not in own, "a value sent by the test reached the server's log: %r" % m[:40]
            assert m not in main, "a value sent by the test reached a log of the test instance: %r" % m[:40]
    bad = [l for l in own.splitlines() if SAN_RE.search(l)]
    assert not bad, "sanitizer report in the server's log: %s" % bad[:3]
    raw = [l for l in own.splitlines() if l and not LOG_LINE.match(l)]
    assert not raw, "a line in the server's log is not `ts level event ...`: %r" % raw[:2]
    new = lib.log_since("pcsurvey.log", main_off)
    bad = [l for l in new.splitlines() if SAN_RE.search(l)]
    assert not bad, "sanitizer report in the test instance's log: %s" % bad[:3]


class Rig:
    """Proxy + separate server, stopped in __exit__ (proxy connections
    released first, so a worker blocked on one can drain)."""

    def __enter__(self):
        self.main_off = lib.log_size("pcsurvey.log")
        self.px = PgProxy(upstream_socket()).start()
        self.server = None
        try:
            self.server = Server(proxied_conninfo(self.px.port))
            self.server.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        try:
            self.px.disarm()
            self.px.release()
            if self.server:
                self.server.stop()
        finally:
            self.px.stop()
            if self.server:
                self.server.cleanup()
        return False


def cut_and_retry(rig, w, tok, matcher, rows, what):
    """Arms cut_after(matcher), submits, and checks T-34's expectations up to
    the confirmation of the retry.  Returns the receipt code."""
    px, server = rig.px, rig.server
    worker = server.workers()
    log_off = len(server.log_text())
    px.cut_after(matcher)
    r = w.submit(tok)
    assert px.wait_fired(0), "the trigger (%s) never passed the proxy" % what
    assert px.wait_backend_done(5), "PostgreSQL never finished the statement: %r" % px.info
    assert_db_down_503(r, "submit with the answer to %s lost" % what)
    assert r.elapsed < QUICK, "the submit took %.1f s to fail" % r.elapsed
    # the point of the test: the server committed, the worker could not know
    assert px.committed(), "the server did not commit (%r): not an in-doubt commit" % px.info
    assert rows() == 1, "after the lost answer to a committed %s: %d rows" % (what, rows())
    new = server.log_text()[log_off:]
    assert "db_down" in new, "the worker did not log db_down: %r" % new[-300:]
    px.disarm()
    # the person selects Submit again: same draft cookie, same page token
    receipt = assert_confirmed(w, w.submit(tok), "the retried submit")
    assert rows() == 1, "after the retry: %d rows" % rows()
    # once more (a double retry): still the confirmation, still one row
    assert_confirmed(w, w.submit(tok), "a second retry")
    assert rows() == 1, "after a second retry: %d rows" % rows()
    assert server.workers() == worker, "the worker was replaced (crashed?): %r -> %r" % (worker, server.workers())
    ready = w.get("/readyz")
    assert ready.status == 200, "/readyz after the cut: %d" % ready.status
    assert "db_connected" in server.log_text()[log_off:], "the worker never reconnected"
    return receipt


# ------------------------------------------------------------------ T-34

def test_T34_in_doubt_commit_cut_after_submit_sent_exactly_one_row():
    """Staff form: the submit is one statement in autocommit; the answer
    to its Bind/Execute/Sync is dropped after PostgreSQL committed it."""
    text = lib.unique("t34cut")
    hours = 34
    with Rig() as rig:
        last = max_id()
        w = Walker(rig.server.sock, FORM.split("/")[-1])
        tok = walk_staff(w, hours, text)
        assert staff_rows(last, hours) == 0
        receipt = cut_and_retry(rig, w, tok, bind_stmt("submit"), lambda: staff_rows(last, hours),
                                "the submit statement")
        assert all_rows(last) == 1, "rows nobody submitted: %d rows in all" % all_rows(last)
        tokv = w.draft_token()
        assert_logs_clean(rig.server, [text, tokv, tokv and tokv.replace("-", ""), receipt], rig.main_off)


def test_T34_in_doubt_commit_invitation_form():
    """Invitation form: BEGIN, invite_use, response_insert, draft_delete,
    COMMIT; the answer to the COMMIT is lost after PostgreSQL committed.
    The retry must not say "This invitation has already been used"."""
    label = lib.unique("t34inv")
    code = invite_code(label)
    text = lib.unique("t34inv")
    spend = 1000000 + int.from_bytes(os.urandom(3), "big")     # <= 17,777,215
    with Rig() as rig:
        last = max_id()
        w = Walker(rig.server.sock, INVITE_FORM)
        tok = walk_invite(w, code, spend, text)
        assert invite_rows(last, spend) == 0
        receipt = cut_and_retry(rig, w, tok, query_is("COMMIT"), lambda: invite_rows(last, spend),
                                "COMMIT")
        used = lib.sql("SELECT used FROM pcs.invitation WHERE label = '%s'" % label)
        assert used == [("t",)], "the invitation after the retry: %r" % used
        assert all_rows(last) == 1, "rows nobody submitted: %d rows in all" % all_rows(last)
        tokv = w.draft_token()
        assert_logs_clean(rig.server, [text, code, code.replace("-", ""), tokv,
                                       tokv and tokv.replace("-", ""), receipt], rig.main_off)


def test_T34_blackholed_connection_is_bounded():
    """The submit's Bind/Execute/Sync reaches PostgreSQL, then the proxy
    relays nothing and closes nothing.  The request must end within
    fastcgi_read_timeout (503, or 303 to done if the worker found out that
    the row is there; never 500, never 200), the worker must serve again,
    and the retry must show the confirmation with exactly one row."""
    bound = nginx_read_timeout()
    grace = 5
    text = lib.unique("t34bh")
    hours = 35
    with Rig() as rig:
        px, server = rig.px, rig.server
        last = max_id()
        w = Walker(server.sock, FORM.split("/")[-1])
        tok = walk_staff(w, hours, text)
        worker = server.workers()
        assert len(worker) == 1
        log_off = len(server.log_text())
        px.blackhole_after(bind_stmt("submit"))
        call = w.send("POST", w.base + "/submit", [("csrf", tok)])
        try:
            answered = call.read(bound + grace)
            hung = None
            if not answered:
                # what the worker is doing, then let it go and see what it says
                hung = {"waited": round(time.monotonic() - call.t0, 1), "where": where_is(worker[0]),
                        "proxy": px.connections(), "fired": px.fired.is_set(),
                        "server_committed": px.committed(), "backend": px.info.get("backend")}
                hung["released"] = px.release()
                hung["answered_after_release"] = call.read(10)
                hung["after_release_s"] = round(time.monotonic() - call.t0, 1)
        finally:
            call.close()
        r = call.response()
        if r is not None:
            w.keep_cookies(r)
        px.disarm()
        assert px.wait_fired(0), "the submit statement never passed the proxy"
        # whatever happened: can the worker serve again, and does the retry
        # confirm with exactly one row?  (measured also when the bound failed,
        # so the report says all of it)
        t0 = time.monotonic()
        health = w.get("/healthz")
        ready = w.get("/readyz")
        served_again = (health.status, ready.status, round(time.monotonic() - t0, 2))
        retry = w.submit(tok)
        n = staff_rows(last, hours)
        if hung is not None:
            raise AssertionError(
                "the submit hung: no answer within %d s (fastcgi_read_timeout, deploy/nginx.conf.in); "
                "worker blocked in %s, PostgreSQL had committed: %s; after the proxy closed the "
                "connection at %s s: %s, then /healthz %d, /readyz %d, retry %d to %s, %d row(s). "
                "libpq waits for ever (keepalives and tcp_user_timeout are answered by the proxy's "
                "kernel): store.c needs a client-side deadline. [proxy connections %r, released %d, "
                "server answers dropped %s]" % (
                    bound, hung["where"], hung["server_committed"], hung["after_release_s"],
                    (r.status if r is not None else "no answer") if hung["answered_after_release"]
                    else "still no answer", served_again[0], served_again[1], retry.status,
                    retry.location, n, hung["proxy"], hung["released"], "".join(hung["backend"] or [])))
        assert r is not None, "the worker ended the blackholed request without an answer (crash?)"
        assert call.elapsed <= bound, "the submit ended after %.1f s (bound %d s)" % (call.elapsed, bound)
        assert r.status != 500, "blackholed submit: 500"
        if r.status == 303:
            # allowed only if the worker found out that the row is there
            assert r.location == w.base + "/done" and n == 1, \
                "blackholed submit: 303 to %r with %d rows" % (r.location, n)
        else:
            assert_db_down_503(r, "blackholed submit")
        assert served_again[:2] == (200, 200), "the worker did not serve again: %r" % (served_again,)
        assert server.workers() == worker, "the worker was replaced: %r -> %r" % (worker, server.workers())
        assert "db_down" in server.log_text()[log_off:] or r.status == 303, "no db_down logged"
        receipt = assert_confirmed(w, retry, "the retried submit after the blackhole")
        assert staff_rows(last, hours) == 1, "after the retry: %d rows" % staff_rows(last, hours)
        assert all_rows(last) == 1, "rows nobody submitted: %d rows in all" % all_rows(last)
        tokv = w.draft_token()
        assert_logs_clean(server, [text, tokv, tokv and tokv.replace("-", ""), receipt], rig.main_off)
