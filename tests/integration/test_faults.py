"""Faults, with nothing lost (adversarial.md T-32..T-39; issue 8), against
the real stack: PostgreSQL restarted under 20 concurrent respondents
(-m immediate and -m fast), a backend killed, a worker killed mid-submit,
every worker blocked, keys missing or wrong, full disks.

Each respondent is a thread walking the staff-wellbeing journey with its
own marker answer (hours_per_week), retrying any step that fails the way a
person would (select Continue again).  Reconciliation by SQL: every
respondent that saw the confirmation page has exactly one row, found by its
marker; nobody got a confirmation without a row; nobody got a 500.

Bounded: at most 20 threads, every loop has a deadline, traffic only to
127.0.0.1.  Faults are undone in `finally` (PostgreSQL started, locks
released, tmpfs unmounted) so the suite after this file finds the stack up.
"""

import concurrent.futures
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import lib
from lib import Client, csrf
from test_adversarial import (FORM, P, Guard, base_params, conf_path, configured_workers, fcgi_http,
                              fcgi_request, max_id, pcsurvey_bin, relay, worker_pids)

PAGES = ["before-you-start", "about-your-work", "support", "how-work-feels", "your-ideas"]
RETRY = {429, 500, 502, 503, 504}


class Respondent:
    """One person on the staff form; .run() walks start to done, retrying
    failed steps until `deadline`.  statuses: every status seen."""

    def __init__(self, marker, deadline, big_text=None):
        self.marker = marker            # hours_per_week: unique in the run
        self.deadline = deadline
        self.big_text = big_text
        self.c = Client()
        self.statuses = []
        self.confirmed = False
        self.receipt = None
        self.errors = []
        self.progress = 0

    def _req(self, fn):
        try:
            r = fn()
        except OSError as e:
            self.statuses.append("conn")
            self.errors.append(repr(e))
            return None
        self.statuses.append(r.status)
        return r

    def _retrying(self, action, ok):
        """Runs action() until ok(r); a retryable failure waits a little."""
        while time.monotonic() < self.deadline:
            r = action()
            if r is not None and ok(r):
                return r
            if r is not None and r.status not in RETRY and r.status != 403:
                raise AssertionError("respondent %s: unexpected %d %s" % (
                    self.marker, r.status, lib.text_of(r.text)[:160]))
            time.sleep(0.3)
        raise TimeoutError("respondent %s did not finish in time (statuses %r)" % (self.marker, self.statuses[-10:]))

    def _get_form(self, path):
        """GET a page with a form; None (retry) on a failure, an error if
        the draft is gone (a redirect: something lost what was saved)."""
        g = self._req(lambda: self.c.get(path))
        if g is not None and g.status in (301, 302, 303):
            raise AssertionError("respondent %s: GET %s redirected to %s: the draft is gone" % (
                self.marker, path, g.location))
        return g if g is not None and g.status == 200 else None

    def _page(self, page, fields):
        def action():
            g = self._get_form(P(page))
            if g is None:
                return None
            return self._req(lambda: self.c.post(P(page), [("csrf", csrf(g.text))] + fields))
        return self._retrying(action, lambda r: r.status == 303 and r.location != FORM)

    def begin(self):
        def start():
            g = self._req(lambda: self.c.get(FORM))
            if g is None or g.status != 200:
                return g
            return self._req(lambda: self.c.post(FORM + "/start", {"csrf": csrf(g.text)}))
        self._retrying(start, lambda r: r.status == 303)

    def run(self):
        self.begin()
        fields = {
            "before-you-start": [("consent", "yes")],
            "about-your-work": [("role", "gp_salaried"), ("icb", "QE1"), ("hours_per_week", str(self.marker))],
            "your-ideas": [("helped_most", self.big_text)] if self.big_text else [],
        }
        for p in PAGES:
            self._page(p, fields.get(p, []))
            self.progress += 1
        self.submit()
        return self

    def submit_once(self):
        g = self._req(lambda: self.c.get(FORM + "/check"))
        if g is not None and g.status == 303 and g.location == FORM + "/done":
            return g                    # recorded already (a retry after a lost answer)
        g = self._get_form(FORM + "/check") if g is None or g.status != 200 else g
        if g is None:
            return None
        return self._req(lambda: self.c.post(FORM + "/submit", {"csrf": csrf(g.text)}))

    def submit(self):
        self._retrying(self.submit_once, lambda r: r.status == 303 and r.location == FORM + "/done")
        d = self._retrying(lambda: self._req(lambda: self.c.get(FORM + "/done")), lambda r: r.status == 200)
        m = re.search(r'id="receipt-code"[^>]*>([^<]+)<', d.text)
        assert m, "done page without a receipt code"
        self.receipt = m.group(1).strip()
        self.confirmed = True


