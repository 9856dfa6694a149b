#!/usr/bin/env python3
"""bench.py: `make bench` (perf.md, issue 9).

Sets up the bench instance (deploy/dev-stack.sh bench-up: optimised build
bin/pcsurvey, var/bench, nginx 127.0.0.1:8380, PostgreSQL 15732, a fresh
database), adds the baselines, runs B1-B5 each next to its baseline in the
same run, prints one table and writes it to var/bench/latest.txt (a copy goes
to var/bench/history/).  Benchmarks never fail the build: the exit status is
0 whenever the table could be made, whatever the figures; 1 only when the
bench itself could not run.

  B1  GET of the start page (no draft) and of the about-your-work page (the
      42-ICB select; a fresh, empty draft each request) against (a) nginx
      serving the same bytes as a static file and (b) tests/bench/okapp.c, a
      trivial libfcgi responder behind the same nginx on the same kind of
      socket with as many workers; (c) okapp sending the same bytes after
      the same draft query: the floor of the page without our own code
  B2  full respondents (tests/bench/flow.lua) against pgbench running the
      same number of single-row INSERT transactions at the same concurrency
      (synchronous_commit=on); rows counted before/after against the acks
  B3  counts?by=icb,role and coverage at two sizes against the same GROUP BY
      in psql (needs the researchers' API; "not available yet" while 404)
  B4  responses.csv and `pcsurvey export` against psql \\copy of the same rows
      at both sizes, peak RSS of the export process / serving worker
  B5  RSS per worker: idle after start, after the first load, after >= 10^5
      requests (same pids: no restart), after the exports

The machine is shared and noisy, so each wrk point is cut into slices run in
turn with its baselines (full mode: 4 x 5 s = 20 s per point; quick: 1 x 2 s):
a burst of outside load then hits the app and its baseline alike.  Every
load run is bounded (wrk -d, pgbench -t, timeouts).

Options:
  --quick         2 s per point, 10k/50k rows instead of 100k/1M (< 2 min)
  --slices N      slices per point (default 4, quick 1)
  --slice S       seconds per slice (default 5, quick 3)
  --only LIST     e.g. B1,B2 (B5 rides along)
  --keep          leave the instance running afterwards (profiling)
  --no-setup      reuse a running bench instance
Environment: PCS_BENCH_WORKERS (workers of the bench instance; dev-stack.sh
defaults to 4 per CPU, see there).
"""
import argparse
import datetime
import http.client
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
HERE = os.path.join(ROOT, 'tests', 'bench')
FORM = 'staff-wellbeing'
QPAGE = 'about-your-work'
HOST = '127.0.0.1'
HTTP_PORT = 8380
PG_PORT = 15732
CLK = os.sysconf('SC_CLK_TCK')
TX_PER_RESPONDENT = 5	# draft insert, 3 draft updates, the submit transaction
REQ_PER_RESPONDENT = 8
REF_DATE = '2026-03-31'	# the staff form's reference_date: its 42 ICBs


