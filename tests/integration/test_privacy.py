"""privacy.md, proved against the real system (issue 5).

Each test names the promise it proves, quoting privacy.md, and proves it
against what is really kept: the PostgreSQL database (SQL and a full
pg_dump), the cluster's files on disk (heap and WAL), every log file of the
instance (pcsurvey, nginx access and error, PostgreSQL), the key files and
the running processes.  Nothing here trusts the server's own account of what
it does: keyed hashes are recomputed with Python's hashlib, and sealed boxes
and drafts are opened with libsodium called directly (ctypes), so a data
protection officer can read each test as evidence.

The respondent data comes from one "corpus" (built once, on first use):
a response to every study form and to the test forms of tests/forms/
(test-privacy-*.json), each with a unique marker string in every sealed and
pseudonym field, sent with identifying headers (User-Agent, Referer,
X-Forwarded-For), a query string and a cookie that must never be kept; plus
the invitation, resume and receipt codes and draft cookies it used.
"""

import base64
import csv
import ctypes
import ctypes.util
import datetime
import hashlib
import io
import json
import os
import re
import resource
import shutil
import signal
import stat
import struct
import subprocess
import tempfile
import time

import lib
from lib import Client, Skip, csrf

SAN = os.path.join(lib.ROOT, "build", "san", "pcsurvey")
OPT = os.path.join(lib.ROOT, "bin", "pcsurvey")
CONF = os.path.join(lib.VAR, "pcsurvey.conf")
KEYS = lib._conf_value("keys_dir", os.path.join(lib.VAR, "keys"))
SECRET = os.path.join(lib.VAR, "custodian", "research.sec")
FORMS_DIR = lib._conf_value("forms_dir", os.path.join(lib.VAR, "forms"))

OPP = "test-privacy-opp"            # one_per_person, e-mail pseudonym
WEEK = "test-privacy-week"          # timestamp: week, text pseudonym
MONTH = "test-privacy-month"        # timestamp: month
RETAIN = "test-privacy-retention"   # retention_days: 30

DUPLICATE_MSG = "A response has already been recorded for this"


# ------------------------------------------------------------------ helpers

def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def pcs(*args, binary=SAN, env=None, timeout=120, **kw):
    """Runs a pcsurvey subcommand; CompletedProcess with text output."""
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([binary] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=e, **kw)


def fail_text(p):
    return "exit %d, stderr: %s" % (p.returncode, (p.stderr or "").strip()[:400])


def why(r):
    return "%d %s" % (r.status, lib.text_of(r.text)[:200])


def instance_files(root):
    """Every regular file under root (symlinks not followed)."""
    for d, dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p):
                yield p


# ------------------------------------------------------------------ independent crypto

# crypto.c subkey ids (privacy.md: one crypto_kdf subkey per purpose).
PURPOSE = {"pseudonym": 1, "invite": 2, "resume": 3, "receipt": 4,
           "api_token": 5, "session": 6, "csrf": 7}
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DRAFT_DOMAIN = b"pcsurvey draft key v1\0"


def master_key(keys=None):
    with open(os.path.join(keys or KEYS, "pseudonym.key"), "rb") as f:
        k = f.read()
    assert len(k) == 32, "pseudonym.key is %d bytes" % len(k)
    return k


def subkey(purpose, master=None):
    """crypto_kdf_derive_from_key(32, id, "pcsurvey", master), as libsodium
    1.0.18 defines it: BLAKE2b-256 keyed with the master key, salt = the id
    (little-endian, zero-padded), personal = the context (zero-padded)."""
    return hashlib.blake2b(b"", digest_size=32, key=master or master_key(),
                           salt=struct.pack("<Q", PURPOSE[purpose]) + b"\0" * 8,
                           person=b"pcsurvey" + b"\0" * 8).digest()


def keyed_hash(purpose, msg, context=None, master=None):
    """BLAKE2b-256 under the purpose's subkey; a context (the form id for
    pseudonyms) goes first, followed by one 0x00."""
    if isinstance(msg, str):
        msg = msg.encode()
    pre = b"" if context is None else context.encode() + b"\0"
    return hashlib.blake2b(pre + msg, digest_size=32, key=subkey(purpose, master)).digest()


def canon(code):
    """crypto_code_normalise(): spaces and hyphens dropped, upper case,
    O -> 0, I and L -> 1."""
    out = ""
    for ch in code:
        if ch in " -\t":
            continue
        ch = ch.upper()
        ch = {"O": "0", "I": "1", "L": "1"}.get(ch, ch)
        assert ch in CROCKFORD, "not a code: %r" % code
        out += ch
    assert len(out) == 16, "not a code: %r" % code
    return out


def code_text(raw10):
    """Crockford base32 of 10 bytes, grouped XXXX-XXXX-XXXX-XXXX."""
    n = int.from_bytes(raw10, "big")
    chars = "".join(CROCKFORD[(n >> (5 * (15 - i))) & 31] for i in range(16))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


def normalise(answer, email):
    """privacy.md: trim, ASCII lower case, collapse inner whitespace (an
    e-mail address: lower-cased whole)."""
    b = answer.encode().strip(b" \t\n\r\v\f")
    if not email:
        b = re.sub(rb"[ \t\n\r\v\f]+", b" ", b)
    return b.lower()        # bytes.lower() changes ASCII letters only


def pseudonym_hex(form, answer, email):
    return keyed_hash("pseudonym", normalise(answer, email), context=form).hex()


_sodium = None


def sodium():
    """libsodium itself, called through ctypes (not through pcsurvey)."""
    global _sodium
    if _sodium is None:
        name = ctypes.util.find_library("sodium") or "libsodium.so.23"
        s = ctypes.CDLL(name)
        assert s.sodium_init() >= 0, "sodium_init failed"
        _sodium = s
    return _sodium


def seal_open(box, pub, sec):
    """crypto_box_seal_open(); None if it does not open."""
    if len(box) < 48:
        return None
    out = ctypes.create_string_buffer(len(box) - 48 or 1)
    rc = sodium().crypto_box_seal_open(out, box, ctypes.c_ulonglong(len(box)), pub, sec)
    return out.raw[:len(box) - 48] if rc == 0 else None


def pub_from_sec(sec):
    out = ctypes.create_string_buffer(32)
    assert sodium().crypto_scalarmult_base(out, sec) == 0
    return out.raw


def draft_key(token):
    """The draft key: BLAKE2b-256("pcsurvey draft key v1" 0x00 token)."""
    return hashlib.blake2b(DRAFT_DOMAIN + token.encode(), digest_size=32).digest()


def draft_open(box, key):
    """crypto_secretbox_open_easy() of nonce(24) || MAC+ciphertext; None if
    it does not open."""
    if len(box) < 40:
        return None
    n = len(box) - 40
    out = ctypes.create_string_buffer(n or 1)
    rc = sodium().crypto_secretbox_open_easy(out, box[24:], ctypes.c_ulonglong(len(box) - 24),
                                             box[:24], key)
    return out.raw[:n] if rc == 0 else None


def draft_seal(plain, key):
    nonce = os.urandom(24)
    out = ctypes.create_string_buffer(len(plain) + 16)
    assert sodium().crypto_secretbox_easy(out, plain, ctypes.c_ulonglong(len(plain)), nonce, key) == 0
    return nonce + out.raw


def form_json(form):
    with open(os.path.join(FORMS_DIR, form + ".json"), encoding="utf-8") as f:
        return json.load(f)


def research_keys():
    with open(SECRET, "rb") as f:
        sec = f.read()
    with open(os.path.join(KEYS, "research.pub"), "rb") as f:
        pub = f.read()
    return pub, sec


# ------------------------------------------------------------------ the respondent

UA_MARK = lib.unique("useragent")
REF_MARK = lib.unique("referrer")
QUERY_MARK = lib.unique("querystring")
COOKIE_MARK = lib.unique("cookiejar")
XFF = "203.0.113.%d" % (os.getpid() % 200 + 20)     # RFC 5737 documentation address


class Respondent(Client):
    """A browser that says who it is in every way a server could keep."""

    def request(self, method, path, body=None, headers=None, **kw):
        h = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) " + UA_MARK,
             "Referer": "https://%s.example/page?from=%s" % (REF_MARK, REF_MARK),
             "X-Forwarded-For": XFF, "X-Real-IP": XFF, "Forwarded": "for=" + XFF}
        h.update(headers or {})
        return super().request(method, path, body=body, headers=h, **kw)


class Corpus:
    def __init__(self):
        self.responses = []     # dicts: form, receipt, token, sealed {col: text}, pseudo {col: (typed, email)}
        self.invites = []       # invitation codes as printed
        self.resume = []        # (form, resume code as shown, token of the draft)
        self.csrf = set()
        self.markers = []       # every marker typed

    def mark(self, what):
        m = lib.unique(what)
        self.markers.append(m)
        return m


def start(c, form, code=None, corpus=None):
    g = c.get("/f/" + form)
    assert g.status == 200, "GET /f/%s: %s" % (form, why(g))
    body = {"csrf": csrf(g.text)}
    if corpus is not None:
        corpus.csrf.add(body["csrf"])
    if code is not None:
        body["code"] = code
    r = c.post("/f/%s/start" % form, body)
    assert r.status == 303 and r.location.startswith("/f/%s/p/" % form), \
        "POST /f/%s/start: %s -> %r" % (form, why(r), r.location)
    return r