def rows_by_marker(last):
    # after a backend crash PostgreSQL refuses connections while it
    # recovers ("the database system is in recovery mode"): wait for it
    def ready():
        try:
            lib.sql("SELECT 1")
            return True
        except RuntimeError:
            return False
    assert lib.wait_for(ready, timeout=60, step=0.5), "PostgreSQL did not come back"
    got = lib.sql("SELECT answers->>'hours_per_week', count(*) FROM pcs.response "
                  "WHERE id > %d AND form_id = 'staff-wellbeing' GROUP BY 1" % last)
    return {int(k): int(n) for k, n in got if k}


def reconcile(people, last):
    have = rows_by_marker(last)
    for p in people:
        n = have.get(p.marker, 0)
        if p.confirmed:
            assert n == 1, "respondent %d was confirmed but has %d rows" % (p.marker, n)
        else:
            assert n <= 1, "respondent %d has %d rows" % (p.marker, n)
    stray = set(have) - {p.marker for p in people}
    assert not stray, "rows nobody submitted: %r" % stray
    for p in people:
        assert 500 not in p.statuses, "respondent %d got a 500" % p.marker


def ready_streak(n=10, timeout=15):
    c = Client()
    streak = [0]

    def ready():
        try:
            streak[0] = streak[0] + 1 if c.get("/readyz").status == 200 else 0
        except OSError:
            streak[0] = 0
        return streak[0] >= n
    return lib.wait_for(ready, timeout=timeout, step=0.1)


def run_crowd(n, first_marker, fault, big_text=None, seconds=90):
    """n respondents in threads; fault(progress) is called from the main
    thread once a few respondents are under way.  Returns the people."""
    deadline = time.monotonic() + seconds
    people = [Respondent(first_marker + i, deadline, big_text) for i in range(n)]
    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        futs = [ex.submit(p.run) for p in people]
        lib.wait_for(lambda: sum(p.progress for p in people) >= n, timeout=30, step=0.05)
        fault()
        errs = []
        for f in futs:
            try:
                f.result(timeout=seconds + 30)
            except Exception as e:      # noqa: BLE001 - reported below
                errs.append(e)
    return people, errs


