"""Helpers for the integration tests (Python 3.11 standard library only).

The tests drive the test instance that `deploy/dev-stack.sh test-up` starts:
nginx on PCS_BASE (http://127.0.0.1:8180) in front of the sanitizer build of
pcsurvey, and PostgreSQL reached with PCS_DBCONN.  PCS_VAR is the instance
directory (var/test): logs in log/, the cluster in pg/.

    c = Client()                       # one respondent: its own cookie jar
    r = c.get("/f/staff-wellbeing")    # never follows redirects
    r = c.post(path, {"csrf": csrf(r.text), "consent": "yes"})
    r.status, r.header("Location"), r.headers_all("Set-Cookie"), r.text
    sql("SELECT count(*) FROM pcs.response")   # -> [("3",)]
    raw(b"GET / HTTP/1.0\\r\\n\\r\\n")          # -> bytes of the raw answer
    log_text()                         # pcsurvey, nginx and PostgreSQL logs
"""

import html
import http.client
import json
import os
import re
import socket
import subprocess
import time
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BASE = os.environ.get("PCS_BASE", "http://127.0.0.1:8180").rstrip("/")
VAR = os.path.realpath(os.environ.get("PCS_VAR", os.path.join(ROOT, "var", "test")))
PGBIN = "/usr/lib/postgresql/15/bin"

_base = urllib.parse.urlsplit(BASE)
HOST = _base.hostname or "127.0.0.1"
PORT = _base.port or 80
TIMEOUT = 30


def _conf_value(key, default=None):
    """A value from $PCS_VAR/pcsurvey.conf (written by dev-stack.sh)."""
    try:
        with open(os.path.join(VAR, "pcsurvey.conf"), encoding="utf-8") as f:
            for line in f:
                k, sep, v = line.partition("=")
                if sep and k.strip() == key:
                    return v.strip()
    except OSError:
        pass
    return default


DBCONN = os.environ.get("PCS_DBCONN") or _conf_value(
    "database", "host=%s/pgsock port=15532 dbname=pcsurvey user=pcsurvey" % VAR)


class Skip(Exception):
    """Raise to skip a test (run.py reports it as skipped, not failed)."""


# ------------------------------------------------------------------ HTTP

class Cookie:
    """One Set-Cookie: name, value and attributes (lower-case keys; flags
    such as HttpOnly map to True)."""

    def __init__(self, header):
        self.raw = header
        parts = header.split(";")
        name, _, value = parts[0].partition("=")
        self.name = name.strip()
        self.value = value.strip()
        self.attrs = {}
        for p in parts[1:]:
            k, sep, v = p.partition("=")
            k = k.strip().lower()
            if k:
                self.attrs[k] = v.strip() if sep else True

    @property
    def path(self):
        p = self.attrs.get("path")
        return p if isinstance(p, str) and p.startswith("/") else "/"

    def expired(self):
        ma = self.attrs.get("max-age")
        if isinstance(ma, str):
            try:
                return int(ma) <= 0
            except ValueError:
                return False
        exp = self.attrs.get("expires")
        if isinstance(exp, str):
            try:
                import email.utils
                return email.utils.parsedate_to_datetime(exp).timestamp() < time.time()
            except (TypeError, ValueError):
                return False
        return False

    def matches(self, path):
        """RFC 6265 5.1.4 path-match."""
        cp = self.path
        if path == cp:
            return True
        if path.startswith(cp):
            return cp.endswith("/") or path[len(cp)] == "/"
        return False

    def __repr__(self):
        return "Cookie(%r)" % self.raw


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers          # [(name, value)] in order, repeats kept
        self.body = body                # bytes
        self.text = body.decode("utf-8", errors="replace")

    def header(self, name, default=None):
        """First value of header `name` (case-insensitive)."""
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def headers_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def location(self):
        """The Location header as a path on our origin (base_url stripped)."""
        loc = self.header("Location")
        return local_path(loc) if loc is not None else None

    def json(self):
        return json.loads(self.text)

    def cookies(self):
        return [Cookie(h) for h in self.headers_all("Set-Cookie")]

    def cookie(self, name):
        for c in self.cookies():
            if c.name == name:
                return c
        return None

    def __repr__(self):
        return "<Response %d %s>" % (self.status, self.header("Content-Type", ""))


def local_path(url):
    """'http://127.0.0.1:8180/f/x?y' or '/f/x?y' -> '/f/x?y'."""
    if url.startswith(BASE + "/") or url == BASE:
        return url[len(BASE):] or "/"
    return url                          # relative, or another origin: as is