def fill(c, form, page, fields, save=False, corpus=None, expect=303):
    """GET a page for its csrf, POST fields (with action=save if asked)."""
    path = "/f/%s/p/%s" % (form, page)
    g = c.get(path)
    assert g.status == 200, "GET %s: %s" % (path, why(g))
    tok = csrf(g.text)
    assert tok, "no csrf on %s" % path
    if corpus is not None:
        corpus.csrf.add(tok)
    body = [("csrf", tok)] + list(fields.items() if isinstance(fields, dict) else fields)
    if save:
        body.append(("action", "save"))
    r = c.post(path, body)
    if expect is not None:
        assert r.status == expect, "POST %s: %s" % (path, why(r))
    return r


def submit(c, form, corpus=None):
    """check, submit, done; returns the receipt code shown."""
    chk = c.get("/f/%s/check" % form)
    assert chk.status == 200, "GET check of %s: %s" % (form, why(chk))
    tok = csrf(chk.text)
    if corpus is not None:
        corpus.csrf.add(tok)
    r = c.post("/f/%s/submit" % form, {"csrf": tok})
    assert r.status == 303 and r.location == "/f/%s/done" % form, \
        "submit of %s: %s -> %r" % (form, why(r), r.location)
    done = c.get("/f/%s/done" % form)
    assert done.status == 200, "done of %s: %s" % (form, why(done))
    m = re.search(r'id="receipt-code"[^>]*>\s*([0-9A-Z-]{19})\s*<', done.text)
    assert m, "no receipt code on the done page of %s" % form
    return m.group(1), done


def draft_token(c):
    ck = c.cookie("pcs_draft")
    assert ck is not None and ck.value, "no pcs_draft cookie"
    return ck.value


def walk(corpus, form, pages, code=None, client=None):
    """One response: start (with an invitation code if given), each page in
    order, submit.  pages: [(page id, fields, sealed {col: stored text},
    pseudo {col: (typed, is_email)})].  Returns the response record."""
    c = client or Respondent()
    start(c, form, code=code, corpus=corpus)
    rec = {"form": form, "sealed": {}, "pseudo": {}}
    for page, fields, sealed, pseudo in pages:
        fill(c, form, page, fields, corpus=corpus)
        rec["sealed"].update(sealed)
        rec["pseudo"].update(pseudo)
    rec["token"] = draft_token(c)
    rec["receipt"], rec["done_page"] = submit(c, form, corpus=corpus)
    corpus.responses.append(rec)
    return rec


def build_corpus():
    cp = Corpus()
    M = cp.mark

    # A query string and a cookie that must not be kept anywhere.
    q = Respondent()
    assert q.get("/f/patient-voice?email=%s&utm_source=%s" % (QUERY_MARK, QUERY_MARK)).status == 200
    assert q.get("/", headers={"Cookie": "tracking=%s" % COOKIE_MARK}).status == 200

    # staff-wellbeing: every sealed field, saved half-way and resumed on
    # "another device" with the resume code.
    sw = "staff-wellbeing"
    role_o, set_o, arrs, helped, icb_l1, mail = (M("roleother"), M("settingother"), M("arrssupport"),
                                                  M("helpedmost"), M("icbshould"), M("contactmail"))
    c1 = Respondent()
    start(c1, sw, corpus=cp)
    fill(c1, sw, "before-you-start", {"consent": "yes"}, corpus=cp)
    fill(c1, sw, "about-your-work", {"role": "other", "role__other": "Role " + role_o, "icb": "QE1",
                                     "work_setting": "other", "work_setting__other": "Setting " + set_o,
                                     "arrs_funded": "yes", "hours_per_week": "37"}, corpus=cp)
    fill(c1, sw, "support", {}, corpus=cp)
    saved = fill(c1, sw, "how-work-feels", {"leave_intention": "no"}, save=True, corpus=cp, expect=200)
    m = re.search(r'id="resume-code"[^>]*>\s*([0-9A-Z-]{19})\s*<', saved.text)
    assert m, "no resume code after Save and come back later: %s" % why(saved)
    resume_code = m.group(1)
    cp.resume.append((sw, resume_code, draft_token(c1)))
    c2 = Respondent()
    g = c2.get("/f/%s/resume" % sw)
    assert g.status == 200, "GET resume: %s" % why(g)
    r = c2.post("/f/%s/resume" % sw, {"csrf": csrf(g.text), "code": resume_code.lower()})
    assert r.status == 303, "POST resume: %s" % why(r)
    assert draft_token(c2) == canon(resume_code), "the resumed draft's cookie is not the resume code"
    fill(c2, sw, "how-work-feels", {"leave_intention": "no"}, corpus=cp)
    fill(c2, sw, "arrs-role", {"arrs_support": "ARRS " + arrs}, corpus=cp)
    fill(c2, sw, "your-ideas", {"helped_most": "Peer support " + helped,
                                "icb_should_provide": "More time\r\nand a hub " + icb_l1,
                                "interview": "yes", "contact_email": mail + "@example.org"}, corpus=cp)
    rec = {"form": sw, "token": draft_token(c2), "pseudo": {},
           "sealed": {"role__other": "Role " + role_o, "work_setting__other": "Setting " + set_o,
                      "arrs_support": "ARRS " + arrs, "helped_most": "Peer support " + helped,
                      "icb_should_provide": "More time\nand a hub " + icb_l1,
                      "contact_email": mail + "@example.org"}}
    rec["receipt"], rec["done_page"] = submit(c2, sw, corpus=cp)
    cp.responses.append(rec)

    # organisation-provision
    ot, on, gaps, good, om = M("orgtypeother"), M("orgname"), M("gaps"), M("goodpractice"), M("orgmail")
    walk(cp, "organisation-provision", [
        ("about-your-organisation", {"org_type": "other", "org_type__other": "Type " + ot,
                                     "org_name": "Org " + on, "scope": "one_icb"},
         {"org_type__other": "Type " + ot, "org_name": "Org " + on}, {}),
        ("area", {"icb": "QE1"}, {}, {}),
        ("what-you-offer", {}, {}, {}),
        ("what-works", {"gaps": "Gaps " + gaps, "good_practice": "Good " + good},
         {"gaps": "Gaps " + gaps, "good_practice": "Good " + good}, {}),
        ("contact", {"contact_email": om + "@example.net"}, {"contact_email": om + "@example.net"}, {}),
    ])

    # patient-voice
    idea = M("patientidea")
    walk(cp, "patient-voice", [
        ("before-you-start", {"consent": "yes"}, {}, {}),
        ("about-you", {}, {}, {}),
        ("your-views", {}, {}, {}),
        ("your-ideas", {"ideas": "Idea " + idea}, {"ideas": "Idea " + idea}, {}),
    ])

    # icb-provision (access: invite): one code typed on the start page (in
    # lower case, spaced), one used as an invitation link /i/{code}.
    p = pcs("invite", "create", "--form", "icb-provision", "--count", "2", "--config", CONF)
    assert p.returncode == 0, "invite create: " + fail_text(p)
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert len(rows) == 2 and rows[0]["code"], "invite create printed %r" % p.stdout
    cp.invites = [row["code"] for row in rows]
    for i, code in enumerate(cp.invites):
        det, job, docs = M("arrsoffer"), M("jobtitle"), M("documents")
        pages = [
            ("your-icb", {"icb": "QE1"}, {}, {}),
            ("strategy", {}, {}, {}),
            ("commissioned", {"arrs_offer": "yes", "arrs_offer_detail": "Offer " + det},
             {"arrs_offer_detail": "Offer " + det}, {}),
            ("spend-and-monitoring", {}, {}, {}),
            ("about-this-return", {"lead_job_title": "Lead " + job, "documents": "Docs " + docs},
             {"lead_job_title": "Lead " + job, "documents": "Docs " + docs}, {}),
        ]
        if i == 0:
            walk(cp, "icb-provision", pages, code=code.lower().replace("-", " "))
        else:
            c = Respondent()
            r = c.get("/i/" + code)
            assert r.status == 303 and "/i/" not in (r.location or ""), "GET /i/{code}: %s" % why(r)
            rec = {"form": "icb-provision", "sealed": {}, "pseudo": {}}
            for page, fields, sealed, _ in pages:
                fill(c, "icb-provision", page, fields, corpus=cp)
                rec["sealed"].update(sealed)
            rec["token"] = draft_token(c)
            rec["receipt"], rec["done_page"] = submit(c, "icb-provision", corpus=cp)
            cp.responses.append(rec)

    # one_per_person with an e-mail pseudonym
    who, comment, team = M("oppmail"), M("oppcomment"), M("oppteam")
    typed = "Pn.%s@Example.ORG" % who
    walk(cp, OPP, [
        ("who", {"work_email": typed, "role": "gp_partner"}, {}, {"work_email": (typed, True)}),
        ("views", {"comment": "Comment " + comment, "team": "Team " + team},
         {"comment": "Comment " + comment, "team": "Team " + team}, {}),
    ])

    # week precision, a text pseudonym (inner spaces collapse)
    staff, wnote = M("staffno"), M("weeknote")
    typed = "  Staff   No %s " % staff
    walk(cp, WEEK, [("only", {"staff_no": typed, "note": "Week " + wnote, "happy": "yes"},
                     {"note": "Week " + wnote}, {"staff_no": (typed, False)})])

    # month precision
    mnote = M("monthnote")
    walk(cp, MONTH, [("only", {"note": "Month " + mnote, "happy": "no"}, {"note": "Month " + mnote}, {})])

    # day precision (the default)
    walk(cp, RETAIN, [("only", {"happy": "yes"}, {}, {})])

    # The rows, found by the keyed hash of each receipt code (recomputed here).
    for rec in cp.responses:
        h = keyed_hash("receipt", canon(rec["receipt"])).hex()
        rows = lib.sql("SELECT encode(rid, 'hex'), id::text, submitted::text, form_id, "
                       "coalesce(encode(pseudonym, 'hex'), '') "
                       "FROM pcs.response WHERE receipt_hash = '\\x%s'" % h)
        assert len(rows) == 1, "receipt of a %s response matches %d rows" % (rec["form"], len(rows))
        rec["rid"], rec["id"], rec["submitted"], form_id, rec["pseudonym_col"] = rows[0]
        assert form_id == rec["form"]
        rec["receipt_hash"] = h
    return cp