def pg_pids():
    return [int(x[0]) for x in lib.sql(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'pcsurvey'")]


# ------------------------------------------------------------------ T-32, T-33

def test_T32_pg_restart_immediate_and_fast_under_20_respondents():
    with Guard(crashes=False):
        last = max_id()
        log_off = lib.log_size("pcsurvey.log")
        workers = worker_pids()

        def fault():
            lib.pg_ctl("restart", "-m", "immediate")
            time.sleep(1.5)
            lib.pg_ctl("restart", "-m", "fast")
        people, errs = run_crowd(20, 40, fault)      # hours 40..59
        try:
            assert not errs, "respondents failed: %s" % "; ".join(str(e) for e in errs[:3])
            reconcile(people, last)
            assert all(p.confirmed for p in people), "not every respondent could finish after retrying"
            assert len(set(p.receipt for p in people)) == len(people), "two respondents got the same receipt"
        finally:
            assert ready_streak(), "workers did not reconnect within 15 s"
        new = lib.log_since("pcsurvey.log", log_off)
        assert "db_down" in new or "db_connect_failed" in new, "the workers never saw the restarts"
        assert worker_pids() == workers, "a worker crashed during the restarts (crash loop?)"
        # privacy.md: the log holds `ts level event key=value` lines only.
        # libpq's default notice processor prints the server's own text
        # ("WARNING: terminating connection due to immediate shutdown
        # command") to stderr: store.c must install a notice processor.
        raw = [l for l in new.splitlines() if l and not re.match(r"\d{4}-\d\d-\d\dT\S+ [a-z]+ [a-z_]+", l)]
        assert not raw, "server text in the log during the restarts (libpq notices, store.c): %r" % raw[:2]


def test_T33_backend_sigkill_restarts_postgres_workers_recover():
    with Guard(crashes=False):
        last = max_id()
        workers = worker_pids()

        def fault():
            pids = pg_pids()
            assert pids, "no pcsurvey backend to kill"
            os.kill(pids[0], signal.SIGKILL)    # the postmaster restarts every backend
        people, errs = run_crowd(10, 60, fault)      # hours 60..69
        assert not errs, "respondents failed: %s" % "; ".join(str(e) for e in errs[:3])
        reconcile(people, last)
        assert all(p.confirmed for p in people)
        assert ready_streak(), "workers did not reconnect within 15 s"
        assert worker_pids() == workers, "a worker crashed"


# T-34 (in-doubt COMMIT, blackholed link): tests/integration/test_fault_proxy.py


# ------------------------------------------------------------------ T-35, T-36

def busy_workers():
    """Workers not waiting in accept(2) (43) or accept4(2) (288): inside a request."""
    out = []
    for pid in worker_pids():
        try:
            with open("/proc/%d/syscall" % pid) as f:
                nr = f.read().split()[0]
        except (OSError, IndexError):
            continue
        if nr not in ("43", "288"):
            out.append(pid)
    return out


class TableLock:
    """Holds an ACCESS EXCLUSIVE lock on a table from a psql session until
    release() (or `hold` seconds), so statements on it block."""

    def __init__(self, table, hold=40):
        self.p = subprocess.Popen(
            [os.path.join(lib.PGBIN, "psql"), "-X", "-q", "-d", lib.DBCONN, "-c",
             "BEGIN; LOCK TABLE %s IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(%d); COMMIT;" % (table, hold)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        q = ("SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
             "WHERE c.relname = '%s' AND l.mode = 'AccessExclusiveLock' AND l.granted" % table.split(".")[-1])
        ok = lib.wait_for(lambda: lib.sql(q), timeout=10, step=0.05)
        assert ok, "could not lock %s" % table
        self.pid = int(lib.sql(q)[0][0])

    def release(self):
        # the backend would sleep on after its client goes: end it
        lib.sql("SELECT pg_terminate_backend(%d)" % self.pid)
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)


def test_T35_worker_sigkill_mid_submit_502_nothing_partial_restart_within_1s():
    with Guard(crashes=True):
        nw = configured_workers()
        c = Respondent(70, time.monotonic() + 60)
        # walk to the check page
        c.begin()
        for p, f in (("before-you-start", [("consent", "yes")]),
                     ("about-your-work", [("role", "gp_salaried"), ("icb", "QE1"), ("hours_per_week", "70")])):
            c._page(p, f)
        for p in PAGES[2:]:
            c._page(p, [])
        last = max_id()
        drafts = lib.count("pcs.draft")
        chk = c.c.get(FORM + "/check")
        tok = csrf(chk.text)
        lock = TableLock("pcs.response")
        stop = threading.Event()
        others = []

        def load():                     # other requests, all the while
            while not stop.is_set():
                try:
                    r = Client().get("/healthz")
                    others.append(r.status)
                except OSError:
                    others.append("conn")
                time.sleep(0.02)
        bg = threading.Thread(target=load)
        try:
            with concurrent.futures.ThreadPoolExecutor(1) as ex:
                fut = ex.submit(lambda: c.c.post(FORM + "/submit", {"csrf": tok}))
                # the worker holding the submit: the only busy one, found
                # before the other traffic starts (so it is not a /healthz)
                assert lib.wait_for(lambda: len(busy_workers()) == 1, timeout=10, step=0.02), \
                    "the submit never blocked a worker"
                time.sleep(0.3)
                busy = busy_workers()
                assert len(busy) == 1, "more than one busy worker: %r" % busy
                victim = busy[0]
                bg.start()
                time.sleep(0.3)
                before = set(worker_pids())
                os.kill(victim, signal.SIGKILL)
                t0 = time.monotonic()
                back = lib.wait_for(lambda: len(worker_pids()) == nw and victim not in worker_pids(),
                                    timeout=5, step=0.01)
                dt = time.monotonic() - t0
                after = set(worker_pids())
                r = fut.result(timeout=30)
            assert back and dt < 1.0, "the supervisor restarted the worker after %.2f s" % dt
            assert r.status == 502, "the killed request answered %d" % r.status
            assert victim in before and after - before, \
                "no new worker: victim %d, before %r, after %r" % (victim, sorted(before), sorted(after))
        finally:
            lock.release()
            stop.set()
            if bg.is_alive():
                bg.join(10)
        time.sleep(0.5)
        # Nothing partial: either the submit rolled back (no row, the draft
        # kept) or, as the submit is one statement that was already running
        # in PostgreSQL when its worker died, it committed whole (one row,
        # the draft gone); never a row beside its draft, never two rows.
        # (PostgreSQL does not notice a dead client while a statement waits
        # for a lock: client_connection_check_interval would.)
        got = rows_by_marker(last).get(70, 0)
        left = lib.count("pcs.draft") - drafts
        assert (got, left) in ((0, 0), (1, -1)), \
            "after the kill: %d rows and %+d drafts (partial?)" % (got, left)
        assert set(others) == {200}, "other requests failed meanwhile: %r" % sorted(set(map(str, others)))
        c.submit()                      # the person selects Submit again: the confirmation
        assert rows_by_marker(last) == {70: 1}, "after the retry: %r" % rows_by_marker(last)


def test_T36_all_workers_blocked_fail_fast_not_a_queue():
    """Every worker blocked on the database (a lock on pcs.draft held for a
    minute) while traffic continues.  limits.h: a worker's lock_timeout
    (PCS_DB_LOCK_TIMEOUT, 2 s) turns each blocked save into a 503 (the page
    says try again) within seconds, so no worker stays blocked and other
    requests keep being served; nothing waits past nginx's read timeout;
    nothing is lost: once the lock goes every person saves and goes on."""
    with Guard(crashes=False):
        nw = configured_workers()
        people = []
        for i in range(nw * 2):
            r = Respondent(71 + i, time.monotonic() + 90)
            r.begin()
            r.tok = csrf(r.c.get(P("before-you-start")).text)
            people.append(r)
        lock = TableLock("pcs.draft", hold=60)

        def save(r):
            t0 = time.monotonic()
            st = r.c.post(P("before-you-start"), {"csrf": r.tok, "consent": "yes"})
            return st, time.monotonic() - t0

        def probe(_):
            t0 = time.monotonic()
            try:
                st = Client().get("/healthz").status
            except OSError:
                st = "conn"
            return st, time.monotonic() - t0
        try:
            with concurrent.futures.ThreadPoolExecutor(nw * 2 + 30) as ex:
                saves = [ex.submit(save, r) for r in people]
                assert lib.wait_for(lambda: busy_workers(), timeout=10, step=0.02), "no worker blocked"
                probes = list(ex.map(probe, range(60)))
                saved = [f.result(timeout=60) for f in saves]
            # the lock is still held: a worker is free again, not stuck
            late = probe(0)
        finally:
            lock.release()
        statuses = sorted(set(r.status for r, _ in saved))
        assert statuses == [503], "saves under a held lock answered %r" % statuses
        slowest_save = max(t for _, t in saved)
        assert slowest_save < 15, "a save waited %.1f s under the lock" % slowest_save
        assert all("try again" in lib.text_of(r.text).lower() for r, _ in saved), "the 503 page does not say try again"
        assert set(st for st, _ in probes) <= {200, 502, 503, 504}, "probe statuses %r" % sorted(set(map(str, probes)))
        assert max(t for _, t in probes) < 17, "a probe waited %.1f s" % max(t for _, t in probes)
        assert late[0] == 200 and late[1] < 5, "with the lock still held a new request got %r" % (late,)
        assert ready_streak(5, timeout=20), "the service did not recover after the lock was released"
        for r in people:                # nothing lost: each saves now and the journey goes on
            r._page("before-you-start", [("consent", "yes")])


# ------------------------------------------------------------------ T-37

def _serve(keys_dir, sock_dir, extra_conf="", flags=()):
    """Starts `pcsurvey serve` on its own socket with keys_dir; returns
    (exit code or None if it kept running, output, socket created)."""
    conf = os.path.join(sock_dir, "pcsurvey.conf")
    with open(conf_path()) as f:
        lines = [l for l in f if not re.match(r"\s*(keys_dir|socket|workers)\s*=", l)]
    with open(conf, "w") as f:
        f.writelines(lines)
        f.write("keys_dir = %s\nsocket = %s\nworkers = 1\n%s" % (keys_dir, os.path.join(sock_dir, "s.sock"), extra_conf))
    p = subprocess.Popen([pcsurvey_bin(), "serve", "--config", conf] + list(flags), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"),
                         start_new_session=True)
    try:
        rc = p.wait(8)
    except subprocess.TimeoutExpired:
        rc = None
    sock = os.path.exists(os.path.join(sock_dir, "s.sock"))
    if rc is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)
    out = p.stdout.read().decode("utf-8", "replace")
    return rc, out, sock


def test_T37_keys_missing_or_wrong_refuse_to_start():
    src = os.path.join(lib.VAR, "keys")
    with open(os.path.join(src, "pseudonym.key"), "rb") as f:
        key = f.read()
    with tempfile.TemporaryDirectory(prefix="pcs-t37-") as d:
        def fresh(name):
            k = os.path.join(d, name)
            shutil.copytree(src, k)
            os.chmod(k, 0o700)
            return k

        # the control: a good copy starts
        rc, out, sock = _serve(fresh("good"), tempfile.mkdtemp(dir=d))
        assert rc is None and sock, "a good key set did not start: %r %s" % (rc, out[-300:])

        def absent(k):
            os.unlink(os.path.join(k, "pseudonym.key"))

        def mode(k):
            os.chmod(os.path.join(k, "pseudonym.key"), 0o644)

        def short(k):
            with open(os.path.join(k, "pseudonym.key"), "wb") as f:
                f.write(key[:31])

        def long_(k):
            with open(os.path.join(k, "pseudonym.key"), "wb") as f:
                f.write(key + b"\n")

        def empty(k):
            open(os.path.join(k, "pseudonym.key"), "wb").close()

        def pub_absent(k):
            os.unlink(os.path.join(k, "research.pub"))

        def pub_short(k):
            with open(os.path.join(k, "research.pub"), "r+b") as f:
                f.truncate(10)

        def sec_present(k):
            shutil.copy(os.path.join(lib.VAR, "custodian", "research.sec"), os.path.join(k, "research.sec"))

        def not_a_dir(k):
            shutil.rmtree(k)
            open(k, "w").close()

        def gone(k):
            shutil.rmtree(k)
        cases = [("pseudonym.key absent", absent, "pseudonym.key"),
                 ("pseudonym.key readable by others", mode, "pseudonym.key"),
                 ("pseudonym.key 31 bytes", short, "pseudonym.key"),
                 ("pseudonym.key 33 bytes", long_, "pseudonym.key"),
                 ("pseudonym.key empty", empty, "pseudonym.key"),
                 ("research.pub absent", pub_absent, "research.pub"),
                 ("research.pub wrong length", pub_short, "research.pub"),
                 ("research.sec on the server", sec_present, "research.sec"),
                 ("keys_dir is a file", not_a_dir, None),
                 ("keys_dir missing", gone, None)]
        for i, (what, spoil, names) in enumerate(cases):
            k = fresh("k%d" % i)
            spoil(k)
            rc, out, sock = _serve(k, tempfile.mkdtemp(dir=d))
            assert rc not in (None, 0), "%s: the server started (exit %r)" % (what, rc)
            assert not sock, "%s: the socket was created" % what
            if names:
                assert names in out, "%s: the message does not name the file: %s" % (what, out[-300:])
            assert key.hex() not in out and key.hex().upper() not in out, "%s: the key's bytes are in the message" % what
            assert "AddressSanitizer" not in out, "%s: crashed" % what


def _other_keys(d, keep=()):
    """A server key directory with fresh keys, except the instance's own
    files named in keep (copied in)."""
    k = os.path.join(d, "keys")
    os.makedirs(k, mode=0o700)
    subprocess.run([pcsurvey_bin(), "keygen", "--out", k], capture_output=True, timeout=30, check=True,
                   env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
    os.unlink(os.path.join(k, "research.sec"))
    for f in keep:
        shutil.copy(os.path.join(lib.VAR, "keys", f), os.path.join(k, f))
    return k


def _bound():
    """{(key file, fingerprint hex)} accepted by the database."""
    return {tuple(r) for r in lib.sql("SELECT name, encode(fingerprint, 'hex') FROM pcs.key_binding")}


def _key_bytes(k):
    out = []
    for f in ("pseudonym.key", "research.pub"):
        with open(os.path.join(k, f), "rb") as fh:
            out.append(fh.read())
    return out


def _assert_refused_naming(rc, out, sock, name, k):
    assert rc == 1, "started (or crashed) with a %s that did not write the data: exit %r %s" % (name, rc, out[-300:])
    assert not sock, "the socket was created before refusing"
    assert name in out and "--accept-new-keys" in out, "the refusal does not name %s and the fix: %s" % (name, out[-400:])
    for b in _key_bytes(k):
        assert b.hex() not in out and b.hex().upper() not in out, "key bytes in the message"
    assert "AddressSanitizer" not in out


def test_T37_pseudonym_key_differs_from_the_one_that_wrote_the_data():
    """0003_key_binding.sql: the database holds a fingerprint of the keys
    that wrote it; a server started with another pseudonym.key (a valid one:
    right length and mode) refuses before it listens, naming the file."""
    before = _bound()
    assert sorted(n for n, _ in before) == ["pseudonym.key", "research.pub"], "keys not bound: %r" % before
    with tempfile.TemporaryDirectory(prefix="pcs-t37b-") as d:
        k = _other_keys(d, keep=("research.pub",))
        rc, out, sock = _serve(k, tempfile.mkdtemp(dir=d))
        _assert_refused_naming(rc, out, sock, "pseudonym.key", k)
    assert _bound() == before, "a refused start changed the binding"


def test_T37_research_pub_differs_from_the_one_that_wrote_the_data():
    """Answers sealed to another research.pub could not be opened by the
    custodian's research.sec: refused the same way."""
    before = _bound()
    with tempfile.TemporaryDirectory(prefix="pcs-t37c-") as d:
        k = _other_keys(d, keep=("pseudonym.key",))
        rc, out, sock = _serve(k, tempfile.mkdtemp(dir=d))
        _assert_refused_naming(rc, out, sock, "research.pub", k)
    assert _bound() == before


def test_T37_accept_new_keys_rebinds_after_a_deliberate_rotation():
    """docs/privacy.md 7: after a rotation the operator starts once with
    --accept-new-keys; the new fingerprints are accepted from then on, and
    the old ones stay accepted (they wrote data: a temporary server on the
    old key honours withdrawals).  The instance's binding is restored."""
    before = _bound()
    try:
        with tempfile.TemporaryDirectory(prefix="pcs-t37d-") as d:
            k = _other_keys(d)
            rc, out, sock = _serve(k, tempfile.mkdtemp(dir=d), flags=["--accept-new-keys"])
            assert rc is None and sock, "--accept-new-keys did not start: %r %s" % (rc, out[-300:])
            added = _bound() - before
            assert sorted(n for n, _ in added) == ["pseudonym.key", "research.pub"], "not bound: %r" % added
            assert before <= _bound(), "the old keys are no longer accepted"
            rc, out, sock = _serve(k, tempfile.mkdtemp(dir=d))
            assert rc is None and sock, "the accepted keys did not start: %r %s" % (rc, out[-300:])
    finally:
        for name, fp in _bound() - before:
            lib.sql("DELETE FROM pcs.key_binding WHERE name = '%s' AND fingerprint = decode('%s', 'hex')" % (name, fp))
    assert _bound() == before


def test_T37_accept_new_keys_refused_while_the_database_is_away():
    """--accept-new-keys cannot bind anything without the database: the
    server must not start (its workers would refuse the keys later)."""
    conn = dict(kv.split("=", 1) for kv in lib.DBCONN.split())
    with tempfile.TemporaryDirectory(prefix="pcs-t37f-") as d:
        k = _other_keys(d)
        empty = os.path.join(d, "no-pg")
        os.mkdir(empty)
        conf = os.path.join(d, "pcsurvey.conf")
        with open(conf_path()) as f:
            lines = [l for l in f if not re.match(r"\s*(keys_dir|socket|workers|database)\s*=", l)]
        db = " ".join("%s=%s" % (a, b) for a, b in conn.items() if a != "host") + " host=" + empty
        with open(conf, "w") as f:
            f.writelines(lines)
            f.write("database = %s\nkeys_dir = %s\nsocket = %s\nworkers = 1\n" % (db, k, os.path.join(d, "s.sock")))
        p = subprocess.run([pcsurvey_bin(), "serve", "--config", conf, "--accept-new-keys"],
                           capture_output=True, timeout=60, env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        assert p.returncode == 1, "started without the database: %r %s" % (p.returncode, out[-300:])
        assert "needs the database" in out, out[-300:]
        assert not os.path.exists(os.path.join(d, "s.sock")), "the socket was created"


def test_T37_database_away_at_start_then_worker_finds_other_keys_and_all_stop():
    """When PostgreSQL is not reachable at start the check is deferred to
    each worker's first connection: the worker answers 503, exits, and the
    supervisor stops the whole service (exit 1), never serving with the
    wrong key.  The database 'appears' by linking its socket into the
    directory the temporary server's conninfo names."""
    conn = dict(kv.split("=", 1) for kv in lib.DBCONN.split())
    real_sock = os.path.join(conn["host"], ".s.PGSQL.%s" % conn.get("port", "5432"))
    with tempfile.TemporaryDirectory(prefix="pcs-t37e-") as d:
        k = _other_keys(d, keep=("research.pub",))
        pgdir = os.path.join(d, "pg")
        os.mkdir(pgdir)
        sd = tempfile.mkdtemp(dir=d)
        conf = os.path.join(sd, "pcsurvey.conf")
        with open(conf_path()) as f:
            lines = [l for l in f if not re.match(r"\s*(keys_dir|socket|workers|database)\s*=", l)]
        db = " ".join("%s=%s" % (a, b) for a, b in conn.items() if a != "host") + " host=" + pgdir
        with open(conf, "w") as f:
            f.writelines(lines)
            f.write("database = %s\nkeys_dir = %s\nsocket = %s\nworkers = 1\n" % (db, k, os.path.join(sd, "s.sock")))
        p = subprocess.Popen([pcsurvey_bin(), "serve", "--config", conf], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"),
                             start_new_session=True)
        try:
            sock = os.path.join(sd, "s.sock")
            assert lib.wait_for(lambda: os.path.exists(sock), timeout=10, step=0.05), \
                "serve did not start while the database was away"
            os.symlink(real_sock, os.path.join(pgdir, os.path.basename(real_sock)))
            data, err, closed = relay([(fcgi_request(base_params(uri="/readyz")), 0)], sock=sock, user=None)
            st, _, _ = fcgi_http(data)
            assert st == 503, "/readyz with other keys answered %d" % st
            rc = p.wait(15)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
        out = p.stdout.read().decode("utf-8", "replace")
        assert rc == 1, "serve exit %r after a worker found other keys: %s" % (rc, out[-400:])
        assert "key_mismatch" in out and "pseudonym.key" in out, out[-400:]
        assert "AddressSanitizer" not in out


# ------------------------------------------------------------------ T-38, T-39

def _mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", path],
                       capture_output=True, timeout=30)
    if p.returncode != 0:
        raise lib.Skip("cannot mount a tmpfs here (%s): T-38 procedure in docs/operations.md"
                       % p.stderr.decode(errors="replace").strip())


def _fill(path):
    """Writes a file into path until the filesystem is full."""
    f = os.path.join(path, "filler")
    with open(f, "wb", buffering=0) as fh:
        chunk = b"\0" * 65536
        try:
            while True:
                fh.write(chunk)
        except OSError:
            pass
        try:
            while True:
                fh.write(b"\0" * 512)
        except OSError:
            pass
    return f


def psql_admin(query):
    conn = re.sub(r"user=\S+", "user=postgres", lib.DBCONN)
    return lib.sql(query, conn=conn)


def test_T38a_data_volume_full_503_never_200_then_recovers():
    """pcs.response moved to a tablespace on a 4 MiB tmpfs that is then
    filled: submits answer 503, never a confirmation without a row; after
    space is freed every one of them can retry and succeed, and every
    acknowledged row is there.  (The whole data or WAL volume: the same
    with PANICs; procedure in docs/operations.md.)"""
    mnt = "/tmp/pcs-t38-%s" % re.sub(r"\W", "", os.path.basename(lib.VAR))
    size = int(lib.sql_value("SELECT pg_total_relation_size('pcs.response')"))
    _mount_tmpfs(mnt, "%dk" % (size // 1024 + 4096))   # the table plus 4 MiB
    moved = False
    try:
        shutil.chown(mnt, "postgres", "postgres")
        ts = os.path.join(mnt, "ts")
        os.makedirs(ts)
        shutil.chown(ts, "postgres", "postgres")
        psql_admin("DROP TABLESPACE IF EXISTS pcs_t38")
        psql_admin("CREATE TABLESPACE pcs_t38 LOCATION '%s'" % ts)
        psql_admin("ALTER TABLE pcs.response SET TABLESPACE pcs_t38")
        moved = True
        with Guard(crashes=False):
            last = max_id()
            filler = _fill(mnt)
            big = os.urandom(990).hex()         # 1,980 characters (the cap is 2,000): new pages soon
            people = [Respondent(i, time.monotonic() + 60, big) for i in range(8)]
            outcome = {}
            for p in people:
                p.begin()
                for i, pg in enumerate(PAGES):
                    p._page(pg, {
                        0: [("consent", "yes")],
                        1: [("role", "gp_salaried"), ("icb", "QE1"), ("hours_per_week", str(p.marker))],
                        4: [("helped_most", big)],
                    }.get(i, []))
                r = p.submit_once()
                outcome[p.marker] = r.status
                if r.status == 303:
                    assert r.location == FORM + "/done", "submit went to %s" % r.location
                    p.confirmed = True
            assert set(outcome.values()) <= {303, 503}, "submits on a full disk: %r" % outcome
            assert 503 in outcome.values(), "the disk never filled up: %r" % outcome
            reconcile(people, last)     # no confirmation without its row
            os.unlink(filler)
            for p in people:
                if outcome[p.marker] != 303:
                    p.submit()          # retried once space is back
            reconcile(people, last)
            assert all(p.confirmed for p in people)
            assert rows_by_marker(last) == {p.marker: 1 for p in people}
    finally:
        if moved:
            psql_admin("ALTER TABLE pcs.response SET TABLESPACE pg_default")
        try:
            psql_admin("DROP TABLESPACE IF EXISTS pcs_t38")
        finally:
            subprocess.run(["umount", mnt], capture_output=True, timeout=30)
            try:
                os.rmdir(mnt)
            except OSError:
                pass


def test_T38b_body_temp_path_unwritable_bodies_stay_in_memory():
    """client_body_buffer_size = client_max_body_size: nginx never writes a
    request body to client_body_temp_path, so a full (here: unwritable)
    temp volume changes nothing for the workers."""
    tmp = os.path.join(lib.VAR, "nginx", "client_body_temp")
    if not os.path.isdir(tmp):
        os.makedirs(tmp)
    st = os.stat(tmp)
    os.chmod(tmp, 0)
    try:
        with Guard():
            c = Client()
            g = c.get(FORM)
            r = c.post(FORM + "/start", {"csrf": csrf(g.text)})
            assert r.status == 303
            t = csrf(c.get(P("your-ideas")).text)
            r = c.request("POST", P("your-ideas"), body=("csrf=%s&helped_most=%s" % (t, "a" * (63 * 1024))).encode(),
                          content_type="application/x-www-form-urlencoded")
            assert r.status in (200, 303), "63 KiB body with the temp path unwritable: %d" % r.status
    finally:
        os.chmod(tmp, st.st_mode & 0o7777)


def test_T38c_log_volume_full_keeps_serving():
    """The documented choice (docs/operations.md): when the log volume is
    full the service keeps serving and the lines are lost.  A second
    supervisor on its own socket with stdout and stderr on /dev/full
    (every write: ENOSPC) serves pages and takes a draft."""
    with tempfile.TemporaryDirectory(prefix="pcs-t38c-") as d:
        sock = os.path.join(d, "s.sock")
        full = open("/dev/full", "wb")
        p = subprocess.Popen([pcsurvey_bin(), "serve", "--config", conf_path(), "--socket", sock, "--workers", "1"],
                             stdout=full, stderr=full, env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"),
                             start_new_session=True)
        try:
            assert lib.wait_for(lambda: os.path.exists(sock), timeout=20), "the server did not start"
            data, err, _ = relay([(fcgi_request(base_params(uri="/healthz")), 0)], user=None, sock=sock)
            assert err is None and fcgi_http(data)[0] == 200, "healthz with a full log volume"
            data, err, _ = relay([(fcgi_request(base_params(uri=FORM)), 0)], user=None, sock=sock)
            st, _, body = fcgi_http(data)
            assert st == 200, "start page with a full log volume: %d" % st
            tok = csrf(body.decode())
            req = fcgi_request(base_params("POST", FORM + "/start", CONTENT_TYPE="application/x-www-form-urlencoded",
                                           CONTENT_LENGTH=str(5 + len(tok))), body=("csrf=" + tok).encode())
            data, err, _ = relay([(req, 0)], user=None, sock=sock)
            assert fcgi_http(data)[0] == 303, "a draft could not be created with a full log volume"
            assert p.poll() is None, "the server died writing to a full log"
        finally:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
            full.close()


def test_T39_postgres_durability_settings():
    """What T-39 relies on, checked on the running cluster: fsync on,
    synchronous_commit on, full_page_writes on, data_sync_retry off (PANIC
    on an fsync error).  The storage-lies part (dm-flakey, a VM reset)
    needs the operator's machine: docs/operations.md."""
    want = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on", "data_sync_retry": "off"}
    for k, v in want.items():
        got = lib.sql_value("SHOW %s" % k)
        assert got == v, "%s = %s, T-39 needs %s" % (k, got, v)