def encode_form(fields):
    """dict or list of (name, value) -> urlencoded bytes; a list value
    repeats the name (checkboxes)."""
    items = fields.items() if isinstance(fields, dict) else fields
    pairs = []
    for k, v in items:
        if isinstance(v, (list, tuple)):
            pairs.extend((k, x) for x in v)
        else:
            pairs.append((k, v))
    return urllib.parse.urlencode(pairs).encode("ascii")


class Client:
    """An HTTP/1.1 client for one person: keeps cookies, never follows
    redirects, opens a new connection per request."""

    def __init__(self, base=BASE):
        s = urllib.parse.urlsplit(base)
        self.host = s.hostname
        self.port = s.port or 80
        self.jar = {}                   # (name, path) -> Cookie

    def cookie(self, name):
        for (n, _), c in self.jar.items():
            if n == name:
                return c
        return None

    def _cookie_header(self, path):
        p = urllib.parse.urlsplit(path).path or "/"
        got = [c for c in self.jar.values() if c.matches(p)]
        got.sort(key=lambda c: -len(c.path))
        return "; ".join("%s=%s" % (c.name, c.value) for c in got)

    def request(self, method, path, body=None, headers=None, form=None,
                content_type=None, cookies=True):
        """Send one request.  form: dict or pairs, sent urlencoded."""
        hdrs = {}
        if form is not None:
            body = encode_form(form)
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        if isinstance(body, str):
            body = body.encode("utf-8")
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        if cookies:
            ch = self._cookie_header(path)
            if ch:
                hdrs["Cookie"] = ch
        hdrs.update(headers or {})
        conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        try:
            own_host = any(k.lower() == "host" for k in hdrs)
            conn.putrequest(method, path, skip_host=own_host, skip_accept_encoding=True)
            if body is not None and not any(k.lower() == "content-length" for k in hdrs):
                hdrs["Content-Length"] = str(len(body))
            for k, v in hdrs.items():
                conn.putheader(k, v)
            conn.endheaders()
            if body:
                try:
                    conn.send(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass                # nginx may answer 413 and close early
            r = conn.getresponse()
            data = r.read()
            resp = Response(r.status, r.reason, r.getheaders(), data)
        finally:
            conn.close()
        for c in resp.cookies():
            key = (c.name, c.path)
            if c.expired():
                self.jar.pop(key, None)
            else:
                self.jar[key] = c
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, form=None, **kw):
        return self.request("POST", path, form=form, **kw)

    def follow(self, resp):
        """GET the Location of a redirect."""
        assert resp.status in (301, 302, 303, 307, 308), \
            "expected a redirect, got %d" % resp.status
        return self.get(resp.location)