def log(msg):
    print('bench: ' + msg, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# ------------------------------------------------------------------ /proc

def read(path, default=''):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def stat_fields(pid):
    s = read('/proc/%d/stat' % pid)
    return s[s.rfind(')') + 2:].split() if s else None	# fields from 3 (state) on


def all_ppids():
    out = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            f = stat_fields(int(d))
            if f:
                out[int(d)] = int(f[1])
    return out


def children(pid, ppids=None):
    ppids = ppids if ppids is not None else all_ppids()
    return sorted(p for p, pp in ppids.items() if pp == pid)


def tree_ticks(root, ppids):
    """CPU ticks of root and its children, children already reaped included
    (their time is in the parent's cutime/cstime)."""
    total = 0
    for p in [root] + children(root, ppids):
        f = stat_fields(p)
        if f and f[0] != 'Z':
            total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    return total


def status_kib(pid, key):
    m = re.search(r'^%s:\s+(\d+) kB' % key, read('/proc/%d/status' % pid), re.M)
    return int(m.group(1)) if m else 0


def pid_from(path):
    line = read(path).split('\n')[0].strip()
    return int(line) if line.isdigit() else None


# ------------------------------------------------------------------ helpers

def run(cmd, timeout=600, check=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise BenchError('%s failed (exit %d): %s' % (' '.join(cmd[:3]), p.returncode,
                                                     (p.stderr or p.stdout).strip()[-800:]))
    return p


def fmt_num(x, nd=0):
    if x is None:
        return '-'
    return '{:,.{}f}'.format(x, nd)


def label_rows(n):
    return '%dk' % (n // 1000) if n < 1000000 else '%dM' % (n // 1000000)


GROUPS = ('wk', 'pg', 'ngx')


class Bench:
    def __init__(self, o):
        self.o = o
        self.quick = o.quick
        self.slices = o.slices or (1 if o.quick else 4)
        self.slice = o.slice or (2 if o.quick else 5)
        self.sizes = (10000, 50000) if o.quick else (100000, 1000000)
        self.reps = 3 if o.quick else 5
        self.rows, self.notes, self.aims = [], [], []
        self.sql, self.sql_labels = {}, []
        self.okapps = {}
        self.okapp_built = False
        self.token, self.api_reason = None, None
        self.app_requests = 0
        self.rss = {}
        self.var = None
        self.gen_secs = 0.0
        self.b3_api, self.b4_cli, self.b4_api = {}, {}, {}

    # ---- instance --------------------------------------------------------

    def setup(self):
        if not self.o.no_setup:
            log('setting up the bench instance (deploy/dev-stack.sh bench-up)')
            p = subprocess.run(['bash', os.path.join(ROOT, 'deploy', 'dev-stack.sh'), 'bench-up'],
                               cwd=ROOT, timeout=900)
            if p.returncode != 0:
                raise BenchError('deploy/dev-stack.sh bench-up failed')
        self.var = os.path.realpath(os.path.join(ROOT, 'var', 'bench'))
        self.logdir = os.path.join(self.var, 'log', 'bench')
        shutil.rmtree(self.logdir, ignore_errors=True)
        os.makedirs(self.logdir)
        self.conf = os.path.join(self.var, 'pcsurvey.conf')
        self.bin = os.path.join(ROOT, 'bin', 'pcsurvey')
        self.pgsock = os.path.join(self.var, 'pgsock')
        self.sup = pid_from(os.path.join(self.var, 'run', 'pcsurvey.pid'))
        self.ngx = pid_from(os.path.join(self.var, 'run', 'nginx.pid'))
        self.pg = pid_from(os.path.join(self.var, 'pg', 'postmaster.pid'))
        if not (self.sup and self.ngx and self.pg):
            raise BenchError('the bench instance is not up (pid files in %s)' % self.var)
        self.nworkers = len(self.workers())
        if self.nworkers == 0:
            raise BenchError('no pcsurvey workers running')
        m = re.search(r'^database = (.*)$', read(self.conf), re.M)
        self.conninfo = m.group(1).strip() if m else ''
        log('instance up: %d workers, state in %s' % (self.nworkers, self.var))

    def workers(self, root=None):
        return children(root or self.sup)

    def teardown(self):
        for name in list(self.okapps):
            self.stop_okapp(name)
        if not self.o.keep and not self.o.no_setup:
            log('stopping the bench instance (deploy/dev-stack.sh bench-down)')
            subprocess.run(['bash', os.path.join(ROOT, 'deploy', 'dev-stack.sh'), 'bench-down'],
                           cwd=ROOT, timeout=120, stdout=subprocess.DEVNULL)

    # ---- database --------------------------------------------------------

    def psql_cmd(self):
        return ['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', self.pgsock,
                '-p', str(PG_PORT), '-U', 'postgres', '-d', 'pcsurvey']

    def psql(self, sql, timeout=900):
        return run(self.psql_cmd() + ['-c', sql], timeout=timeout).stdout.strip()

    def form_rows(self):
        return int(self.psql("SELECT count(*) FROM pcs.response WHERE form_id = '%s'" % FORM))

    # ---- http ------------------------------------------------------------

    def http(self, method, path, body=None, headers=None, timeout=120):
        c = http.client.HTTPConnection(HOST, HTTP_PORT, timeout=timeout)
        h = dict(headers or {})
        if body is not None:
            h.setdefault('Content-Type', 'application/x-www-form-urlencoded')
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r.headers, data

    @staticmethod
    def csrf(html):
        m = re.search(rb'name="csrf" value="([0-9a-f]+)"', html)
        if not m:
            raise BenchError('no csrf field in the page')
        return m.group(1).decode()

    def new_draft(self):
        """A new respondent: their draft token."""
        st, _, body = self.http('GET', '/f/%s' % FORM)
        if st != 200:
            raise BenchError('GET /f/%s answered %d' % (FORM, st))
        st, h, _ = self.http('POST', '/f/%s/start' % FORM, 'csrf=' + self.csrf(body))
        m = re.search(r'pcs_draft=([^;]+)', h.get('Set-Cookie', ''))
        if st != 303 or not m:
            raise BenchError('POST /f/%s/start answered %d without a draft cookie' % (FORM, st))
        return m.group(1)

    def answers_file(self):
        path = os.path.join(self.logdir, 'answers.txt')
        if not os.path.exists(path):
            icbs = self.psql("SELECT code FROM pcs.icb WHERE valid_from <= DATE '%s' AND "
                             "(valid_to IS NULL OR valid_to >= DATE '%s') ORDER BY code" %
                             (REF_DATE, REF_DATE))
            roles = self.psql("SELECT code FROM pcs.staff_role WHERE code <> 'other' ORDER BY code")
            with open(path, 'w') as f:
                f.writelines('icb %s\n' % c for c in icbs.split())
                f.writelines('role %s\n' % c for c in roles.split())
        return path

    # ---- load --------------------------------------------------------------

    def groups(self, fcgi_root=None):
        return {'wk': fcgi_root or self.sup, 'pg': self.pg, 'ngx': self.ngx}

    def snap(self, groups):
        ppids = all_ppids()
        return {g: tree_ticks(pid, ppids) for g, pid in groups.items()}

    def wrk(self, spec, secs):
        """One wrk run of spec (a dict: label script path conns threads args
        root app); returns its BENCH counters plus CPU ticks per group."""
        url = 'http://%s:%d%s' % (HOST, HTTP_PORT, spec.get('path', ''))
        cmd = ['wrk', '-t%d' % spec.get('threads', 2), '-c%d' % spec['conns'], '-d%ds' % secs,
               '--timeout', '5s', '-s', spec['script'], url]
        if spec.get('args'):
            cmd += ['--'] + list(spec['args'])
        groups = self.groups(spec.get('root'))
        cl0 = os.times()
        before = self.snap(groups)
        p = run(cmd, timeout=secs + 120, check=False, cwd=HERE)
        after = self.snap(groups)
        cl1 = os.times()
        with open(os.path.join(self.logdir, 'wrk.out'), 'a') as f:
            f.write('$ ' + ' '.join(cmd) + '\n' + p.stdout + p.stderr + '\n')
        m = re.search(r'^BENCH (.*)$', p.stdout, re.M)
        if p.returncode != 0 or not m:
            raise BenchError('wrk failed for %s: %s' % (spec['label'], (p.stderr or p.stdout)[-500:]))
        r = {}
        for kv in m.group(1).split():
            k, v = kv.split('=', 1)
            r[k] = int(v) if re.fullmatch(r'-?\d+', v) else v
        r['ticks'] = {g: after[g] - before[g] for g in groups}
        r['client'] = (cl1.children_user + cl1.children_system -
                       cl0.children_user - cl0.children_system)
        if spec.get('app', True):
            self.app_requests += r['requests']
        return r

    @staticmethod
    def merge(parts):
        """Slices of one point: sums, and the median of the slices' percentiles."""
        r = dict(parts[-1])
        for k in ('requests', 'duration_us', 'bytes', 'err_connect', 'err_read', 'err_write',
                  'err_status', 'err_timeout', 'flow_acks', 'flow_submits', 'flow_started',
                  'flow_errors', 'stored', 'pgb_tx', 'pgb_us'):
            if k in r:
                r[k] = sum(p[k] for p in parts)
        r['ticks'] = {g: sum(p['ticks'][g] for p in parts) for g in parts[0]['ticks']}
        r['client'] = sum(p['client'] for p in parts)
        for k in ('p50_us', 'p99_us'):
            r[k] = statistics.median(p[k] for p in parts)
        if 'flow_err_steps' in r:
            r['flow_err_steps'] = ','.join(str(sum(int(p['flow_err_steps'].split(',')[i])
                                                   for p in parts)) for i in range(8))
            bad = [p['flow_last_bad'] for p in parts if p['flow_last_bad'] != '-']
            r['flow_last_bad'] = bad[-1] if bad else '-'
        n = max(r['requests'], 1)
        r['secs'] = r['duration_us'] / 1e6
        r['rps'] = r['requests'] / r['secs']
        r['p50'] = r['p50_us'] / 1000.0
        r['p99'] = r['p99_us'] / 1000.0
        r['cpu'] = {g: t / CLK / n * 1000.0 for g, t in r['ticks'].items()}	# ms per request
        r['client_ms'] = r['client'] / n * 1000.0
        r['errors'] = sum(r[k] for k in ('err_connect', 'err_read', 'err_write', 'err_status',
                                         'err_timeout'))
        return r

    def point(self, specs):
        """Runs the specs of one point in turn, slice after slice."""
        parts = {s['key']: [] for s in specs}
        for _ in range(self.slices):
            for s in specs:
                parts[s['key']].append(s['run'](s) if 'run' in s else self.wrk(s, self.slice))
        out = {}
        for s in specs:
            out[s['key']] = self.merge(parts[s['key']])
            out[s['key']]['rss'] = self.rss_mib(s.get('root'))
        return out

    def rss_mib(self, root=None):
        ws = self.workers(root)
        return statistics.mean(status_kib(p, 'VmRSS') for p in ws) / 1024.0 if ws else None

    def worker_rss(self):
        return {p: (status_kib(p, 'VmRSS'), status_kib(p, 'RssAnon')) for p in self.workers()}

    def row(self, bench, what, c, r=None, **kw):
        d = {'bench': bench, 'what': what, 'c': c, 'unit': 'req/s', 'base': '', 'ratio': None,
             'aim': '', 'sql': None, 'thr': None, 'p50': None, 'p99': None, 'cpu': None,
             'rss': None, 'err': 0, 'client': None}
        if r:
            d.update(thr=r['rps'], p50=r['p50'], p99=r['p99'], cpu=r['cpu'], rss=r.get('rss'),
                     err=r['errors'], client=r['client_ms'])
        d.update(kw)
        self.rows.append(d)

    def aim(self, text, ok):
        self.aims.append((text, ok))

    # ---- baselines of B1 ---------------------------------------------------

    def make_flags(self):
        env = {k: v for k, v in os.environ.items() if k not in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL')}
        p = run(['make', '-s', '--no-print-directory',
                 '--eval=bench-flags: ; @echo $(CFLAGS_PCS) $(OPT) $(LDHARD)', 'bench-flags'],
                cwd=ROOT, env=env)
        return p.stdout.split()

    def start_okapp(self, name, extra=()):
        exe = os.path.join(self.var, 'okapp')
        if not self.okapp_built:
            self.okapp_built = True
            flags = self.make_flags()
            run(['cc'] + flags + ['-o', exe, os.path.join(HERE, 'okapp.c'), '-lfcgi', '-lpq'])
            log('okapp built with the Makefile flags (%s)' %
                ' '.join(f for f in flags if f.startswith(('-O', '-fstack', '-D_FORT', '-fPIE'))))
        sock = os.path.join(self.var, 'run', 'okapp-%s.sock' % name)
        with open(os.path.join(self.logdir, 'okapp.log'), 'a') as err:
            p = subprocess.Popen([exe, sock, str(self.nworkers)] + list(extra),
                                 start_new_session=True, stdin=subprocess.DEVNULL, stderr=err)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        else:
            raise BenchError('okapp did not create %s' % sock)
        self.okapps[name] = p
        return sock

    def stop_okapp(self, name):
        p = self.okapps.pop(name, None)
        if p and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def add_locations(self, socks):
        """The baselines' locations, in the same server block of the same nginx
        (its security headers, access log and fastcgi_params), then a reload."""
        sdir = os.path.join(self.var, 'static')
        extra = os.path.join(self.var, 'nginx', 'bench-extra.conf')
        with open(extra, 'w') as f:
            f.write('# tests/bench/bench.py: the baselines of B1 (perf.md)\n'
                    'location ^~ /bench/static/ {\n\talias %s/;\n\ttypes { }\n'
                    '\tdefault_type "text/html; charset=utf-8";\n}\n' % sdir)
            for name, sock in socks.items():
                f.write('location = /bench/%s {\n\tfastcgi_pass unix:%s;\n}\n' % (name, sock))
        conf = os.path.join(self.var, 'nginx', 'nginx.conf')
        text = read(conf)
        if extra not in text:
            lines = text.split('\n')
            at = next((i for i, l in enumerate(lines)
                       if re.match(r'\s*location \^~ /assets/ \{', l)), None)
            if at is None:
                raise BenchError('cannot find where to add the baseline locations in %s' % conf)
            lines.insert(at, '\t\tinclude %s;' % extra)
            with open(conf, 'w') as f:
                f.write('\n'.join(lines))
        run(['nginx', '-t', '-q', '-p', os.path.join(self.var, 'nginx') + '/', '-e',
             os.path.join(self.var, 'log', 'nginx-error.log'), '-c', conf])
        os.kill(self.ngx, signal.SIGHUP)
        for _ in range(100):
            time.sleep(0.1)
            try:
                if all(self.http('GET', '/bench/%s' % n)[0] == 200 for n in socks) and \
                        self.http('GET', '/bench/static/start.html')[0] == 200:
                    return
            except OSError:
                pass
        raise BenchError('nginx did not pick up the baseline locations')

    # ---- B1 ----------------------------------------------------------------

    def b1(self):
        st, _, start_html = self.http('GET', '/f/%s' % FORM)
        tok = self.new_draft()
        st2, _, q_html = self.http('GET', '/f/%s/p/%s' % (FORM, QPAGE),
                                   headers={'Cookie': 'pcs_draft=' + tok})
        if st != 200 or st2 != 200:
            raise BenchError('B1 pages answered %d / %d' % (st, st2))
        n_icb = len(set(re.findall(rb'<option value="(Q[A-Z0-9]{2})"', q_html)))
        sdir = os.path.join(self.var, 'static')
        shutil.rmtree(sdir, ignore_errors=True)
        os.makedirs(sdir)
        os.chmod(sdir, 0o755)
        for name, data in (('start.html', start_html), ('question.html', q_html)):
            with open(os.path.join(sdir, name), 'wb') as f:
                f.write(data)
            os.chmod(os.path.join(sdir, name), 0o644)
        # a pool of fresh, empty drafts: "a new respondent each time"
        cookies = os.path.join(self.logdir, 'drafts.txt')
        with open(cookies, 'w') as f:
            f.writelines(self.new_draft() + '\n' for _ in range(200))
        idhex = self.psql("SELECT encode(id_hash, 'hex') FROM pcs.draft LIMIT 1")
        socks = {
            'ok': self.start_okapp('ok'),
            'floor-start': self.start_okapp('floor-start', [os.path.join(sdir, 'start.html')]),
            'floor-question': self.start_okapp('floor-question', [
                os.path.join(sdir, 'question.html'), self.conninfo, idhex, FORM]),
        }
        self.add_locations(socks)
        log('B1: start page %d bytes, %s page %d bytes (%d ICB options), 200 fresh drafts' %
            (len(start_html), QPAGE, len(q_html), n_icb))
        qpath = '/f/%s/p/%s' % (FORM, QPAGE)
        for c in (8, 32):
            log('B1 c=%d: %d x %d s slices of 7 loads in turn' % (c, self.slices, self.slice))
            specs = [
                dict(key='ok', label='B1b-ok', script='get.lua', path='/bench/ok', conns=c,
                     root=self.okapps['ok'].pid, app=False),
                dict(key='a1', label='B1-start', script='get.lua', path='/f/%s' % FORM, conns=c),
                dict(key='s1', label='B1a-static-start', script='get.lua',
                     path='/bench/static/start.html', conns=c, app=False),
                dict(key='f1', label='B1c-floor-start', script='get.lua', path='/bench/floor-start',
                     conns=c, root=self.okapps['floor-start'].pid, app=False),
                dict(key='a2', label='B1-question', script='get-draft.lua', path=qpath, conns=c,
                     args=(qpath, cookies)),
                dict(key='s2', label='B1a-static-question', script='get.lua',
                     path='/bench/static/question.html', conns=c, app=False),
                dict(key='f2', label='B1c-floor-question', script='get.lua',
                     path='/bench/floor-question', conns=c, root=self.okapps['floor-question'].pid,
                     app=False),
            ]
            r = self.point(specs)
            if 'warm' not in self.rss:
                self.rss['warm'] = self.worker_rss()
            ok = r['ok']
            for kind, name, a, s, fl, nbytes, sql in (
                    ('start', 'GET /f/F start page, no draft', r['a1'], r['s1'], r['f1'],
                     len(start_html), 'get_start'),
                    ('question', 'GET /f/F/p/%s, new draft, %d ICBs' % (QPAGE, n_icb), r['a2'],
                     r['s2'], r['f2'], len(q_html), 'get_question')):
                ratio = a['rps'] / ok['rps']
                self.row('B1', name, c, a, base='B1b %s/s' % fmt_num(ok['rps']), ratio=ratio,
                         aim='>=0.7; p99<20ms@32', sql=self.sql.get(sql))
                self.row('', '  B1a nginx static file, same %d bytes' % nbytes, c, s,
                         base='app/static', ratio=a['rps'] / s['rps'])
                self.row('', '  B1c okapp: same bytes%s (floor)' %
                         (' + same draft SELECT' if kind == 'question' else ''), c, fl,
                         base='app/floor', ratio=a['rps'] / fl['rps'],
                         sql=1 if kind == 'question' else 0)
                self.aim('B1 %s c=%d: %.2f of B1b (>= 0.7)' % (kind, c, ratio), ratio >= 0.7)
                if c == 32:
                    self.aim('B1 %s c=32: p99 %.1f ms (< 20 ms)' % (kind, a['p99']), a['p99'] < 20)
                if a['errors']:
                    self.notes.append('B1 %s c=%d: %d errors (see %s/wrk.out)' %
                                      (kind, c, a['errors'], self.logdir))
            self.row('', '  B1b fcgi "ok" responder, %d workers' % self.nworkers, c, ok)
        for name in list(self.okapps):
            self.stop_okapp(name)

    # ---- SQL statements per request ------------------------------------------

    def count_sql(self):
        """log_statement=all for one request of each kind; counts what the
        workers' sessions (pcsurvey@pcsurvey) logged."""
        pglog = os.path.join(self.var, 'log', 'postgresql.log')
        api = self.api_available()
        # every worker's connection first: a connection's set-up is not a request's
        self.wrk(dict(label='sql-warmup', script='flow.lua', conns=2 * self.nworkers,
                      threads=2 * self.nworkers, args=(FORM, self.answers_file())), 1)
        self.psql("ALTER SYSTEM SET log_statement = 'all'")
        self.psql('SELECT pg_reload_conf()')
        time.sleep(0.5)
        pat = re.compile(r' pcsurvey@pcsurvey LOG:  (statement|execute [^:]*):')

        def count(fn):
            with open(pglog, 'rb') as f:
                f.seek(0, 2)
                off = f.tell()
            fn()
            time.sleep(0.3)
            with open(pglog, 'rb') as f:
                f.seek(off)
                return len(pat.findall(f.read().decode('utf-8', 'replace')))

        st = {}

        def get(path, keep=None):
            def f():
                code, _, body = self.http('GET', path, headers=st.get('cookie'))
                if keep:
                    st[keep] = self.csrf(body)
            return f

        def post(path, body, expect=303):
            def f():
                code, h, _ = self.http('POST', path, body % st, headers=st.get('cookie'))
                if code != expect:
                    raise BenchError('POST %s answered %d' % (path, code))
                if 'pcs_draft=' in h.get('Set-Cookie', ''):
                    st['cookie'] = {'Cookie': 'pcs_draft=' + re.search(
                        r'pcs_draft=([^;]+)', h['Set-Cookie']).group(1)}
            return f

        b = '/f/%s' % FORM
        kinds = [
            ('get_start', 'GET /f/F (start page, no draft)', get(b, 'pub')),
            ('post_start', 'POST /f/F/start', post(b + '/start', 'csrf=%(pub)s')),
            ('get_p1', 'GET /f/F/p/before-you-start', get(b + '/p/before-you-start', 'csrf')),
            ('get_question', 'GET /f/F/p/' + QPAGE, get(b + '/p/' + QPAGE)),
            ('post_p1', 'POST /f/F/p/before-you-start',
             post(b + '/p/before-you-start', 'csrf=%(csrf)s&consent=yes')),
            ('post_p2', 'POST /f/F/p/about-your-work', post(
                b + '/p/about-your-work', 'csrf=%(csrf)s&role=practice_nurse&icb=QYG'
                '&work_setting=gp_practice&arrs_funded=no&years_in_role=3_to_5&hours_per_week=30')),
            ('post_p3', 'POST /f/F/p/support', post(
                b + '/p/support', 'csrf=%(csrf)s&offered=eap&offered=peer_support'
                '&providers=employer&access__know_what=4&access__easy_to_access=3')),
            ('get_check', 'GET /f/F/check', get(b + '/check')),
            ('post_submit', 'POST /f/F/submit', post(b + '/submit', 'csrf=%(csrf)s')),
            ('get_done', 'GET /f/F/done', get(b + '/done')),
        ]
        if api:
            auth = {'Authorization': 'Bearer ' + self.token}
            for key, path in (('api_counts', '/api/v1/forms/%s/counts?by=icb,role' % FORM),
                              ('api_coverage', '/api/v1/forms/%s/coverage' % FORM),
                              ('api_csv', '/api/v1/forms/%s/responses.csv' % FORM)):
                kinds.append((key, 'GET ' + path.replace(FORM, 'F'),
                              (lambda p: lambda: self.http('GET', p, headers=auth))(path)))
        try:
            for key, label, fn in kinds:
                self.sql[key] = count(fn)
                self.sql_labels.append((key, label))
        finally:
            self.psql('ALTER SYSTEM RESET log_statement')
            self.psql('SELECT pg_reload_conf()')
        self.sql['flow'] = sum(self.sql[k] for k in ('get_start', 'post_start', 'get_p1', 'post_p1',
                                                     'post_p2', 'post_p3', 'get_check',
                                                     'post_submit'))
        log('SQL statements per request: ' +
            ', '.join('%s %d' % (k, self.sql[k]) for k, _ in self.sql_labels))
        self.aim('B1 GET start page without a draft: %d SQL statements (0)' % self.sql['get_start'],
                 self.sql['get_start'] == 0)

    # ---- B2 ----------------------------------------------------------------

    def flow_slice(self, spec):
        before = self.form_rows()
        r = self.wrk(spec, self.slice)
        time.sleep(1.0)		# submits in flight when wrk stopped
        r['stored'] = self.form_rows() - before
        return r

    def pgbench_slice(self, spec):
        """As many single-row INSERT transactions as the last flow slice's
        respondents made, at the same concurrency."""
        c = spec['conns']
        last = self.last_flow[c]
        txns = max(last * TX_PER_RESPONDENT, c * 10)
        per_client = int(math.ceil(txns / c))
        prefix = os.path.join(self.logdir, 'pgbench')
        env = dict(os.environ, PGOPTIONS='-c synchronous_commit=on')
        groups = self.groups()
        cl0 = os.times()
        b = self.snap(groups)
        p = run(['pgbench', '-n', '-h', self.pgsock, '-p', str(PG_PORT), '-U', 'postgres',
                 '-c', str(c), '-j', '2', '-t', str(per_client), '-M', 'prepared',
                 '-f', os.path.join(HERE, 'pgbench-insert.sql'), '-l', '--log-prefix', prefix,
                 'pcsurvey'], timeout=600, env=env, cwd=self.logdir)
        a = self.snap(groups)
        cl1 = os.times()
        tps = float(re.search(r'tps = ([\d.]+) \(without initial connection time\)', p.stdout).group(1))
        ntx = int(re.search(r'actually processed: (\d+)', p.stdout).group(1))
        lat = []
        for fn in os.listdir(self.logdir):
            if fn.startswith('pgbench.'):
                with open(os.path.join(self.logdir, fn)) as f:
                    lat += [int(line.split()[2]) for line in f if line.strip()]
                os.unlink(os.path.join(self.logdir, fn))
        lat.sort()
        pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else 0
        self.psql("DELETE FROM pcs.response WHERE form_id = 'bench-pgbench'")
        return {'requests': ntx, 'duration_us': int(ntx / tps * 1e6), 'bytes': 0,
                'p50_us': pct(0.5), 'p99_us': pct(0.99), 'err_connect': 0, 'err_read': 0,
                'err_write': 0, 'err_status': 0, 'err_timeout': 0,
                'ticks': {g: a[g] - b[g] for g in groups},
                'client': cl1.children_user + cl1.children_system - cl0.children_user -
                cl0.children_system}

    def b2(self):
        answers = self.answers_file()
        self.last_flow = {}
        for c in (8, 32):
            log('B2 c=%d: %d slices of %d s respondents (wrk -t%d -c%d), each followed by pgbench' %
                (c, self.slices, self.slice, c, c))

            def flow(spec, c=c):
                r = self.flow_slice(spec)
                self.last_flow[c] = r['flow_acks']
                return r
            r = self.point([
                dict(key='flow', label='B2-flow', script='flow.lua', conns=c, threads=c,
                     args=(FORM, answers), run=flow),
                dict(key='pgb', label='B2-pgbench', conns=c, run=self.pgbench_slice, app=False),
            ])
            fl, pg = r['flow'], r['pgb']
            acks, submits, stored = fl['flow_acks'], fl['flow_submits'], fl['stored']
            resp_s = acks / fl['secs']
            tps = pg['rps']
            ratio = resp_s * TX_PER_RESPONDENT / tps
            per_resp = fl['requests'] / max(acks, 1)
            self.row('B2', 'respondents: start, 3 page POSTs, check, submit', c, fl, thr=resp_s,
                     unit='resp/s', cpu={g: v * per_resp for g, v in fl['cpu'].items()},
                     client=fl['client_ms'] * per_resp, sql=self.sql.get('flow'),
                     base='pgbench %s tx/s' % fmt_num(tps), ratio=ratio,
                     aim='>=0.5 (x%d tx)' % TX_PER_RESPONDENT)
            self.row('', '  the same, per HTTP request (%d per respondent)' % REQ_PER_RESPONDENT,
                     c, fl, sql=self.sql['flow'] / REQ_PER_RESPONDENT if 'flow' in self.sql else None)
            self.row('', '  B2 pgbench, 1-row INSERT, synchronous_commit=on', c, pg, unit='tx/s',
                     sql=1, rss=None)
            lost = acks - stored
            self.notes.append('B2 c=%d: %d respondents acknowledged, %d submits sent, %d rows '
                              'stored, %d lost acks, %d flow errors (per step %s)%s' %
                              (c, acks, submits, stored, max(lost, 0), fl['flow_errors'],
                               fl['flow_err_steps'], '' if fl['flow_last_bad'] == '-' else
                               ' last: ' + fl['flow_last_bad']))
            self.aim('B2 c=%d: %.2f of pgbench (>= 0.5)' % (c, ratio), ratio >= 0.5)
            self.aim('B2 c=%d: %d lost acks (rows %d within [acks %d, submits %d])' %
                     (c, max(lost, 0), stored, acks, submits), lost <= 0 and stored <= submits)

    # ---- API ---------------------------------------------------------------

    def api_available(self):
        """True when the researchers' API answers; else api_reason says why."""
        if self.token is None and self.api_reason is None:
            p = run([self.bin, 'token', 'create', '--name', 'bench-%d' % os.getpid(), '--scope',
                     'export', '--config', self.conf], check=False, timeout=60)
            if p.returncode != 0 or not p.stdout.strip():
                self.api_reason = '`pcsurvey token create` failed: ' + \
                    ((p.stderr or p.stdout).strip().split('\n') or [''])[0][:100]
            else:
                self.token = p.stdout.strip().split('\n')[0].strip()
        if self.token is None:
            return False
        st, _, _ = self.http('GET', '/api/v1/forms/%s/codebook' % FORM,
                             headers={'Authorization': 'Bearer ' + self.token})
        if st == 404:
            self.api_reason = 'GET /api/v1/forms/%s/codebook answers 404' % FORM
            return False
        self.api_reason = None
        return True

    def api_get(self, path, reps, limit_s):
        """Median time (ms) of reps GETs after one warm-up; None and a note
        when one fails or the warm-up takes longer than limit_s."""
        auth = {'Authorization': 'Bearer ' + self.token}
        ts = []
        for i in range(reps + 1):
            t = time.perf_counter()
            st, _, body = self.http('GET', path, headers=auth, timeout=600)
            ms = (time.perf_counter() - t) * 1000.0
            if st != 200:
                return None, 'answered %d after %.1f s' % (st, ms / 1000.0)
            if i == 0:
                first = ms
                if ms > limit_s * 1000.0:
                    return ms, 'one request took %.1f s: not repeated' % (ms / 1000.0)
            else:
                ts.append(ms)
        return statistics.median(ts), 'first (cold) request %.1f ms' % first

    # ---- B3, B4 --------------------------------------------------------------

    def grow(self, n):
        have = self.form_rows()
        if have >= n:
            return
        first = int(self.psql('SELECT coalesce(max(id), 0) + 1 FROM pcs.response'))
        log('generating %s synthetic responses (%s present)' % (fmt_num(n - have), fmt_num(have)))
        t = time.time()
        run(self.psql_cmd() + ['-v', 'n=%d' % (n - have), '-v', 'first=%d' % first, '-f',
                               os.path.join(HERE, 'gen-responses.sql')], timeout=1200)
        self.psql('CHECKPOINT')
        self.gen_secs += time.time() - t
        log('  done in %.1f s' % (time.time() - t))

    def psql_time(self, sql, reps):
        script = '\\timing on\n' + (sql + ';\n') * (reps + 1)
        p = run(self.psql_cmd() + ['-o', '/dev/null', '-f', '-'], input=script, timeout=900)
        ts = [float(x) for x in re.findall(r'^Time: ([\d.]+) ms', p.stdout, re.M)]
        if len(ts) != reps + 1:
            raise BenchError('psql \\timing gave %d times, not %d' % (len(ts), reps + 1))
        return statistics.median(ts[1:])		# the first one warms

    COUNTS_SQL = ("SELECT icb, role, count(*) FROM pcs.response WHERE form_id = '%s' "
                  "AND submitted <= current_date GROUP BY icb, role" % FORM)
    COVERAGE_SQL = ("SELECT i.code, i.region_code, g.staff_group, g.n FROM pcs.icb i LEFT JOIN "
                    "(SELECT icb, staff_group, count(*) AS n FROM pcs.response WHERE form_id = '%s' "
                    "AND submitted <= current_date GROUP BY icb, staff_group) g ON g.icb = i.code "
                    "WHERE i.valid_from <= DATE '%s' AND (i.valid_to IS NULL OR "
                    "i.valid_to >= DATE '%s') ORDER BY i.region_code, i.name" % (FORM, REF_DATE,
                                                                                 REF_DATE))
    # the same rows in the same order as store.c's export (privacy.md: never id order)
    COPY_SQL = ("SELECT encode(rid, 'hex'), form_version, submitted, answers FROM pcs.response "
                "WHERE form_id = '%s' ORDER BY submitted, rid" % FORM)

    def b3(self, size, label):
        raw = {'api_counts': self.psql_time(self.COUNTS_SQL, self.reps),
               'api_coverage': self.psql_time(self.COVERAGE_SQL, self.reps)}
        api = self.api_available()
        for key, what, path in (
                ('api_counts', 'counts?by=icb,role', '/api/v1/forms/%s/counts?by=icb,role' % FORM),
                ('api_coverage', 'coverage', '/api/v1/forms/%s/coverage' % FORM)):
            base = 'psql %.1f ms' % raw[key]
            if not api:
                self.row('B3', '%s, %s rows: not available yet' % (what, label), 1, base=base)
                continue
            ms, note = self.api_get(path, self.reps, 30)
            if ms is None:
                self.row('B3', '%s, %s rows: FAILED' % (what, label), 1, base=base)
                self.notes.append('B3 %s %s rows: %s' % (what, label, note))
                self.aim('B3 %s %s: the API %s' % (what, label, note), False)
                continue
            ratio = ms / raw[key]
            self.b3_api[(key, size)] = ms
            self.row('B3', '%s, %s rows' % (what, label), 1, thr=1000.0 / ms, p50=ms, base=base,
                     ratio=ratio, aim='<=1.5x raw', sql=self.sql.get(key), unit='req/s')
            self.notes.append('B3 %s %s rows: median of %d after a warm-up; %s' %
                              (what, label, self.reps, note))
            self.aim('B3 %s %s: %.2fx the raw GROUP BY (<= 1.5)' % (what, label, ratio),
                     ratio <= 1.5)
        note = 'B3/B4 API not available yet (%s): raw GROUP BY and \\copy measured, API rows ' \
            'skipped' % self.api_reason
        if not api and note not in self.notes:
            self.notes.append(note)

    def piped(self, argv):
        """Runs argv under /usr/bin/time with stdout counted by wc -c:
        (seconds, bytes, cpu seconds, peak RSS MiB)."""
        tf = os.path.join(self.logdir, 'time.out')
        wc = subprocess.Popen(['wc', '-c'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        t = time.perf_counter()
        with open(os.path.join(self.logdir, 'export-stderr.log'), 'a') as err:
            p = subprocess.Popen(['/usr/bin/time', '-o', tf, '-f', '%e %U %S %M'] + argv,
                                 stdout=wc.stdin, stdin=subprocess.DEVNULL, stderr=err)
            wc.stdin.close()
            p.wait(3600)
        secs = time.perf_counter() - t
        out = wc.stdout.read()
        wc.wait(60)
        if p.returncode != 0:
            raise BenchError('%s exited %d' % (' '.join(argv[:2]), p.returncode))
        e, u, s, m = read(tf).split()[-4:]
        return secs, int(out.strip() or 0), float(u) + float(s), int(m) / 1024.0

    def b4(self, size, label):
        rows = self.form_rows()
        groups = self.groups()
        per_k = lambda a, b, g: (a[g] - b[g]) / CLK / rows * 1e6	# ms per 1000 rows
        b = self.snap(groups)
        copy_s, copy_bytes, copy_cpu, _ = self.piped(
            ['psql', '-X', '-q', '-h', self.pgsock, '-p', str(PG_PORT), '-U', 'postgres', '-d',
             'pcsurvey', '-c', '\\copy (%s) TO STDOUT CSV HEADER' % self.COPY_SQL])
        a = self.snap(groups)
        copy_rps = rows / copy_s
        self.row('B4', '  B4 psql \\copy of the same rows, %s' % label, 1, thr=copy_rps,
                 unit='rows/s', p50=copy_s * 1000.0, sql=1,
                 cpu={'wk': 0.0, 'pg': per_k(a, b, 'pg'), 'ngx': 0.0},
                 client=copy_cpu / rows * 1e6)
        b = self.snap(groups)
        cli_s, cli_bytes, cli_cpu, cli_rss = self.piped(
            [self.bin, 'export', '--form', FORM, '--config', self.conf])
        a = self.snap(groups)
        cli_rps = rows / cli_s
        ratio = cli_rps / copy_rps
        self.b4_cli[size] = (cli_rps, cli_rss)
        self.row('B4', '`pcsurvey export` (CLI), %s rows' % label, 1, thr=cli_rps, unit='rows/s',
                 p50=cli_s * 1000.0, cpu={'wk': cli_cpu / rows * 1e6, 'pg': per_k(a, b, 'pg'),
                                          'ngx': 0.0},
                 rss=cli_rss, base='\\copy %s rows/s' % fmt_num(copy_rps), ratio=ratio,
                 aim='>=0.5; RSS flat', sql=1)
        self.notes.append('B4 %s rows: CLI %.1f s, %s MB of CSV, peak RSS %.1f MiB; \\copy %.1f s, '
                          '%s MB (answers as raw JSON)' % (label, cli_s, fmt_num(cli_bytes / 1e6),
                                                            cli_rss, copy_s,
                                                            fmt_num(copy_bytes / 1e6)))
        if size == self.sizes[-1]:
            self.aim('B4 `pcsurvey export` %s rows: %.2f of \\copy (>= 0.5)' % (label, ratio),
                     ratio >= 0.5)
        if not self.api_available():
            self.row('B4', 'responses.csv (API), %s rows: not available yet' % label, 1)
            return
        rss0 = {}
        for w in self.workers():
            try:
                with open('/proc/%d/clear_refs' % w, 'w') as f:
                    f.write('5')		# resets VmHWM to the current RSS
            except OSError:
                pass
            rss0[w] = status_kib(w, 'VmRSS')
        b = self.snap(groups)
        t = time.perf_counter()
        c = http.client.HTTPConnection(HOST, HTTP_PORT, timeout=1800)
        c.request('GET', '/api/v1/forms/%s/responses.csv' % FORM,
                  headers={'Authorization': 'Bearer ' + self.token})
        resp = c.getresponse()
        nbytes = 0
        while True:
            chunk = resp.read(1 << 20)
            if not chunk:
                break
            nbytes += len(chunk)
        c.close()
        api_s = time.perf_counter() - t
        a = self.snap(groups)
        # the serving worker: the one whose peak rose most during the export
        grow, hwm = max((status_kib(w, 'VmHWM') - rss0.get(w, 0), status_kib(w, 'VmHWM'))
                        for w in self.workers())
        hwm, grow = hwm / 1024.0, grow / 1024.0
        api_rps = rows / api_s
        ok = resp.status == 200 and nbytes >= cli_bytes * 0.9
        self.b4_api[size] = (api_rps, hwm, grow)
        self.row('B4', 'responses.csv (API), %s rows%s' % (label, '' if ok else ': FAILED'), 1,
                 thr=api_rps, unit='rows/s', p50=api_s * 1000.0,
                 cpu={g: per_k(a, b, g) for g in groups}, rss=hwm,
                 base='\\copy %s rows/s' % fmt_num(copy_rps), ratio=api_rps / copy_rps,
                 aim='>=0.5; RSS flat', sql=self.sql.get('api_csv'))
        self.notes.append('B4 %s rows: API %.1f s, %s MB, status %d, serving worker peak RSS %.1f MiB '
                          '(%+.1f MiB during the export)' % (label, api_s, fmt_num(nbytes / 1e6),
                                                            resp.status, hwm, grow))
        if size == self.sizes[-1]:
            self.aim('B4 responses.csv %s rows: %.2f of \\copy (>= 0.5)' %
                     (label, api_rps / copy_rps), ok and api_rps / copy_rps >= 0.5)

    def b3b4(self, only):
        for size in self.sizes:
            label = label_rows(size)
            self.grow(size)
            if 'B3' in only:
                log('B3 at %s rows' % label)
                self.b3(size, label)
            if 'B4' in only:
                log('B4 at %s rows' % label)
                self.b4(size, label)
        a, b = self.sizes
        for key, name in (('api_counts', 'counts'), ('api_coverage', 'coverage')):
            if (key, a) in self.b3_api and (key, b) in self.b3_api:
                g = self.b3_api[(key, b)] / self.b3_api[(key, a)]
                self.aim('B3 %s: time x%.1f for x%d rows (<= x%d)' % (name, g, b // a, b // a),
                         g <= b / a)
        if len(self.b4_cli) == 2:
            r1, r2 = self.b4_cli[a][1], self.b4_cli[b][1]
            self.aim('B4 `pcsurvey export` peak RSS %.1f MiB at %s rows, %.1f MiB at %s (flat)' %
                     (r1, label_rows(a), r2, label_rows(b)), r2 - r1 < 1.0)
        if len(self.b4_api) == 2:
            (_, h1, g1), (_, h2, g2) = self.b4_api[a], self.b4_api[b]
            self.aim('B4 responses.csv: serving worker grew %+.1f MiB during the export of %s rows, '
                     '%+.1f MiB for %s (flat)' % (g1, label_rows(a), g2, label_rows(b)),
                     g2 - g1 < 1.0)

    # ---- B5 ----------------------------------------------------------------

    def top_up_requests(self):
        """B5 wants >= 10^5 requests on the workers: tops up with question-page GETs."""
        need = 100000 - self.app_requests
        if need <= 0:
            return
        cookies = os.path.join(self.logdir, 'drafts.txt')
        if not os.path.exists(cookies):
            with open(cookies, 'w') as f:
                f.writelines(self.new_draft() + '\n' for _ in range(50))
        qpath = '/f/%s/p/%s' % (FORM, QPAGE)
        spec = dict(label='B5-topup', script='get-draft.lua', path=qpath, conns=8,
                    args=(qpath, cookies))
        while need > 0:
            secs = min(60, max(2, int(need / 3000.0) + 1))
            log('B5: %s more requests to reach 10^5 (%d s of question-page GETs)' %
                (fmt_num(need), secs))
            self.wrk(spec, secs)
            need = 100000 - self.app_requests

    def b5(self):
        mib = lambda d: statistics.mean(v[0] for v in d.values()) / 1024.0 if d else 0.0
        anon = lambda d: statistics.mean(v[1] for v in d.values()) / 1024.0 if d else 0.0
        idle = self.rss.get('idle', {})
        warm = self.rss.get('warm') or self.rss.get('after_sql') or idle
        load = self.rss.get('after_load') or self.worker_rss()
        nreq = self.rss.get('after_load_requests', self.app_requests)
        grow = max((load[p][0] - warm.get(p, load[p])[0]) for p in load) / 1024.0 if load else 0.0
        same = set(idle) == set(load)
        self.row('B5', 'RSS per worker, idle after start (anon %.1f)' % anon(idle), '-',
                 rss=mib(idle), aim='< 8 MiB')
        self.row('', '  idle after the first load (anon %.1f)' % anon(warm), '-', rss=mib(warm))
        self.row('', '  idle after %s requests (anon %.1f)' % (fmt_num(nreq), anon(load)), '-',
                 rss=mib(load), aim='unchanged')
        if self.rss.get('after_exports'):
            d = self.rss['after_exports']
            self.row('', '  idle after the B3/B4 API calls (anon %.1f)' % anon(d), '-', rss=mib(d))
        self.aim('B5 RSS per idle worker %.1f MiB after start, %.1f MiB after %s requests (< 8)' %
                 (mib(idle), mib(load), fmt_num(nreq)), max(mib(idle), mib(load)) < 8)
        self.aim('B5 after %s requests: max growth of a worker %+.2f MiB since the first load, '
                 'same pids: %s (unchanged)' % (fmt_num(nreq), grow, 'yes' if same else 'NO'),
                 nreq >= 100000 and grow < 0.5 and same)
        if not same:
            self.notes.append('B5: worker pids changed during the run (a worker died?): see '
                              'var/bench/log/pcsurvey.log')

    # ---- report --------------------------------------------------------------

    def table(self):
        hdr = ('#', 'workload', 'c', 'throughput', 'p50 ms', 'p99 ms', 'CPU ms/req wk+pg+ngx',
               'client', 'RSS/wk', 'SQL/req', 'baseline', 'ratio', 'aim')
        lines = []
        for r in self.rows:
            cpu = r['cpu']
            lines.append((
                r['bench'], r['what'] + ('' if not r['err'] else ' (%d ERRORS)' % r['err']),
                str(r['c']),
                '-' if r['thr'] is None else '%s %s' % (
                    fmt_num(r['thr'], 0 if r['thr'] >= 100 else 1), r['unit']),
                '-' if r['p50'] is None else '%.2f' % r['p50'],
                '-' if r['p99'] is None else '%.2f' % r['p99'],
                '-' if not cpu else '%.3f+%.3f+%.3f' % (cpu['wk'], cpu['pg'], cpu['ngx']),
                '-' if r['client'] is None else '%.3f' % r['client'],
                '-' if r['rss'] is None else '%.1f' % r['rss'],
                '-' if r['sql'] is None else ('%d' % r['sql'] if float(r['sql']).is_integer()
                                              else '%.2f' % r['sql']),
                r['base'] or '', '' if r['ratio'] is None else '%.2f' % r['ratio'], r['aim']))
        w = [max(len(hdr[i]), max((len(l[i]) for l in lines), default=0)) for i in range(len(hdr))]
        right = {2, 3, 4, 5, 6, 7, 8, 9, 11}

        def fmt(l):
            return '  '.join(l[i].rjust(w[i]) if i in right else l[i].ljust(w[i])
                             for i in range(len(hdr))).rstrip()
        out = [fmt(hdr), fmt(tuple('-' * x for x in w))]
        for i, l in enumerate(lines):
            if l[0] and i and (l[0] != lines[i - 1][0] or l[0] in ('B1', 'B2')):
                out.append('')
            out.append(fmt(l))
        return out

    def report(self, started):
        mode = 'quick' if self.quick else 'full'
        cpuinfo = read('/proc/cpuinfo')
        model = cpuinfo.split('model name')[1].split(':')[1].split('\n')[0].strip() \
            if 'model name' in cpuinfo else '?'
        head = [
            'pcsurvey `make bench` (perf.md), %s UTC, %s mode: wrk -t2 on loopback (B2: -tN -cN), '
            '%d x %d s per point, slices taken in turn with the baselines' % (
                datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M'), mode, self.slices,
                self.slice),
            'host: %d CPUs (%s); bin/pcsurvey (-O2) with %d workers; nginx 2 workers; PostgreSQL 15 '
            'synchronous_commit=%s shared_buffers=%s' % (
                os.cpu_count(), model, self.nworkers, self.psql('SHOW synchronous_commit'),
                self.psql('SHOW shared_buffers')),
            'load average (other work on this shared host) at start %s, at end %s: absolute '
            'figures are noisy, compare the ratios' % (
                self.load0, ' '.join(read('/proc/loadavg').split()[:3])),
            'CPU: CPU-seconds per request in ms from /proc (utime+stime, reaped children included) '
            'of the workers (wk; okapp for B1b/B1c; the CLI itself for B4), postgres (pg), nginx '
            '(ngx); client = wrk/pgbench/psql. B2 respondent rows: per respondent. B4: per 1000 rows.',
            'RSS/wk: mean VmRSS of the workers in MiB (B4: peak RSS of the export process or the '
            'serving worker). SQL/req: statements logged (log_statement=all) for one request of each '
            'kind. p50/p99: median over the slices.',
            '']
        tail = ['']
        if self.sql_labels:
            tail.append('SQL statements per request: ' + ', '.join(
                '%s %d' % (label, self.sql[k]) for k, label in self.sql_labels))
        tail += self.notes
        tail += ['', 'aims (perf.md):']
        tail += ['  [%s] %s' % ('met' if ok else 'NOT met', text) for text, ok in self.aims]
        tail += ['', 'total %.0f s (synthetic data generation %.0f s); raw wrk/pgbench output in %s'
                 % (time.time() - started, self.gen_secs, self.logdir)]
        text = '\n'.join(head + self.table() + tail) + '\n'
        sys.stdout.write('\n' + text)
        latest = os.path.join(self.var, 'latest.txt')
        with open(latest, 'w') as f:
            f.write(text)
        hist = os.path.join(self.var, 'history')
        os.makedirs(hist, exist_ok=True)
        shutil.copy(latest, os.path.join(hist, '%s-%s.txt' % (
            datetime.datetime.utcnow().strftime('%Y%m%dT%H%M%SZ'), mode)))
        log('table written to var/bench/latest.txt')

    # ---- all ---------------------------------------------------------------

    def main(self):
        started = time.time()
        self.load0 = ' '.join(read('/proc/loadavg').split()[:3])
        only = set((self.o.only or 'B1,B2,B3,B4,B5').upper().split(','))
        try:
            self.setup()
            time.sleep(0.5)
            self.rss['idle'] = self.worker_rss()
            self.count_sql()
            self.rss['after_sql'] = self.worker_rss()
            if 'B1' in only:
                self.b1()
            if 'B2' in only:
                self.b2()
            if 'B5' in only:
                self.top_up_requests()
            self.rss['after_load'] = self.worker_rss()
            self.rss['after_load_requests'] = self.app_requests
            if 'B3' in only or 'B4' in only:
                self.b3b4(only)
                self.rss['after_exports'] = self.worker_rss()
            self.b5()
            self.report(started)
        finally:
            self.teardown()


def main():
    ap = argparse.ArgumentParser(description='pcsurvey benchmarks (perf.md)')
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--slices', type=int)
    ap.add_argument('--slice', type=int)
    ap.add_argument('--only')
    ap.add_argument('--keep', action='store_true')
    ap.add_argument('--no-setup', action='store_true')
    opts = ap.parse_args()
    if os.geteuid() != 0:
        print('bench: run as root (deploy/dev-stack.sh starts PostgreSQL and nginx)', file=sys.stderr)
        return 1
    for tool in ('wrk', 'pgbench', 'psql', 'nginx', 'cc', '/usr/bin/time'):
        if shutil.which(tool) is None:
            print('bench: %s is missing (deploy/install-deps.sh installs wrk; time: apt-get install '
                  'time)' % tool, file=sys.stderr)
            return 1
    try:
        Bench(opts).main()
    except (BenchError, subprocess.TimeoutExpired, OSError) as e:
        print('bench: error: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