_corpus = None


def corpus():
    global _corpus
    if _corpus is None:
        _corpus = build_corpus()
    return _corpus


def code_spellings(code, hexed=False):
    """A code as shown, canonical and lower case (and, for text such as a
    pg_dump, which shows bytea as hex, hex-encoded)."""
    c = canon(code)
    out = {code, code.lower(), c, c.lower()}
    if hexed:
        out |= {x.encode().hex() for x in list(out)}
    return out


def secret_needles(cp, hexed=False):
    """Everything that must appear nowhere: markers (as typed and upper
    case), codes, cookies, csrf tokens, identifying headers; hexed: also
    their hex encodings (how bytea looks in a dump)."""
    n = set()
    for m in cp.markers:
        n |= {m, m.upper()}
    for code in cp.invites:
        n |= code_spellings(code)
    for _, code, token in cp.resume:
        n |= code_spellings(code) | {token}
    for rec in cp.responses:
        n |= code_spellings(rec["receipt"]) | {rec["token"]}
    n |= cp.csrf
    n |= {UA_MARK, REF_MARK, QUERY_MARK, COOKIE_MARK, XFF}
    if hexed:
        n |= {x.encode().hex() for x in list(n)}
    return n


def find_needles(text, needles):
    return sorted(x for x in needles if x in text)


def scan_files(paths, needles):
    """{path: [needles found]} over the raw bytes of each file."""
    bneedles = [(x, x.encode()) for x in needles]
    found = {}
    for p in paths:
        try:
            with open(p, "rb") as f:
                data = f.read()
        except OSError:
            continue
        hits = [x for x, b in bneedles if b in data]
        if hits:
            found[p] = sorted(hits)
    return found


def log_files():
    d = os.path.join(lib.VAR, "log")
    return [os.path.join(d, f) for f in sorted(os.listdir(d))
            if os.path.isfile(os.path.join(d, f))]


# ------------------------------------------------------------------ keys

def test_keygen_writes_modes_and_refuses_to_overwrite():
    """privacy.md Keys: keygen writes pseudonym.key (32 random bytes, 0600),
    research.pub and research.sec (0600), whatever the umask; cli.md: it
    refuses to overwrite, writing nothing."""
    tmp = tempfile.mkdtemp(prefix="pcs-priv-")
    try:
        out = os.path.join(tmp, "keys")
        p = pcs("keygen", "--out", out, preexec_fn=lambda: os.umask(0))
        assert p.returncode == 0, "keygen: " + fail_text(p)
        assert stat.S_IMODE(os.stat(out).st_mode) == 0o700, "key directory mode %o" % os.stat(out).st_mode
        want = {"pseudonym.key": 0o600, "research.pub": 0o644, "research.sec": 0o600}
        before = {}
        for name, mode in want.items():
            st = os.stat(os.path.join(out, name))
            assert st.st_size == 32, "%s is %d bytes" % (name, st.st_size)
            assert stat.S_IMODE(st.st_mode) == mode, "%s mode %o, want %o" % (name, st.st_mode, mode)
            with open(os.path.join(out, name), "rb") as f:
                before[name] = (f.read(), st.st_mtime_ns)
        assert pub_from_sec(before["research.sec"][0]) == before["research.pub"][0], \
            "research.pub is not the public half of research.sec"
        assert len(set(v[0] for v in before.values())) == 3, "two key files are the same"
        assert "research.sec" in p.stdout and "custodian" in p.stdout, "keygen does not say where research.sec goes"

        p = pcs("keygen", "--out", out)
        assert p.returncode == 1, "second keygen into the same directory: " + fail_text(p)
        assert "already exists" in p.stderr and out in p.stderr, "refusal message: %r" % p.stderr
        for name in want:
            with open(os.path.join(out, name), "rb") as f:
                assert f.read() == before[name][0], "%s was overwritten" % name
            assert os.stat(os.path.join(out, name)).st_mtime_ns == before[name][1], "%s was touched" % name

        # Only research.sec left behind: still refused, nothing written.
        os.unlink(os.path.join(out, "pseudonym.key"))
        os.unlink(os.path.join(out, "research.pub"))
        p = pcs("keygen", "--out", out)
        assert p.returncode == 1, "keygen beside an old research.sec: " + fail_text(p)
        assert sorted(os.listdir(out)) == ["research.sec"], "keygen wrote %r" % os.listdir(out)
    finally:
        shutil.rmtree(tmp)


def test_instance_keys_dir_holds_no_research_secret():
    """privacy.md Keys: the server's key directory holds pseudonym.key (0600)
    and research.pub, never research.sec (kept by the data custodian)."""
    names = sorted(os.listdir(KEYS))
    assert "research.sec" not in names, "research.sec is in the server's keys_dir %s" % KEYS
    assert {"pseudonym.key", "research.pub"} <= set(names), "keys_dir holds %r" % names
    mode = stat.S_IMODE(os.stat(os.path.join(KEYS, "pseudonym.key")).st_mode)
    assert mode & 0o077 == 0, "pseudonym.key mode %o" % mode
    assert os.path.exists(SECRET), "no custodian copy of research.sec at %s" % SECRET