_tag_re = re.compile(r"<(input|option|a|form|select|textarea|button)\b([^>]*)>", re.I | re.S)
_attr_re = re.compile(r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")


def attrs(tag_body):
    """Attributes of a tag as a dict (values unescaped; a bare attribute
    such as `selected` maps to '')."""
    out = {}
    for m in _attr_re.finditer(tag_body):
        v = m.group(2)
        if v is None:
            v = m.group(3)
        if v is None:
            v = m.group(4)
        out[m.group(1).lower()] = html.unescape(v) if v is not None else ""
    return out


def tags(page, name):
    """Every <name ...> tag of the page as a dict of attributes."""
    return [attrs(m.group(2)) for m in _tag_re.finditer(page)
            if m.group(1).lower() == name.lower()]


def csrf(page):
    """The value of the hidden field named csrf (None if absent)."""
    for a in tags(page, "input"):
        if a.get("name") == "csrf":
            return a.get("value")
    return None


def input_value(page, name):
    """value= of the first <input name=name> (None if absent)."""
    for a in tags(page, "input"):
        if a.get("name") == name:
            return a.get("value")
    return None


def textarea_value(page, name):
    m = re.search(r"<textarea\b[^>]*\bname=\"%s\"[^>]*>(.*?)</textarea>" % re.escape(name),
                  page, re.S | re.I)
    return html.unescape(m.group(1)) if m else None


def checked(page, name, value):
    """True if the radio/checkbox name=value is checked."""
    for a in tags(page, "input"):
        if a.get("name") == name and a.get("value") == value:
            return "checked" in a
    return False


def selected(page, value, select_name=None):
    """True if an <option value=value> is selected (optionally within the
    <select name=select_name>)."""
    scope = page
    if select_name is not None:
        m = re.search(r"<select\b[^>]*\bname=\"%s\"[^>]*>(.*?)</select>" % re.escape(select_name),
                      page, re.S | re.I)
        if not m:
            return False
        scope = m.group(1)
    for a in tags(scope, "option"):
        if a.get("value") == value:
            return "selected" in a
    return False


def ids(page):
    return set(html.unescape(x) for x in re.findall(r"\bid=\"([^\"]*)\"", page))


def text_of(page):
    """The visible text, roughly: tags removed, entities decoded, spaces
    collapsed."""
    t = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    t = re.sub(r"<[^>]+>", " ", t)
    return re.sub(r"\s+", " ", html.unescape(t)).strip()


def unique(prefix="m"):
    """A marker string that occurs nowhere else."""
    return "%s%s%s" % (prefix, os.getpid(), os.urandom(6).hex())


# ------------------------------------------------------------------ raw

def raw(data, timeout=5.0, half_close=False, chunks=None, delay=0.0):
    """Send bytes to nginx and return every byte it answers until it closes
    the connection or `timeout` passes without data.  chunks: send data in
    pieces of this size with `delay` seconds between them.  half_close:
    shut down our sending side after the last byte."""
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    out = b""
    try:
        try:
            if chunks:
                for i in range(0, len(data), chunks):
                    s.sendall(data[i:i + chunks])
                    if delay:
                        time.sleep(delay)
            else:
                s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not b:
                break
            out += b
    finally:
        s.close()
    return out


def raw_status(answer):
    """The status code of the first response in raw bytes (None if none)."""
    m = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
    return int(m.group(1)) if m else None


# ------------------------------------------------------------------ database

def sql(query, *, conn=None):
    """Run one SQL text with psql as the test user; rows as tuples of
    strings (NULL as '').  Raises on error."""
    p = subprocess.run(
        [os.path.join(PGBIN, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
         "-F", "\x1f", "-R", "\x1e", "-d", conn or DBCONN, "-c", query],
        capture_output=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("psql: %s" % p.stderr.decode("utf-8", "replace").strip())
    out = p.stdout.decode("utf-8")
    if out.endswith("\n"):
        out = out[:-1]
    if out == "":
        return []
    return [tuple(r.split("\x1f")) for r in out.split("\x1e")]


def sql_value(query):
    """The single value of a one-row, one-column query."""
    rows = sql(query)
    assert len(rows) == 1 and len(rows[0]) == 1, "expected one value from %r, got %r" % (query, rows)
    return rows[0][0]


def count(table, where="true"):
    return int(sql_value("SELECT count(*) FROM %s WHERE %s" % (table, where)))


def pg_dump():
    """The whole database as SQL text (schema and data)."""
    p = subprocess.run([os.path.join(PGBIN, "pg_dump"), "--no-owner", "-d", DBCONN],
                       capture_output=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("pg_dump: %s" % p.stderr.decode("utf-8", "replace").strip())
    return p.stdout.decode("utf-8", errors="replace")


def pg_ctl(*args):
    """pg_ctl on the test cluster, as postgres, e.g. pg_ctl("stop", "-m", "fast")."""
    cmd = ["runuser", "-u", "postgres", "--", os.path.join(PGBIN, "pg_ctl"),
           "-D", os.path.join(VAR, "pg"), "-w", "-t", "60"]
    if args and args[0] in ("start", "restart"):
        cmd += ["-l", os.path.join(VAR, "log", "postgresql.log")]
    p = subprocess.run(cmd + list(args), capture_output=True, timeout=90, cwd="/")
    if p.returncode != 0:
        raise RuntimeError("pg_ctl %s: %s" % (" ".join(args),
                           (p.stdout + p.stderr).decode("utf-8", "replace").strip()))


def pg_stop():
    pg_ctl("stop", "-m", "fast")


def pg_start():
    pg_ctl("start")


# ------------------------------------------------------------------ logs

LOGS = ("pcsurvey.log", "nginx-access.log", "nginx-error.log", "postgresql.log")


def log_path(name):
    return os.path.join(VAR, "log", name)


def log_text(names=LOGS):
    """The logs of the test instance, concatenated."""
    out = []
    for n in names:
        try:
            with open(log_path(n), encoding="utf-8", errors="replace") as f:
                out.append(f.read())
        except OSError:
            pass
    return "\n".join(out)


def log_size(name):
    try:
        return os.path.getsize(log_path(name))
    except OSError:
        return 0


def log_since(name, offset):
    """What log `name` gained after byte `offset` (see log_size)."""
    try:
        with open(log_path(name), "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def wait_for(pred, timeout=10.0, step=0.2):
    """Poll pred() until it is true or timeout passes; returns its last value."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)
