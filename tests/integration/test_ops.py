"""Operations and edge behaviour through nginx: health, readiness, error
statuses, nginx limits (T-01, T-17), security headers on every response,
and what the access log may hold (privacy.md)."""

import json
import re
import time

import lib
from lib import Client

FORM = "/f/staff-wellbeing"

SECURITY_HEADERS = {
    "Content-Security-Policy": None,        # checked in csp_ok
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def csp_ok(v):
    d = {}
    for part in v.split(";"):
        bits = part.split()
        if bits:
            d[bits[0].lower()] = bits[1:]
    assert d.get("default-src") == ["'self'"], "CSP default-src: %r" % v
    script = d.get("script-src", d.get("default-src"))
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, "CSP allows inline script: %r" % v
    assert d.get("frame-ancestors") == ["'none'"], "CSP frame-ancestors: %r" % v


def assert_security_headers(r, what):
    for name, want in SECURITY_HEADERS.items():
        got = r.headers_all(name)
        assert len(got) == 1, "%s: %s %d times (%r)" % (what, name, len(got), got)
        if want is None:
            csp_ok(got[0])
        else:
            assert got[0].strip().lower() == want.lower(), "%s: %s: %r" % (what, name, got[0])


def assert_no_server_version(r, what):
    for v in r.headers_all("Server"):
        assert not re.search(r"nginx/\d", v, re.I), "%s: Server header %r" % (what, v)
    assert not re.search(r"nginx/\d", r.text, re.I), "%s: nginx version in the body" % what


def assert_no_nginx_word(r, what):
    assert "nginx" not in r.text.lower(), "%s: the word nginx in the body" % what


def big_post(c, size, marker):
    body = ("csrf=x&pad=" + marker + "a" * size).encode()
    return c.request("POST", FORM + "/start", body=body,
                     content_type="application/x-www-form-urlencoded")


# ------------------------------------------------------------------ health

def test_healthz_ok():
    r = Client().get("/healthz")
    assert r.status == 200, "GET /healthz: %d" % r.status
    assert r.text.strip() == "ok", "GET /healthz body %r" % r.text[:80]


def test_readyz_ok_when_db_up():
    r = Client().get("/readyz")
    assert r.status == 200, "GET /readyz with the database up: %d %s" % (r.status, r.text[:200])


def test_readyz_503_json_when_db_down_then_recovers():
    c = Client()
    lib.pg_stop()
    try:
        r = c.get("/readyz")
        assert r.status == 503, "GET /readyz with PostgreSQL stopped: %d" % r.status
        ct = r.header("Content-Type", "")
        assert ct.startswith("application/json"), "readyz 503 Content-Type %r" % ct
        try:
            doc = json.loads(r.text)
        except ValueError:
            raise AssertionError("readyz 503 body is not JSON: %r" % r.text[:200])
        assert doc, "readyz 503 JSON gives no reason: %r" % r.text[:200]
    finally:
        lib.pg_start()
    # T-32: every worker reconnects within 10 s of the database coming
    # back (a worker may answer 503 once while it notices the old
    # connection is gone).  Ten 200s in a row reach every worker.
    streak = [0]

    def ready():
        streak[0] = streak[0] + 1 if c.get("/readyz").status == 200 else 0
        return streak[0] >= 10
    ok = lib.wait_for(ready, timeout=15, step=0.1)
    assert ok, "GET /readyz not steadily 200 within 15 s of PostgreSQL restarting"


# ------------------------------------------------------------------ statuses

def test_unknown_path_404_html():
    r = Client().get("/no-such-page-%s" % lib.unique())
    assert r.status == 404, "unknown path: %d" % r.status
    assert r.header("Content-Type", "").startswith("text/html"), "404 Content-Type %r" % r.header("Content-Type")
    assert 'lang="en-GB"' in r.text, "404 page without lang=en-GB"
    assert len(re.findall(r"<h1\b", r.text)) == 1, "404 page should have one h1"
    assert_no_nginx_word(r, "404 page")


def test_unknown_form_404():
    r = Client().get("/f/nope")
    assert r.status == 404, "GET /f/nope: %d" % r.status
    assert r.header("Content-Type", "").startswith("text/html"), "Content-Type %r" % r.header("Content-Type")


def test_wrong_method_405_with_allow():
    for m in ("PUT", "DELETE"):
        r = Client().request(m, FORM, body=b"", content_type="application/x-www-form-urlencoded")
        assert r.status == 405, "%s %s: %d" % (m, FORM, r.status)
        allow = r.header("Allow")
        assert allow, "%s %s: 405 without Allow" % (m, FORM)
        methods = [x.strip().upper() for x in allow.split(",")]
        assert "GET" in methods and m not in methods, "%s: Allow %r" % (m, allow)


def test_T17_trace_rejected():
    r = Client().request("TRACE", FORM, headers={"X-Probe": "trace-echo-check"})
    assert r.status in (405, 501), "TRACE: %d" % r.status
    assert "trace-echo-check" not in r.text, "TRACE echoed the request"
    assert_no_nginx_word(r, "TRACE answer")


def test_T17_text_plain_415():
    r = Client().request("POST", FORM + "/start", body=b"csrf=x",
                         content_type="text/plain")
    assert r.status == 415, "POST text/plain: %d" % r.status


def test_T17_multipart_415():
    body = (b"--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nx\r\n--b--\r\n")
    r = Client().request("POST", FORM + "/start", body=body,
                         content_type="multipart/form-data; boundary=b")
    assert r.status == 415, "POST multipart/form-data: %d" % r.status


def test_T17_other_charset_415():
    r = Client().request("POST", FORM + "/start", body=b"csrf=x",
                         content_type="application/x-www-form-urlencoded; charset=iso-8859-1")
    assert r.status == 415, "POST urlencoded; charset=iso-8859-1: %d" % r.status


# ------------------------------------------------------------------ T-01

def test_T01_body_over_nginx_limit_413_from_nginx():
    marker = lib.unique("big")
    before = lib.count("pcs.response")
    app_log = lib.log_size("pcsurvey.log")
    r = big_post(Client(), 70 * 1024, marker)
    assert r.status == 413, "POST 70 KiB: %d" % r.status
    # nginx's own page (413 in deploy/errors/pages.txt), not the app's.
    assert "pcs-static-error" in r.text, "413 page did not come from nginx"
    assert "too long" in r.text, "413 page does not say what happened"
    assert_no_nginx_word(r, "413 page")
    assert_security_headers(r, "nginx 413 page")
    assert lib.count("pcs.response") == before, "a row appeared"
    time.sleep(0.2)
    gained = lib.log_since("pcsurvey.log", app_log)
    assert "/start" not in gained and " 413" not in gained, \
        "the app logged something about the oversized request: %r" % gained[:200]
    assert marker not in lib.log_text(), "the request body reached a log"


def test_T01_two_mib_body_413():
    body = b"csrf=x&pad=" + b"a" * (2 * 1024 * 1024)
    req = (b"POST " + FORM.encode() + b"/start HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Content-Type: application/x-www-form-urlencoded\r\n"
           b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    ans = lib.raw(req, timeout=10)
    assert lib.raw_status(ans) == 413, "2 MiB body: %r" % ans[:60]


# ------------------------------------------------------------------ headers

def test_security_headers_on_every_kind_of_response():
    c = Client()
    cases = [
        ("app page GET /", c.get("/")),
        ("app 404", c.get("/no-such-page")),
        ("static asset", c.get("/assets/nhsuk-frontend.min.css")),
        ("missing asset", c.get("/assets/no-such-file.css")),
        ("nginx 413", big_post(c, 70 * 1024, "x")),
        ("nginx TRACE", c.request("TRACE", "/")),
    ]
    for what, r in cases:
        assert_security_headers(r, "%s (%d)" % (what, r.status))


def test_asset_served_with_cache():
    r = Client().get("/assets/nhsuk-frontend.min.css")
    assert r.status == 200, "GET /assets/nhsuk-frontend.min.css: %d" % r.status
    assert r.header("Content-Type", "").startswith("text/css"), "Content-Type %r" % r.header("Content-Type")
    assert "max-age=" in r.header("Cache-Control", ""), "no Cache-Control max-age on an asset"
    img = Client().get("/assets/images/nhsuk-icon-arrow-right-circle.svg")
    assert img.status == 200, "the CSS's /assets/images/ are not served: %d" % img.status


def test_no_server_version_anywhere():
    c = Client()
    for what, r in [
        ("app page", c.get("/")),
        ("healthz", c.get("/healthz")),
        ("asset", c.get("/assets/nhsuk-frontend.min.css")),
        ("missing asset", c.get("/assets/nope.css")),
        ("nginx 413", big_post(c, 70 * 1024, "x")),
        ("TRACE", c.request("TRACE", "/")),
        ("bad request", c.get("/", headers={"Cookie": "a" * 20000})),
    ]:
        assert_no_server_version(r, what)
        if r.status >= 400:
            assert_no_nginx_word(r, what)


def test_error_page_internal_only():
    r = Client().get("/assets/errors/413.html")
    assert r.status == 404, "nginx error pages should not be addressable: %d" % r.status


# ------------------------------------------------------------------ logs

def test_access_log_has_no_query_ip_or_invitation_code():
    marker = lib.unique("q")
    code = lib.unique("code")
    c = Client()
    off = lib.log_size("nginx-access.log")
    c.get("/f/staff-wellbeing?secretmarker=%s" % marker)
    c.get("/i/%s?x=%s" % (code, marker), headers={"Referer": "http://x/" + marker,
                                                  "Cookie": "pcs_draft=" + marker})
    c.get("/%%69/%s" % code)            # /i/ spelt %69: same route
    time.sleep(0.3)
    new = lib.log_since("nginx-access.log", off)
    assert new.count("\n") >= 3, "access log did not record the requests: %r" % new
    assert marker not in new, "a query, cookie or referrer value reached the access log"
    assert code not in new, "an invitation code reached the access log"
    assert "127.0.0.1" not in new, "the client address is in the access log"
    assert marker not in lib.log_text(), "a query value reached a log"
    assert code not in lib.log_text(), "an invitation code reached a log"


def test_nginx_error_log_has_no_request_values():
    marker = lib.unique("err")
    c = Client()
    off = lib.log_size("nginx-error.log")
    big_post(c, 70 * 1024, "x")                                 # 413
    c.request("POST", "/f/staff-wellbeing/start?m=%s" % marker, body=b"a" * (70 * 1024),
              content_type="application/x-www-form-urlencoded")
    c.get("/assets/no-such-file-%s.css?m=%s" % (marker, marker))  # 404 from nginx
    c.get("/i/%s?m=%s" % (marker, marker), headers={"Cookie": "a" * 20000})  # 400
    time.sleep(0.3)
    new = lib.log_since("nginx-error.log", off)
    assert marker not in new, "a request value reached nginx's error log: %r" % new[:300]
    assert "127.0.0.1" not in new, "a client address reached nginx's error log"


# ------------------------------------------------------------------ nginx edge (T-03, T-06, T-07, T-21)

def _raw_post(headers, body=b""):
    return (b"POST /f/staff-wellbeing/start HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers +
            b"\r\n" + body)


def test_T03_lying_content_length():
    drafts = lib.count("pcs.draft")
    req = _raw_post(b"Content-Type: application/x-www-form-urlencoded\r\n"
                    b"Content-Length: 10000\r\n", b"csrf=x&a=b")
    half = lib.raw(req, half_close=True, timeout=15)
    assert lib.raw_status(half) in (None, 400, 408), "declared 10000, sent 10, closed: %r" % half[:40]
    slow = lib.raw(req, timeout=20)     # client_body_timeout is 10 s
    assert lib.raw_status(slow) in (None, 400, 408), "declared 10000, sent 10, waited: %r" % slow[:40]
    assert lib.count("pcs.draft") == drafts, "a short body reached the app"


def test_T06_smuggling_shapes_rejected_by_nginx():
    drafts = lib.count("pcs.draft")
    cases = {
        "CL and TE": b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        "two CLs": b"Content-Length: 5\r\nContent-Length: 6\r\n",
        "TE with a space before the colon": b"Transfer-Encoding : chunked\r\n",
        "unknown TE": b"Transfer-Encoding: xchunked\r\n",
    }
    for what, hdrs in cases.items():
        ans = lib.raw(_raw_post(b"Content-Type: application/x-www-form-urlencoded\r\n" + hdrs,
                                b"0\r\n\r\ncsrf=x"), timeout=5)
        st = lib.raw_status(ans)
        assert st in (400, 501), "%s: %r" % (what, ans[:40])
        assert b"nginx" not in ans.split(b"\r\n\r\n", 1)[-1].lower(), "%s: nginx named in the body" % what
    assert lib.count("pcs.draft") == drafts, "a smuggled request reached the app"


def test_T07_post_rate_limited_with_429_then_recovers():
    import concurrent.futures
    body = b"x=1"

    def one(_):
        return Client().request("POST", FORM + "/start", body=body,
                                content_type="application/x-www-form-urlencoded")
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        got = list(ex.map(one, range(400)))
    limited = [r for r in got if r.status == 429]
    assert limited, "400 fast POSTs from one client were never limited: %r" % sorted({r.status for r in got})
    assert all(r.status in (403, 429) for r in got), "statuses %r" % sorted({r.status for r in got})
    assert_security_headers(limited[0], "429 page")
    assert_no_nginx_word(limited[0], "429 page")
    gets = [Client().get("/healthz").status for _ in range(50)]
    assert set(gets) == {200}, "GETs were limited along with POSTs: %r" % set(gets)
    ok = lib.wait_for(lambda: one(0).status != 429, timeout=15, step=0.5)
    assert ok, "POSTs still limited 15 s after the burst"
    time.sleep(4)                       # refill the burst for the tests after this one


def test_T21_forged_host_not_used_in_links():
    c = Client()
    r = c.get(FORM, headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    assert r.status == 200, "GET start page with a forged Host: %d" % r.status
    assert "evil.example" not in r.text, "the forged Host reached the page"
    token = lib.csrf(r.text)
    r = c.post(FORM + "/start", {"csrf": token},
               headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    loc = r.header("Location", "")
    assert "evil.example" not in loc, "Location built from the Host header: %r" % loc