class TempServer:
    """`pcsurvey serve` on its own socket and key directory, against the
    test database (workers connect only when a request comes)."""

    def __init__(self, keys, binary=SAN, workers=2, env=None, cwd=None, wrap=(), core_unlimited=False):
        self.tmp = tempfile.mkdtemp(prefix="pcs-priv-")
        self.sock = os.path.join(self.tmp, "s.sock")
        self.conf = os.path.join(self.tmp, "pcsurvey.conf")
        with open(self.conf, "w") as f:
            f.write("database = %s\nforms_dir = %s\nkeys_dir = %s\nsocket = %s\nworkers = %d\n"
                    % (lib.DBCONN, FORMS_DIR, keys, self.sock, workers))
        e = dict(os.environ)
        e.update(env or {})

        def pre():
            os.setsid()
            if core_unlimited:
                resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        self.p = subprocess.Popen(list(wrap) + [binary, "serve", "--config", self.conf],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=e, cwd=cwd or self.tmp, preexec_fn=pre)
        self.out = self.err = ""

    def wait_up_or_exit(self, timeout=20):
        """True when the socket appeared; False when the process exited."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.p.poll() is not None:
                self.out, self.err = self.p.communicate()
                return False
            if os.path.exists(self.sock) and self.workers():
                return True
            time.sleep(0.05)
        raise AssertionError("serve neither started nor exited within %d s" % timeout)

    def workers(self):
        try:
            with open("/proc/%d/task/%d/children" % (self.p.pid, self.p.pid)) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def stop(self):
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGTERM)
            try:
                self.out, self.err = self.p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.out, self.err = self.p.communicate()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return self.p.returncode


def server_keys(tmp, name="keys"):
    """A key set laid out as on a server: research.sec moved out.  The keys
    are the test instance's own (copied over keygen's files, modes kept):
    the database is bound to them (0003_key_binding.sql, T-37), so a server
    on fresh keys would refuse to start against it."""
    d = os.path.join(tmp, name)
    p = pcs("keygen", "--out", d)
    assert p.returncode == 0, "keygen: " + fail_text(p)
    os.rename(os.path.join(d, "research.sec"), os.path.join(tmp, name + ".sec"))
    for f in ("pseudonym.key", "research.pub"):
        with open(os.path.join(lib.VAR, "keys", f), "rb") as src, open(os.path.join(d, f), "r+b") as dst:
            dst.write(src.read())
    return d


def expect_refusal(keys, file_named, fix_words):
    """serve exits 1 before listening, its message names the file and the
    fix, and shows no byte of any key (T-37)."""
    contents = []
    for f in os.listdir(keys) if os.path.isdir(keys) else []:
        p = os.path.join(keys, f)
        if os.path.isfile(p):
            with open(p, "rb") as fh:
                contents.append(fh.read())
    s = TempServer(keys)
    try:
        started = s.wait_up_or_exit()
        assert not started, "serve started with %s" % file_named
        assert s.p.returncode == 1, "serve exit %d, want 1: %s" % (s.p.returncode, s.err)
        assert not os.path.exists(s.sock), "serve listened before refusing"
        err = s.err
        assert file_named in err, "message does not name %s: %r" % (file_named, err)
        for w in fix_words:
            assert w in err, "message lacks the fix %r: %r" % (w, err)
        assert "serve_start" not in err and "worker_start" not in err, "workers started: %r" % err
        for k in contents:
            if len(k) >= 8:
                for enc in (k.hex(), base64.b64encode(k).decode(), k.hex().upper()):
                    assert enc[:16] not in err, "the message shows key bytes"
        return err
    finally:
        s.stop()


def test_serve_refuses_research_sec_in_keys_dir():
    """privacy.md Keys: the server refuses to start if research.sec is in its
    key directory, saying which file and what to do."""
    tmp = tempfile.mkdtemp(prefix="pcs-priv-")
    try:
        keys = server_keys(tmp)
        shutil.copy(os.path.join(tmp, "keys.sec"), os.path.join(keys, "research.sec"))
        expect_refusal(keys, os.path.join(keys, "research.sec"), ["data custodian", "delete it from the server"])
        # Even a dangling symlink named research.sec is refused.
        os.unlink(os.path.join(keys, "research.sec"))
        os.symlink("/nonexistent/research.sec", os.path.join(keys, "research.sec"))
        expect_refusal(keys, "research.sec", ["data custodian"])
    finally:
        shutil.rmtree(tmp)


def test_serve_refuses_group_or_world_readable_pseudonym_key():
    """privacy.md Keys: refuses if pseudonym.key is readable by anyone but its
    owner (research.pub may be world-readable)."""
    tmp = tempfile.mkdtemp(prefix="pcs-priv-")
    try:
        keys = server_keys(tmp)
        pk = os.path.join(keys, "pseudonym.key")
        for mode in (0o640, 0o604, 0o660, 0o602):
            os.chmod(pk, mode)
            expect_refusal(keys, pk, ["chmod 600 " + pk])
        # Through a symlink to a loose copy: the file itself is judged.
        loose = os.path.join(tmp, "loose.key")
        shutil.copy(pk, loose)
        os.chmod(loose, 0o644)
        os.unlink(pk)
        os.symlink(loose, pk)
        expect_refusal(keys, pk, ["chmod 600"])
    finally:
        shutil.rmtree(tmp)


def test_serve_refuses_wrong_length_key():
    """T-37: a key file of the wrong length stops the server (no fallback)."""
    tmp = tempfile.mkdtemp(prefix="pcs-priv-")
    try:
        keys = server_keys(tmp)
        pk = os.path.join(keys, "pseudonym.key")
        good = open(pk, "rb").read()
        for data in (good[:31], good + b"\n", b""):
            with open(pk, "wb") as f:
                f.write(data)
            os.chmod(pk, 0o600)
            expect_refusal(keys, pk, ["%d bytes, not 32" % len(data), "restore"])
        with open(pk, "wb") as f:
            f.write(good)
        pub = os.path.join(keys, "research.pub")
        with open(pub, "ab") as f:
            f.write(b"x")
        expect_refusal(keys, pub, ["33 bytes, not 32"])
    finally:
        shutil.rmtree(tmp)


def test_serve_refuses_missing_key():
    """T-37: a missing key file (or key directory) stops the server, with
    the file named and `pcsurvey keygen` as the fix."""
    tmp = tempfile.mkdtemp(prefix="pcs-priv-")
    try:
        keys = server_keys(tmp)
        pk = os.path.join(keys, "pseudonym.key")
        os.rename(pk, pk + ".away")
        expect_refusal(keys, pk, ["pcsurvey keygen"])
        os.rename(pk + ".away", pk)
        pub = os.path.join(keys, "research.pub")
        os.unlink(pub)
        expect_refusal(keys, pub, ["pcsurvey keygen"])
        expect_refusal(os.path.join(tmp, "no-such-dir"), "research.pub", ["pcsurvey keygen"])
        keys = server_keys(tmp, "keys2")
        pk = os.path.join(keys, "pseudonym.key")
        os.mkdir(pk + ".d")
        os.unlink(pk)
        os.rename(pk + ".d", pk)            # a directory where the key should be
        expect_refusal(keys, pk, ["not a regular file"])
    finally:
        shutil.rmtree(tmp)


def test_serve_starts_with_a_proper_key_set():
    """The control for the refusals above: the same set-up with a proper key
    set (research.pub world-readable, research.sec elsewhere) starts."""
    tmp = tempfile.mkdtemp(prefix="pcs-priv-")
    try:
        keys = server_keys(tmp)
        assert stat.S_IMODE(os.stat(os.path.join(keys, "research.pub")).st_mode) == 0o644
        s = TempServer(keys)
        try:
            assert s.wait_up_or_exit(), "serve refused a proper key set: %s" % s.err
        finally:
            rc = s.stop()
        assert rc == 0, "serve exit %d after SIGTERM: %s" % (rc, s.err)
    finally:
        shutil.rmtree(tmp)


# ------------------------------------------------------------------ core dumps

def core_files(dirs, since):
    """Core files (core, core.N, *.core) under dirs modified after since."""
    found = []
    for d in dirs:
        for p in instance_files(d):
            b = os.path.basename(p)
            if re.fullmatch(r"core(\.\d+)?|.*\.core", b):
                try:
                    if os.stat(p).st_mtime >= since:
                        found.append(p)
                except OSError:
                    pass
    return found


def readable_without_caps(nocaps, pid):
    """Whether a capability-less process of the same user can read
    /proc/pid/environ: not if pid is non-dumpable (PR_SET_DUMPABLE 0)."""
    r = subprocess.run(nocaps + ["cat", "/proc/%d/environ" % pid], capture_output=True)
    return r.returncode == 0


def proc_core_limit(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max core file size"):
                return line.split()[4:6]
    return None


def wait_replaced(server_workers, old, n, timeout=10):
    return lib.wait_for(lambda: len(server_workers()) == n and old not in server_workers(), timeout)


NO_ASAN_SIGNALS = ("disable_coredump=0:handle_segv=0:handle_abort=0:handle_sigbus=0:"
                   "handle_sigfpe=0:handle_sigill=0:detect_leaks=0")


def test_core_dumps_disabled_and_dead_workers_replaced():
    """privacy.md: no identifier in a core dump.  `pcsurvey serve`, started
    with an unlimited core size in a directory where this machine does write
    core files (shown by a control process), sets RLIMIT_CORE to 0 and makes
    itself non-dumpable; workers killed with SIGSEGV and SIGABRT leave no
    core file, and the supervisor replaces them.  Run for the production
    build and the sanitizer build (ASan's own signal handling and core
    setting switched off, so only pcsurvey's own code can be what stops the
    dump)."""
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    setpriv = shutil.which("setpriv")
    nocaps = [setpriv, "--bounding-set=-all", "--inh-caps=-all"] if setpriv else []
    binaries = [(b, env) for b, env in ((OPT, {}), (SAN, {"ASAN_OPTIONS": NO_ASAN_SIGNALS}))
                if os.access(b, os.X_OK)]
    assert binaries, "no pcsurvey binary"
    for binary, env in binaries:
        tmp = tempfile.mkdtemp(prefix="pcs-priv-")
        try:
            keys = server_keys(tmp)
            cwd = os.path.join(tmp, "cwd")
            os.mkdir(cwd)
            t0 = time.time() - 1

            # Control: a process like the server (same directory, no
            # capabilities, unlimited core size) does leave a core here,
            # and its /proc files are readable to a capability-less reader.
            if "|" not in pattern and "/" not in pattern:
                ctl = subprocess.Popen(nocaps + ["sleep", "60"], cwd=cwd, preexec_fn=lambda: resource.setrlimit(
                    resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)))
                time.sleep(0.2)
                if nocaps:
                    assert readable_without_caps(nocaps, ctl.pid), "control: cannot read a dumpable process"
                ctl.send_signal(signal.SIGSEGV)
                ctl.wait()
                assert lib.wait_for(lambda: core_files([cwd], t0), 5), \
                    "control: no core file from a plain process in %s (core_pattern %r)" % (cwd, pattern)
                for p in core_files([cwd], t0):
                    os.unlink(p)

            s = TempServer(keys, binary=binary, env=env, cwd=cwd, wrap=nocaps, core_unlimited=True)
            try:
                assert s.wait_up_or_exit(), "%s serve did not start: %s" % (binary, s.err)
                ws = s.workers()
                assert len(ws) == 2, "workers: %r" % ws
                for pid in [s.p.pid] + ws:
                    assert proc_core_limit(pid) == ["0", "0"], \
                        "pid %d Max core file size %r, want 0 0" % (pid, proc_core_limit(pid))
                    # PR_SET_DUMPABLE 0: even its own (capability-less) user
                    # may not read its memory-backed /proc files.
                    if nocaps:
                        assert not readable_without_caps(nocaps, pid), \
                            "pid %d is dumpable (its /proc/pid/environ is readable)" % pid
                for sig in (signal.SIGSEGV, signal.SIGABRT):
                    victim = s.workers()[0]
                    os.kill(victim, sig)
                    assert wait_replaced(s.workers, victim, 2), \
                        "the supervisor did not replace a worker killed by %s" % sig.name
                    assert s.p.poll() is None, "the supervisor died with its worker"
                assert proc_core_limit(s.workers()[0]) == ["0", "0"], "a replacement worker may dump core"
                time.sleep(0.5)
                cores = core_files([cwd, tmp, lib.VAR], t0)
                assert not cores, "core files written: %r" % cores
            finally:
                rc = s.stop()
            assert rc == 0, "serve exit %d: %s" % (rc, s.err)
            assert "worker_died" in s.err, "the supervisor did not log the deaths"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def test_live_workers_cannot_dump_core():
    """The same on the running test instance: its supervisor and workers have
    a core size of 0, and a worker killed by SIGABRT leaves no core under
    the instance directory or the server's working directory, and is
    replaced while the service keeps answering."""
    with open(os.path.join(lib.VAR, "run", "pcsurvey.pid")) as f:
        sup = int(f.read().split()[0])

    def workers():
        try:
            with open("/proc/%d/task/%d/children" % (sup, sup)) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []
    ws = workers()
    assert ws, "no workers under supervisor %d" % sup
    for pid in [sup] + ws:
        assert proc_core_limit(pid) == ["0", "0"], "pid %d may dump core: %r" % (pid, proc_core_limit(pid))
    cwd = os.readlink("/proc/%d/cwd" % sup)
    t0 = time.time() - 1
    victim = ws[0]
    os.kill(victim, signal.SIGABRT)
    assert wait_replaced(workers, victim, len(ws)), "worker %d was not replaced" % victim
    c = Client()
    for _ in range(2 * len(ws)):
        assert c.get("/healthz").status == 200
    time.sleep(0.3)
    cores = core_files([lib.VAR], t0) + [os.path.join(cwd, f) for f in os.listdir(cwd)
                                         if re.fullmatch(r"core(\.\d+)?", f)
                                         and os.stat(os.path.join(cwd, f)).st_mtime >= t0]
    assert not cores, "core files written: %r" % cores


# ------------------------------------------------------------------ what is stored

def test_nothing_in_clear_in_database_files_or_logs():
    """privacy.md: a direct identifier never reaches the database or the logs
    in clear; invitation, resume and receipt codes are stored only as keyed
    hashes; no IP address, user agent or referrer is stored; logs hold no
    answer, code, token, cookie, query string or client IP.  Checked over a
    pg_dump, every file of the PostgreSQL cluster (heap and WAL) and the
    whole instance directory, and every log file."""
    cp = corpus()
    needles = secret_needles(cp)
    dump = lib.pg_dump()
    assert "CREATE TABLE pcs.response" in dump, "pg_dump is empty?"
    found = find_needles(dump, secret_needles(cp, hexed=True))
    assert not found, "in the database dump: %r" % found[:10]

    # Every file under the instance directory except the logs (next) and
    # this test's own output: the cluster's heap and WAL, nginx temp, keys...
    logdir = os.path.join(lib.VAR, "log")
    files = [p for p in instance_files(lib.VAR) if not p.startswith(logdir + os.sep)]
    # The control: a value the database does hold as text (a sealed box's
    # base64) is found by the same scan in the cluster's files.
    month = next(r for r in cp.responses if r["form"] == MONTH)
    kept = lib.sql_value("SELECT answers->'note'->>'sealed' FROM pcs.response WHERE rid = '\\x%s'" % month["rid"])
    control = scan_files(files, {kept})
    assert any("/pg/" in p for p in control), "control: the scan does not see the database's files"
    hits = scan_files(files, needles)
    assert not hits, "in the instance's files: %r" % dict(list(hits.items())[:5])

    # Logs: also no response id, receipt hash, pseudonym or draft id.
    log_needles = set(needles)
    for rec in cp.responses:
        log_needles |= {rec["rid"], rec["receipt_hash"], keyed_hash("resume", rec["token"]).hex()}
        if rec["pseudonym_col"]:
            log_needles.add(rec["pseudonym_col"])
    hits = scan_files(log_files(), log_needles)
    assert not hits, "in the logs: %r" % hits
    # The control: these logs did record the journeys (by path and event).
    assert "POST /f/staff-wellbeing/resume " in lib.log_text(("nginx-access.log",)), "control: access log"
    assert "response_stored pid=" in lib.log_text(("pcsurvey.log",)), "control: pcsurvey.log"
    for name in ("nginx-access.log", "pcsurvey.log", "postgresql.log"):
        text = lib.log_text((name,))
        assert "127.0.0.1" not in text, "a client address is in %s" % name
        assert not re.search(r"/i/[0-9A-Za-z]{4}", text), "an invitation link is in %s" % name

    # The receipt page shows the receipt code and nothing that identifies
    # the response (privacy.md: Withdrawal).
    for rec in cp.responses:
        page = rec["done_page"].text
        assert rec["rid"] not in page and rec["rid"].upper() not in page, "the response id is on the done page"
        assert rec["receipt_hash"] not in page


def test_codes_and_pseudonyms_are_keyed_hashes_under_per_purpose_subkeys():
    """privacy.md: invitation, resume and receipt codes are stored only as
    keyed hashes; a pseudonym is BLAKE2b-256 keyed with a crypto_kdf subkey
    of pseudonym.key, context per form, of the normalised answer.  Every
    stored hash is recomputed here from pseudonym.key with hashlib, and the
    same input under another purpose's subkey, the master key, no key or
    another form gives a different value."""
    cp = corpus()
    master = master_key()
    # Invitation codes: pcs.invitation.code_hash, used by the submission.
    for code in cp.invites:
        h = keyed_hash("invite", canon(code)).hex()
        rows = lib.sql("SELECT used::text FROM pcs.invitation WHERE code_hash = '\\x%s'" % h)
        assert rows == [("true",)], "invitation code hash not found as used: %r" % rows
    # Receipt codes: the hash recomputed in build_corpus found exactly one
    # row each; the receipt is itself derived from the draft's resume token.
    for rec in cp.responses:
        derived = code_text(keyed_hash("receipt", rec["token"], context="derive")[:10])
        assert derived == rec["receipt"], "the receipt is not derived from the resume token"
    # Pseudonyms: the column and the answer both hold the recomputed hash.
    for rec in cp.responses:
        for col, (typed, email) in rec["pseudo"].items():
            want = pseudonym_hex(rec["form"], typed, email)
            got = lib.sql_value("SELECT answers->'%s'->>'pseudonym' FROM pcs.response "
                                "WHERE rid = '\\x%s'" % (col, rec["rid"]))
            assert got == want, "%s.%s pseudonym %s, recomputed %s" % (rec["form"], col, got, want)
            if rec["form"] == OPP:
                assert rec["pseudonym_col"] == want, "pcs.response.pseudonym is not the keyed hash"
            else:
                assert rec["pseudonym_col"] == "", "pcs.response.pseudonym set outside one_per_person"
            norm = normalise(typed, email)
            others = {
                "unkeyed": hashlib.blake2b(norm, digest_size=32).hexdigest(),
                "master key": hashlib.blake2b(rec["form"].encode() + b"\0" + norm,
                                              digest_size=32, key=master).hexdigest(),
                "other form": pseudonym_hex("staff-wellbeing", typed, email),
                "receipt subkey": keyed_hash("receipt", norm, context=rec["form"]).hex(),
            }
            for what, h in others.items():
                assert h != want, "pseudonym equals the %s hash" % what
    # Resume codes: a saved draft's row key is the keyed hash of the token
    # (checked on a live draft in test_draft_sealed_under_resume_token).
    subs = {p: subkey(p, master) for p in PURPOSE}
    assert len(set(subs.values())) == len(subs), "two purposes share a subkey"
    assert master not in subs.values()


def test_export_decrypts_every_marker_exactly():
    """privacy.md sealed: only a holder of research.sec can read a sealed
    answer back, offline, with `pcsurvey decrypt`.  Every study form and
    test form is exported; the export holds no marker in clear and no
    serial key; every sealed cell opens with libsodium directly, and
    `pcsurvey decrypt` gives back every marker exactly; pseudonym cells are
    the recomputed keyed hashes."""
    cp = corpus()
    pub, sec = research_keys()
    forms = sorted(set(r["form"] for r in cp.responses))
    tmp = tempfile.mkdtemp(prefix="pcs-priv-")
    os.chmod(tmp, 0o700)
    try:
        for form in forms:
            exp = os.path.join(tmp, form + ".csv")
            dec = os.path.join(tmp, form + ".plain.csv")
            p = pcs("export", "--form", form, "--out", exp, "--config", CONF)
            assert p.returncode == 0, "export %s: %s" % (form, fail_text(p))
            with open(exp, encoding="utf-8", newline="") as f:
                raw_text = f.read()
            found = find_needles(raw_text, set(cp.markers))
            assert not found, "export of %s holds markers in clear: %r" % (form, found)
            p = pcs("decrypt", "--secret-key", SECRET, exp, "--out", dec)
            assert p.returncode == 0, "decrypt %s: %s" % (form, fail_text(p))
            raw = {r["response_id"]: r for r in csv.DictReader(io.StringIO(raw_text, newline=""))}
            with open(dec, newline="", encoding="utf-8") as f:
                plain = {r["response_id"]: r for r in csv.DictReader(f)}
            assert set(raw) == set(plain), "decrypt changed the rows"
            ids = set(x[0] for x in lib.sql("SELECT id::text FROM pcs.response WHERE form_id = '%s'" % form))
            for rec in (r for r in cp.responses if r["form"] == form):
                rid = rec["rid"]
                assert rid in raw, "response %s of %s is not in its export" % (rid, form)
                assert re.fullmatch(r"[0-9a-f]{32}", rid) and rid not in ids, "response_id is not random"
                for col, text in rec["sealed"].items():
                    cell = raw[rid][col]
                    box = base64.b64decode(cell.lstrip("'"), validate=True)
                    assert len(box) == len(text.encode()) + 48, "%s.%s: box of %d bytes" % (form, col, len(box))
                    assert seal_open(box, pub, sec) == text.encode(), "%s.%s does not open with libsodium" % (form, col)
                    assert plain[rid][col] == text, "%s.%s decrypted to %r, typed %r" % (
                        form, col, plain[rid][col], text)
                for col, (typed, email) in rec["pseudo"].items():
                    want = pseudonym_hex(form, typed, email)
                    assert raw[rid][col] == want == plain[rid][col], "%s.%s pseudonym cell" % (form, col)
    finally:
        shutil.rmtree(tmp)      # the decrypted files hold the markers in clear


def test_one_per_person_refuses_same_email_written_differently():
    """privacy.md pseudonym + http-api.md one_per_person: a second response
    with the same e-mail, differently cased and spaced, is refused at that
    question with "A response has already been recorded for this ...", and
    adds no row; another e-mail is accepted."""
    cp = corpus()
    first = next(r for r in cp.responses if r["form"] == OPP)
    typed, _ = first["pseudo"]["work_email"]
    before = lib.count("pcs.response", "form_id = '%s'" % OPP)
    c = Respondent()
    start(c, OPP)
    again = " \t" + typed.upper().replace("PN.", "pN.") + "  "
    fill(c, OPP, "who", {"work_email": again, "role": "practice_nurse"})
    fill(c, OPP, "views", {"comment": "second try"})
    chk = c.get("/f/%s/check" % OPP)
    r = c.post("/f/%s/submit" % OPP, {"csrf": csrf(chk.text)})
    assert r.status == 200, "duplicate submit: %s" % why(r)
    text = lib.text_of(r.text)
    assert DUPLICATE_MSG in text, "no '%s ...' message: %s" % (DUPLICATE_MSG, text[:300])
    assert re.search(r'href="#work_email', r.text), "the message is not tied to the e-mail question"
    assert "nhsuk-error-summary" in r.text
    assert lib.count("pcs.response", "form_id = '%s'" % OPP) == before, "a row was added"
    assert pseudonym_hex(OPP, again, True) == first["pseudonym_col"], "normalisation differs"
    # The control: a different person is accepted.
    c = Respondent()
    start(c, OPP)
    fill(c, OPP, "who", {"work_email": "other.%s@example.org" % lib.unique("x"), "role": "practice_nurse"})
    fill(c, OPP, "views", {})
    submit(c, OPP)
    assert lib.count("pcs.response", "form_id = '%s'" % OPP) == before + 1


def test_draft_sealed_under_resume_token():
    """privacy.md drafts: encrypted at rest with crypto_secretbox under a key
    derived from the resume token, which only the respondent holds; the
    database alone cannot read a draft; drafts expire (default 30 days).
    The stored box opens with the key derived from the respondent's code,
    with no other; the row is keyed by the token's keyed hash."""
    c = Respondent()
    start(c, OPP)
    mark = lib.unique("draftmail")
    r = fill(c, OPP, "who", {"work_email": mark + "@example.org", "role": "practice_nurse"}, save=True, expect=200)
    m = re.search(r'id="resume-code"[^>]*>\s*([0-9A-Z-]{19})\s*<', r.text)
    assert m, "no resume code shown"
    token = canon(m.group(1))
    assert draft_token(c) == token, "the cookie is not the resume token"
    id_hash = keyed_hash("resume", token).hex()
    rows = lib.sql("SELECT encode(box, 'hex'), expires::text, form_id FROM pcs.draft "
                   "WHERE id_hash = '\\x%s'" % id_hash)
    assert len(rows) == 1, "no draft row under the keyed hash of the resume token"
    box = bytes.fromhex(rows[0][0])
    assert rows[0][2] == OPP
    assert rows[0][1] in ((today() + datetime.timedelta(days=30)).isoformat(),
                          (today() + datetime.timedelta(days=31)).isoformat()), "expires %s" % rows[0][1]
    assert mark.encode() not in box and mark.encode().hex() not in rows[0][0]
    plain = draft_open(box, draft_key(token))
    assert plain is not None and mark.encode() in plain, "the draft does not open with the resume token's key"
    other = canon(code_text(os.urandom(10)))
    assert draft_open(box, draft_key(other)) is None, "the draft opens with another token's key"
    assert draft_open(box, keyed_hash("resume", token)) is None, "the stored id opens the draft"
    assert mark not in lib.pg_dump()


# ------------------------------------------------------------------ tampering

def supervisor_and_workers():
    with open(os.path.join(lib.VAR, "run", "pcsurvey.pid")) as f:
        sup = int(f.read().split()[0])
    with open("/proc/%d/task/%d/children" % (sup, sup)) as f:
        return sup, sorted(int(x) for x in f.read().split())


def test_tampered_sealed_cell_decrypt_exits_1():
    """privacy.md sealed: a sealed answer changed in an export is refused by
    `pcsurvey decrypt` (exit 1, a clear message naming row and column), and
    nothing is written: no garbage, no partial file."""
    c = Respondent()
    mark = lib.unique("tampernote")
    start(c, MONTH)
    fill(c, MONTH, "only", {"note": "Note " + mark, "happy": "yes"})
    receipt, _ = submit(c, MONTH)
    rid = lib.sql_value("SELECT encode(rid, 'hex') FROM pcs.response WHERE receipt_hash = '\\x%s'"
                        % keyed_hash("receipt", canon(receipt)).hex())
    tmp = tempfile.mkdtemp(prefix="pcs-priv-")
    try:
        exp = os.path.join(tmp, "e.csv")
        p = pcs("export", "--form", MONTH, "--out", exp, "--config", CONF)
        assert p.returncode == 0, "export: " + fail_text(p)
        lines = open(exp, encoding="utf-8", newline="").read().split("\r\n")
        hdr = next(csv.reader([lines[0]]))
        col = hdr.index("note")
        i = next(k for k, ln in enumerate(lines) if ln.startswith(rid + ","))
        cells = next(csv.reader([lines[i]]))
        cell = cells[col]

        def variant(new):
            cs = list(cells)
            cs[col] = new
            buf = io.StringIO()
            csv.writer(buf, lineterminator="").writerow(cs)
            out = list(lines)
            out[i] = buf.getvalue()
            path = os.path.join(tmp, "t.csv")
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write("\r\n".join(out))
            return path

        mid = len(cell) // 2
        flip = "A" if cell[mid] != "A" else "B"
        cases = {
            "one character changed": cell[:mid] + flip + cell[mid + 1:],
            "cut short by 4": cell[:-4],
            "cut short by 3": cell[:-3],
            "a stray character": cell[:mid] + " " + cell[mid:],
            "replaced by text": "hello",
        }
        for what, new in cases.items():
            out = os.path.join(tmp, "plain.csv")
            p = pcs("decrypt", "--secret-key", SECRET, variant(new), "--out", out)
            assert p.returncode == 1, "%s: decrypt %s" % (what, fail_text(p))
            assert "row" in p.stderr and "note" in p.stderr and ("changed" in p.stderr or "cut short" in p.stderr), \
                "%s: message %r" % (what, p.stderr)
            assert not os.path.exists(out), "%s: an output file was left" % what
            assert mark not in p.stderr and mark not in p.stdout
            p = pcs("decrypt", "--secret-key", SECRET, variant(new))
            assert p.returncode == 1 and mark not in p.stdout, "%s: to stdout" % what
        # The control: the untouched export opens.
        p = pcs("decrypt", "--secret-key", SECRET, exp)
        assert p.returncode == 0 and ("Note " + mark) in p.stdout, "the untouched export: " + fail_text(p)
    finally:
        shutil.rmtree(tmp)


def test_tampered_draft_row_sends_respondent_to_start():
    """privacy.md drafts: a draft changed in the database (UPDATE pcs.draft
    SET box = ...) never crashes a worker or shows garbage: the respondent
    is sent back to the start page and nothing is stored.  Also a draft
    that opens but holds hostile content (only possible with the token)
    renders safely."""
    c = Respondent()
    start(c, OPP)
    fill(c, OPP, "who", {"work_email": "t.%s@example.org" % lib.unique("x"), "role": "practice_nurse"})
    token = draft_token(c)
    id_hex = keyed_hash("resume", token).hex()
    # The draft's CSRF token: a keyed hash of its resume token (no storage).
    draft_csrf = keyed_hash("csrf", token, context="draft")[:16].hex()
    assert draft_csrf == csrf(c.get("/f/%s/p/views" % OPP).text), "csrf is not keyed_hash(csrf, token)"
    box = bytes.fromhex(lib.sql_value("SELECT encode(box, 'hex') FROM pcs.draft WHERE id_hash = '\\x%s'" % id_hex))
    sup, ws = supervisor_and_workers()
    off = lib.log_size("pcsurvey.log")
    rows_before = lib.count("pcs.response")

    def set_box(b):
        lib.sql("UPDATE pcs.draft SET box = '\\x%s' WHERE id_hash = '\\x%s'" % (b.hex(), id_hex))

    flipped = bytearray(box)
    flipped[len(box) // 2] ^= 0x01
    mac = bytearray(box)
    mac[30] ^= 0x80
    nonce = bytearray(box)
    nonce[0] ^= 0x01
    other = draft_seal(b"work_email=a%40b.cd&role=nurse", draft_key(canon(code_text(os.urandom(10)))))
    broken = {"ciphertext bit": bytes(flipped), "MAC bit": bytes(mac), "nonce bit": bytes(nonce),
              "truncated": box[:39], "empty": b"", "random": os.urandom(len(box)),
              "another token's draft": other}
    for what, b in broken.items():
        set_box(b)
        for path in ("/f/%s/p/views" % OPP, "/f/%s/check" % OPP):
            r = c.get(path)
            assert r.status == 303 and r.location == "/f/" + OPP, \
                "%s: GET %s gave %s -> %r" % (what, path, why(r), r.location)
        r = c.post("/f/%s/p/views" % OPP, {"csrf": draft_csrf, "comment": "x"})
        assert r.status == 303 and r.location == "/f/" + OPP, "%s: page POST %s" % (what, why(r))
        r = c.post("/f/%s/submit" % OPP, {"csrf": draft_csrf})
        assert r.status == 303 and r.location == "/f/" + OPP, "%s: submit %s" % (what, why(r))
    assert lib.count("pcs.response") == rows_before, "a tampered draft was submitted"

    # Authentic boxes (sealed here with the real token) holding hostile bytes.
    key = draft_key(token)
    hostile = [b"\xff\xfe\xfd", b"work_email=a\x00b", b"%ZZ&&==&", b"=" * 3000,
               b"role=%3Cscript%3Ealert(1)%3C%2Fscript%3E&work_email=x%40y.zz",
               b"__invite=zz&work_email=" + b"A" * 40000, b"&" * 5000,
               b"role=" + "\u202e".encode() * 50 + b"&comment=%E2%80%AE%00"]
    for plain in hostile:
        set_box(draft_seal(plain, key))
        for path in ("/f/%s/p/who" % OPP, "/f/%s/p/views" % OPP, "/f/%s/check" % OPP):
            r = c.get(path)
            assert r.status in (200, 303), "hostile draft %r: GET %s: %s" % (plain[:20], path, why(r))
            assert "<script>alert(1)" not in r.text, "hostile draft rendered unescaped"
    after_sup, after_ws = supervisor_and_workers()
    assert after_sup == sup and after_ws == ws, "a worker died: %r -> %r" % (ws, after_ws)
    new_log = lib.log_since("pcsurvey.log", off)
    assert "worker_died" not in new_log and "Sanitizer" not in new_log and "runtime error" not in new_log, \
        "a worker crashed: %s" % new_log[-500:]
    assert Client().get("/healthz").status == 200


# ------------------------------------------------------------------ time

def test_submission_time_kept_only_at_form_precision():
    """privacy.md: submission time is stored at the form's timestamp
    precision (default day) and nowhere finer.  No column of schema pcs has a
    time-of-day type, no default or index uses one, PostgreSQL keeps no
    commit timestamps, and a week form stores the Monday, a month form the
    1st, a day form the day; the export writes YYYY-Www and YYYY-MM."""
    cp = corpus()
    cols = lib.sql("SELECT table_name, column_name, data_type FROM information_schema.columns "
                   "WHERE table_schema = 'pcs' AND (data_type LIKE 'time%' OR data_type = 'interval' "
                   "OR data_type LIKE '%with time zone' OR column_default ~* 'now|clock|timestamp|statement_time')")
    # The one exception: a researcher's 8-hour session (0002_research.sql)
    # needs its expiry time.  It is about a researcher, not a respondent:
    # its table may refer to nothing but the researcher's API token.
    allowed = {("research_session", "expires")}
    finer = [c for c in cols if (c[0], c[1]) not in allowed]
    assert finer == [], "columns finer than a day: %r" % finer
    for table in sorted(set(t for t, _ in allowed)):
        refs = lib.sql("SELECT ccu.table_name FROM information_schema.table_constraints tc "
                       "JOIN information_schema.constraint_column_usage ccu "
                       "ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema "
                       "WHERE tc.table_schema = 'pcs' AND tc.table_name = '%s' "
                       "AND tc.constraint_type = 'FOREIGN KEY'" % table)
        assert set(r[0] for r in refs) <= {"api_token"}, "%s refers to %r" % (table, refs)
    for table in ("response", "draft", "invitation"):
        refs = lib.sql("SELECT tc.table_name FROM information_schema.table_constraints tc "
                       "JOIN information_schema.constraint_column_usage ccu "
                       "ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema "
                       "WHERE tc.table_schema = 'pcs' AND ccu.table_name = '%s' "
                       "AND tc.constraint_type = 'FOREIGN KEY' AND tc.table_name <> '%s'" % (table, table))
        assert refs == [], "%r refer to pcs.%s" % (refs, table)
    idx = lib.sql("SELECT indexdef FROM pg_indexes WHERE schemaname = 'pcs' "
                  "AND indexdef ~* 'timestamp|now\\(|clock_|time '")
    assert idx == [], "indexes on times: %r" % idx
    # The only triggers: 0006's deletion counter (figures' change marker),
    # statement-level, whose function records no time and no row.
    trig = lib.sql("SELECT t.tgname, p.prosrc, t.tgtype & 1 FROM pg_trigger t "
                   "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "JOIN pg_proc p ON p.oid = t.tgfoid WHERE n.nspname = 'pcs' AND NOT t.tgisinternal")
    assert sorted(t[0] for t in trig) == ["response_deleted", "response_truncated"], \
        "triggers in schema pcs: %r" % [t[0] for t in trig]
    for name, src, row_level in trig:
        assert row_level == "0", "%s is a row trigger" % name
        body = re.sub(r"\s+", " ", src).strip().lower()
        assert body == "begin update pcs.response_deletions set n = n + 1; return null; end", \
            "%s does more than count: %r" % (name, src)
    assert lib.sql_value("SHOW track_commit_timestamp") == "off", "PostgreSQL records commit times"
    assert lib.sql_value("SHOW log_statement") == "none", "PostgreSQL logs statements"
    assert lib.sql_value("SHOW log_min_duration_statement") == "-1", "PostgreSQL logs statement durations"

    days = {today() - datetime.timedelta(days=1), today()}
    forms = sorted(set(r["form"] for r in cp.responses))
    precision = {f: form_json(f).get("timestamp", "day") for f in forms}
    assert precision[WEEK] == "week" and precision[MONTH] == "month" and precision[RETAIN] == "day"
    for rec in cp.responses:
        d = datetime.date.fromisoformat(rec["submitted"])
        prec = precision[rec["form"]]
        if prec == "week":
            assert d.weekday() == 0 and any(0 <= (x - d).days < 7 for x in days), \
                "%s (week) stored %s" % (rec["form"], d)
        elif prec == "month":
            assert d.day == 1 and any(x.replace(day=1) == d for x in days), \
                "%s (month) stored %s" % (rec["form"], d)
        else:
            assert d in days, "%s (day) stored %s" % (rec["form"], d)
    pats = {"week": r"\d{4}-W\d\d", "month": r"\d{4}-\d\d", "day": r"\d{4}-\d\d-\d\d"}
    for form in forms:
        prec = precision[form]
        p = pcs("export", "--form", form, "--config", CONF)
        assert p.returncode == 0, fail_text(p)
        rows = list(csv.DictReader(io.StringIO(p.stdout, newline="")))
        assert rows and all(re.fullmatch(pats[prec], r["submitted"]) for r in rows), \
            "%s export submitted: %r" % (form, [r["submitted"] for r in rows][:3])
        for rec in (r for r in cp.responses if r["form"] == form):
            row = next(r for r in rows if r["response_id"] == rec["rid"])
            d = datetime.date.fromisoformat(rec["submitted"])
            want = {"week": "%d-W%02d" % d.isocalendar()[:2], "month": d.strftime("%Y-%m"),
                    "day": d.isoformat()}[prec]
            assert row["submitted"] == want, "%s: %s, want %s" % (form, row["submitted"], want)


# ------------------------------------------------------------------ logs

EVENT_LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (debug|info|warn|error) [a-z][a-z0-9_]*"
                        r"( [a-z][a-z0-9_]*=[^\s=]*)*")
STARTUP_LINE = re.compile(r"(migrate: |form refused: |pcsurvey [a-z]+: |"
                          r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ dev-stack )")
NGINX_FORMAT_OK = {"time_iso8601", "pcs_log_method", "pcs_log_path", "status", "body_bytes_sent",
                   "request_time", "upstream_status", "request_id"}


def test_logs_are_events_without_values():
    """cli.md / privacy.md: the server logs one line per event,
    `ts level event key=value`; the nginx access log uses a format without
    client address, query string, cookie, referrer or user agent; its lines
    carry no '?' and no address; PostgreSQL logs no statements or values."""
    corpus()        # so the logs hold a full respondent journey
    bad = []
    for line in lib.log_text(("pcsurvey.log",)).splitlines():
        if not line.strip():
            continue
        if re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (debug|info|warn|error) ", line):
            if not EVENT_LINE.fullmatch(line):
                bad.append(line)
        elif not STARTUP_LINE.match(line):
            bad.append(line)
    assert not bad, "pcsurvey.log lines that are not `ts level event key=value`: %r" % bad[:5]

    conf = open(os.path.join(lib.VAR, "nginx", "nginx.conf"), encoding="utf-8").read()
    formats = re.findall(r"log_format\s+(\S+)\s+((?:'[^']*'\s*)+);", conf)
    assert formats, "no log_format in nginx.conf"
    named = {}
    for name, body in formats:
        used = set(re.findall(r"\$([a-z_0-9]+)", body))
        named[name] = used
        assert used <= NGINX_FORMAT_OK, "log_format %s uses %r" % (name, sorted(used - NGINX_FORMAT_OK))
    for target, fmt in re.findall(r"access_log\s+([^\s;]+)(?:[ \t]+([^\s;]+))?[^;]*;", conf):
        assert target == "off" or fmt in named, "access_log %s uses format %r" % (target, fmt or "combined")
    m = re.search(r"map \$request_uri \$pcs_log_path \{(.*?)\}", conf, re.S)
    assert m and "[^?]" in m.group(1), "the logged path is not cut at '?'"

    line_re = re.compile(r"\S+ [A-Za-z-]+ \S+ \d{3} \d+ [\d.]+ \S+ [0-9a-f]{32}")
    lines = [ln for ln in lib.log_text(("nginx-access.log",)).splitlines() if ln]
    assert lines, "empty nginx access log"
    for ln in lines:
        assert line_re.fullmatch(ln), "access log line in another format: %r" % ln
        assert "?" not in ln, "a query string was logged: %r" % ln
        assert not re.search(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b", ln), "an address was logged: %r" % ln

    pg = lib.log_text(("postgresql.log",))
    for word in ("STATEMENT:", "DETAIL:", "parameters:", "duration:", "connection authorized"):
        assert word not in pg, "PostgreSQL logged %r" % word
    assert lib.sql_value("SHOW log_min_error_statement") == "panic", "failing statements' text is logged"
    assert lib.sql_value("SHOW log_error_verbosity") == "terse", "error DETAIL (key values) is logged"
    assert lib.sql_value("SHOW log_connections") == "off"


# ------------------------------------------------------------------ purge, withdraw

def test_purge_deletes_expired_drafts_and_responses_past_retention():
    """privacy.md / cli.md: `pcsurvey purge` deletes expired drafts and the
    responses of each form past its retention_days, and prints the counts;
    it keeps what is not yet due, and forms without retention_days."""
    t = today()
    tag = os.urandom(4).hex()

    def rnd():
        return os.urandom(32).hex()
    drafts = {"expired": (t - datetime.timedelta(days=1)), "due today": t,
              "later": t + datetime.timedelta(days=5)}
    draft_ids = {}
    for what, exp in drafts.items():
        draft_ids[what] = rnd()
        lib.sql("INSERT INTO pcs.draft (id_hash, form_id, expires, box) VALUES "
                "('\\x%s', '%s', '%s', '\\x00')" % (draft_ids[what], RETAIN, exp.isoformat()))
    resp = {"31 days": (RETAIN, 31, False), "30 days": (RETAIN, 30, True), "today": (RETAIN, 0, True),
            "no retention": ("patient-voice", 1000, True)}
    rids = {}
    for what, (form, age, _) in resp.items():
        rids[what] = os.urandom(16).hex()
        lib.sql("INSERT INTO pcs.response (rid, form_id, form_version, submitted, receipt_hash, answers) "
                "VALUES ('\\x%s', '%s', 1, '%s', '\\x%s', '{\"tag\": \"%s\"}')"
                % (rids[what], form, (t - datetime.timedelta(days=age)).isoformat(), rnd(), tag))
    want_drafts = int(lib.sql_value("SELECT count(*) FROM pcs.draft WHERE expires < '%s'" % t))
    want_resp = int(lib.sql_value("SELECT count(*) FROM pcs.response WHERE form_id = '%s' AND submitted < '%s'"
                                  % (RETAIN, t - datetime.timedelta(days=30))))
    assert want_drafts >= 1 and want_resp >= 1
    p = pcs("purge", "--config", CONF)
    assert p.returncode == 0, "purge: " + fail_text(p)
    m = re.search(r"(\d+) expired draft\(s\) deleted, (\d+) response\(s\) past retention deleted", p.stdout)
    assert m, "purge printed %r" % p.stdout
    assert (int(m.group(1)), int(m.group(2))) == (want_drafts, want_resp), \
        "purge counted %s, expected %d drafts and %d responses" % (m.groups(), want_drafts, want_resp)
    for what, exp in drafts.items():
        n = lib.count("pcs.draft", "id_hash = '\\x%s'" % draft_ids[what])
        assert n == (0 if exp < t else 1), "draft %s: %d rows after purge" % (what, n)
    for what, (_, _, kept) in resp.items():
        n = lib.count("pcs.response", "rid = '\\x%s'" % rids[what])
        assert n == (1 if kept else 0), "response %s: %d rows after purge" % (what, n)
    p = pcs("purge", "--config", CONF)
    assert p.returncode == 0 and "0 expired draft(s) deleted, 0 response(s)" in p.stdout, \
        "a second purge: %r" % p.stdout
    lib.sql("DELETE FROM pcs.response WHERE answers->>'tag' = '%s'" % tag)
    lib.sql("DELETE FROM pcs.draft WHERE id_hash IN (%s)" % ", ".join("'\\x%s'" % x for x in draft_ids.values()))


def test_withdraw_with_receipt_code_deletes_response():
    """privacy.md Withdrawal: the receipt code entered at /withdraw deletes
    that response and all its answers, and says so; a wrong code says it
    matched nothing and deletes nothing; the code is never logged."""
    c = Respondent()
    mark = lib.unique("withdrawidea")
    start(c, "patient-voice")
    fill(c, "patient-voice", "before-you-start", {"consent": "yes"})
    fill(c, "patient-voice", "your-ideas", {"ideas": "Idea " + mark})
    receipt, _ = submit(c, "patient-voice")
    h = keyed_hash("receipt", canon(receipt)).hex()
    rid = lib.sql_value("SELECT encode(rid, 'hex') FROM pcs.response WHERE receipt_hash = '\\x%s'" % h)
    off = {n: lib.log_size(n) for n in lib.LOGS}
    total = lib.count("pcs.response")

    w = Respondent()
    g = w.get("/withdraw")
    assert g.status == 200 and csrf(g.text)
    wrong = code_text(os.urandom(10))
    r = w.post("/withdraw", {"csrf": csrf(g.text), "code": wrong})
    assert r.status == 200 and "We could not find a response with that code" in lib.text_of(r.text), \
        "wrong code: %s" % why(r)
    assert lib.count("pcs.response") == total, "a wrong code deleted something"

    r = w.post("/withdraw", {"csrf": csrf(g.text), "code": receipt.lower().replace("-", " ")})
    assert r.status == 200 and "Your response has been withdrawn" in lib.text_of(r.text), \
        "withdraw: %s" % why(r)
    assert lib.count("pcs.response", "receipt_hash = '\\x%s'" % h) == 0, "the response is still there"
    assert lib.count("pcs.response") == total - 1, "withdrawal deleted more than one response"
    assert rid not in lib.pg_dump(), "the withdrawn response's id is still in the database"

    r = w.post("/withdraw", {"csrf": csrf(g.text), "code": receipt})
    assert "We could not find a response with that code" in lib.text_of(r.text), "second withdrawal: %s" % why(r)
    for n, o in off.items():
        new = lib.log_since(n, o)
        for x in code_spellings(receipt) | code_spellings(wrong) | {mark, rid}:
            assert x not in new, "%s logged a code or answer" % n


# ------------------------------------------------------------------ API tokens

def test_api_tokens_and_sessions_stored_only_as_keyed_hashes():
    """privacy.md: API tokens and session ids are stored only as keyed
    hashes; the clear value is shown once and logged nowhere."""
    p = pcs("help")
    if not re.search(r"^\s*token\b", p.stdout, re.M):
        raise Skip("`pcsurvey token create` does not exist yet (researcher API, another issue): "
                   "API token and session checks not run")
    off = {n: lib.log_size(n) for n in lib.LOGS}
    p = pcs("token", "create", "--name", "privacy-" + lib.unique("t"), "--scope", "export", "--config", CONF)
    assert p.returncode == 0, "token create: " + fail_text(p)
    token = p.stdout.strip()
    assert token and "\n" not in token, "token create printed %r" % p.stdout
    needles = {token}
    c = Client()
    c.get("/api/v1/forms", headers={"Authorization": "Bearer " + token})
    c.get("/api/v1/forms?x=1", headers={"Authorization": "Bearer " + token + "x"})
    g = c.get("/research/login")
    if g.status == 200 and csrf(g.text) is not None:
        c.post("/research/login", {"csrf": csrf(g.text), "token": token})
    elif g.status == 200:
        c.post("/research/login", {"token": token})
    ck = c.cookie("pcs_session")
    if ck is not None:
        needles.add(ck.value)
        c.get("/research/coverage?form=staff-wellbeing")
    dump = lib.pg_dump()
    assert not find_needles(dump, needles), "a token or session id is in the database in clear"
    # 0002_research.sql: token_hash = keyed hash (CP_API_TOKEN) of the token,
    # id_hash = keyed hash (CP_SESSION) of the session id.
    assert keyed_hash("api_token", token).hex() in dump, "the token's keyed hash is not stored"
    if ck is not None:
        assert lib.count("pcs.research_session", "id_hash = '\\x%s'" % keyed_hash("session", ck.value).hex()) == 1, \
            "the session id's keyed hash is not stored"
    hits = scan_files([p for p in instance_files(lib.VAR) if "/log/suites/" not in p], needles)
    assert not hits, "a token or session id is in a file: %r" % list(hits)
    for n, o in off.items():
        assert not find_needles(lib.log_since(n, o), needles), "%s logged a token or session id" % n
