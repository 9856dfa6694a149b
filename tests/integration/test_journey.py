"""Issue 4: the respondent journey of forms.md and http-api.md, through
nginx and PostgreSQL, on the study forms and the test forms
tests/forms/test-journey-*.json.  Every test checks what reached the
database (pcs.draft, pcs.response, pcs.invitation) by SQL, not only what
the pages say.  test_respondent.py covers the basic staff-wellbeing walk;
these tests cover every question type and rule, conditions, drafts,
idempotent submit, invitations, one_per_person, withdrawal, closed forms,
CSRF and a database outage."""

import csv
import html
import io
import json
import os
import re
import subprocess
import tempfile
import threading
import time

import lib
from lib import csrf


class Client(lib.Client):
    """lib.Client that keeps under nginx's per-client POST rate (T-07:
    50 r/s, burst 200), so these tests neither meet 429 nor leave the
    bucket empty for the next file's tests; and if a 429 comes all the
    same (it never reached the app), waits and sends again.  burst=True:
    no spacing (parallel submits must overlap)."""

    _lock = threading.Lock()
    _last = [0.0]
    GAP = 0.025                         # 40 POSTs a second at most

    def __init__(self, burst=False):
        super().__init__()
        self.burst = burst

    def request(self, method, *a, **kw):
        for _ in range(40):
            if method == "POST" and not self.burst:
                with Client._lock:
                    wait = Client._last[0] + Client.GAP - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    Client._last[0] = time.monotonic()
            r = super().request(method, *a, **kw)
            if r.status != 429:
                return r
            time.sleep(0.25)
        return r

TYPES = "test-journey-types"
COND = "test-journey-cond"
ONCE = "test-journey-once"
ICB_FORM = "icb-provision"
CONF = os.path.join(lib.VAR, "pcsurvey.conf")


def binary():
    """The pcsurvey the test instance runs (sanitizer build), else bin/."""
    for p in (os.path.join(lib.ROOT, "build", "san", "pcsurvey"),
              os.path.join(lib.ROOT, "bin", "pcsurvey")):
        if os.access(p, os.X_OK):
            return p
    raise lib.Skip("no pcsurvey binary built")


def cli(*args, check=True):
    p = subprocess.run([binary()] + list(args), capture_output=True, timeout=120)
    out = p.stdout.decode("utf-8", "replace")
    if check:
        assert p.returncode == 0, "pcsurvey %s: exit %d: %s" % (
            " ".join(args), p.returncode, p.stderr.decode("utf-8", "replace")[-500:])
    return p.returncode, out, p.stderr.decode("utf-8", "replace")


# ------------------------------------------------------------------ helpers

def error_summary(page):
    """hrefs (without #) linked from the nhsuk error summary, or None."""
    m = re.search(r"<div\b[^>]*class=\"[^\"]*\bnhsuk-error-summary\b[^\"]*\"[^>]*>", page)
    if not m:
        return None
    rest = page[m.end():]
    end = rest.find("</div>")
    return re.findall(r"href=\"#([^\"]*)\"", rest[:end if end >= 0 else 4000])


def summary_text(page):
    m = re.search(r"<div\b[^>]*class=\"[^\"]*\bnhsuk-error-summary\b.*?</div>", page, re.S)
    return lib.text_of(m.group(0)) if m else ""


def why(r):
    hrefs = error_summary(r.text)
    if hrefs is not None:
        return "%d with errors: %s" % (r.status, summary_text(r.text)[:300])
    return "%d %s %s" % (r.status, r.location or "", lib.text_of(r.text)[:200])


def page_of(page):
    m = re.search(r"Page\s+(\d+)\s+of\s+(\d+)", lib.text_of(page))
    assert m, "no 'Page n of m' on the page"
    return int(m.group(1)), int(m.group(2))


def back_href(page):
    for a in lib.tags(page, "a"):
        if "nhsuk-back-link" in a.get("class", ""):
            return lib.local_path(a.get("href", ""))
    return None


def h1(page):
    m = re.search(r"<h1\b[^>]*>(.*?)</h1>", page, re.S)
    return lib.text_of(m.group(1)) if m else None


def element_text(page, elem_id):
    """The text of the element with this id (nested elements of the same
    name balanced), or None."""
    m = re.search(r"<(\w+)\b[^>]*\bid=\"%s\"[^>]*>" % re.escape(elem_id), page)
    if not m:
        return None
    name, depth, pos = m.group(1), 1, m.end()
    tag = re.compile(r"<(/?)%s\b[^>]*>" % name, re.I)
    while depth:
        t = tag.search(page, pos)
        if not t:
            return None
        depth += -1 if t.group(1) else 1
        pos = t.end()
        if depth == 0:
            return lib.text_of(page[m.end():t.start()])
    return None


def field_error(page, field_id):
    """The inline error message of a field (id="<field>-error"), or None."""
    return element_text(page, field_id + "-error")


def max_response_id():
    return int(lib.sql_value("SELECT coalesce(max(id), 0) FROM pcs.response"))


def new_rows(last):
    """Rows of pcs.response after id `last`: dicts with answers parsed."""
    rows = lib.sql("SELECT id, form_id, form_version, submitted::text, icb, region, role, "
                   "staff_group, org_type, answers::text, pseudonym IS NOT NULL "
                   "FROM pcs.response WHERE id > %d ORDER BY id" % last)
    keys = ("id", "form_id", "form_version", "submitted", "icb", "region", "role",
            "staff_group", "org_type", "answers", "has_pseudonym")
    out = []
    for r in rows:
        d = dict(zip(keys, r))
        d["answers"] = json.loads(d["answers"])
        out.append(d)
    return out


def draft_ids(form):
    return set(x[0] for x in lib.sql(
        "SELECT encode(id_hash, 'hex') FROM pcs.draft WHERE form_id = '%s'" % form))


def draft_box(id_hex):
    rows = lib.sql("SELECT encode(box, 'hex') FROM pcs.draft WHERE id_hash = '\\x%s'" % id_hex)
    return rows[0][0] if rows else None


def assert_not_in_db(marker, what="typed text"):
    n = int(lib.sql_value(
        "SELECT count(*) FROM pcs.draft WHERE position(convert_to('%s', 'UTF8') IN box) > 0"
        % marker))
    assert n == 0, "%s is in pcs.draft.box in clear" % what
    assert marker not in lib.pg_dump(), "%s is in the database dump in clear" % what


class Resp:
    """One respondent on one form: a cookie jar and the walk's steps."""

    def __init__(self, form, client=None):
        self.form = form
        self.c = client or Client()
        self.draft = None               # id_hash (hex) of this respondent's draft

    def path(self, page=None):
        return "/f/%s/p/%s" % (self.form, page) if page else "/f/" + self.form

    def start(self, code=None, expect=None):
        before = draft_ids(self.form)
        g = self.c.get(self.path())
        assert g.status == 200, "GET %s: %s" % (self.path(), why(g))
        body = {"csrf": csrf(g.text)}
        if code is not None:
            body["code"] = code
        r = self.c.post(self.path() + "/start", body)
        assert r.status == 303, "POST %s/start: %s" % (self.path(), why(r))
        if expect is not None:
            assert r.location == self.path(expect), "start went to %r" % r.location
        new = draft_ids(self.form) - before
        if len(new) == 1:
            self.draft = new.pop()
        return r

    def get(self, page, status=200):
        r = self.c.get(self.path(page))
        assert r.status == status, "GET %s: %s" % (self.path(page), why(r))
        return r

    def token(self, page=None):
        r = self.c.get(self.path(page) if page else "/f/%s/check" % self.form)
        assert r.status == 200, "GET for a csrf token: %s" % why(r)
        t = csrf(r.text)
        assert t, "no csrf field"
        return t

    def post(self, page, fields, action=None, token=None, **kw):
        """GET the page (for its csrf), then POST fields to it."""
        if token is None:
            token = self.token(page)
        pairs = [("csrf", token)]
        pairs += list(fields.items()) if isinstance(fields, dict) else list(fields)
        if action:
            pairs.append(("action", action))
        return self.c.post(self.path(page), pairs, **kw)

    def step(self, page, fields, next_page):
        r = self.post(page, fields)
        want = "/f/%s/check" % self.form if next_page == "check" else self.path(next_page)
        assert r.status == 303, "POST %s: %s" % (page, why(r))
        assert r.location == want, "POST %s went to %r, expected %r" % (page, r.location, want)
        return r

    def errors(self, page, fields):
        """POST fields expecting a 200 re-render with errors; the page."""
        r = self.post(page, fields)
        assert r.status == 200, "POST %s expected errors: %s" % (page, why(r))
        assert error_summary(r.text), "POST %s: no error summary (%s)" % (page, why(r))
        return r

    def check_page(self):
        r = self.c.get("/f/%s/check" % self.form)
        assert r.status == 200, "GET check: %s" % why(r)
        return r

    def submit(self, token=None):
        if token is None:
            token = csrf(self.check_page().text)
        return self.c.post("/f/%s/submit" % self.form, {"csrf": token})

    def submit_ok(self):
        r = self.submit()
        assert r.status == 303 and r.location == "/f/%s/done" % self.form, "submit: %s" % why(r)
        return self.receipt()

    def receipt(self):
        d = self.c.get("/f/%s/done" % self.form)
        assert d.status == 200, "GET done: %s" % why(d)
        assert "Your response has been recorded" in lib.text_of(d.text), "done page wording"
        code = element_text(d.text, "receipt-code")
        assert code, "no id=receipt-code on the done page"
        return code


# A complete, valid answer set for test-journey-types, page by page.
TYPES_OK = {
    "typed": {"code": "AB12", "nickname": "Jo", "story": "Line one\r\nline two",
              "mail": "jo@example.org", "spend": "250", "hours": "37", "secret_number": "-3"},
    "dates": {"started__day": "29", "started__month": "2", "started__year": "2024",
              "window__day": "5", "window__month": "06", "window__year": "2025"},
    "picks": [("colour", "other"), ("colour__other", "Teal"), ("icb", "QE1"), ("fruit", "pear"),
              ("aids", "walks"), ("aids", "music"), ("secret_pick", "no")],
    "lists": [("region", "Y56"), ("role", "gp_partner"), ("groups", "gp"), ("groups", "nursing"),
              ("org", "icb")],
    "scale-and-consent": {"feel__valued": "3", "feel__rested": "1", "agree": "yes"},
}
TYPES_PAGES = ["typed", "dates", "picks", "lists", "scale-and-consent"]


def types_walk(r, upto=None, override=None):
    """Starts and answers test-journey-types up to (not including) page upto."""
    r.start(expect="typed")
    for i, p in enumerate(TYPES_PAGES):
        if p == upto:
            return
        fields = (override or {}).get(p, TYPES_OK[p])
        r.step(p, fields, TYPES_PAGES[i + 1] if i + 1 < len(TYPES_PAGES) else "check")


# ------------------------------------------------------------------ types

def test_text_max_length_pattern_and_required():
    r = Resp(TYPES)
    r.start(expect="typed")
    base = dict(TYPES_OK["typed"])
    # required and missing
    p = r.errors("typed", dict(base, code="  "))
    assert "code" in error_summary(p.text), "no summary link to #code"
    assert field_error(p.text, "code") and "Your team code" in field_error(p.text, "code"), \
        "required message: %r" % field_error(p.text, "code")
    # pattern: the whole answer must match; pattern_message is shown
    for bad in ("ab12", "AB123", "xAB12", "AB1"):
        p = r.errors("typed", dict(base, code=bad))
        assert "Enter the team code as 2 capital letters then 2 numbers, like AB12" in \
            (field_error(p.text, "code") or ""), "pattern %r: %r" % (bad, field_error(p.text, "code"))
        assert lib.input_value(p.text, "code") == bad, "typed code not kept"
    # max_length, in characters (code points), not bytes
    p = r.errors("typed", dict(base, nickname="abcdef"))
    assert "5 characters or fewer" in (field_error(p.text, "nickname") or ""), \
        "max_length message: %r" % field_error(p.text, "nickname")
    p = r.errors("typed", dict(base, story="x" * 41))
    assert "40 characters or fewer" in (field_error(p.text, "story") or ""), \
        "textarea max_length: %r" % field_error(p.text, "story")
    assert lib.textarea_value(p.text, "story") == "x" * 41, "typed story not kept"
    # a text answer is one line
    p = r.errors("typed", dict(base, nickname="a\r\nb"))
    assert "one line" in (field_error(p.text, "nickname") or ""), "newline in text accepted"
    # email
    for bad in ("jo", "jo@", "@example.org", "jo@example", "jo@@example.org", "jo smith@example.org"):
        p = r.errors("typed", dict(base, mail=bad))
        assert "correct format" in (field_error(p.text, "mail") or ""), "email %r: %r" % (
            bad, field_error(p.text, "mail"))
    # at the limits: 5 and 40 code points of 2-byte characters pass
    r.step("typed", dict(base, nickname="\u00e9" * 5, story="\u00e9" * 40), "dates")
    g = r.get("typed")
    assert lib.input_value(g.text, "nickname") == "\u00e9" * 5, "nickname not kept in the draft"


def test_messages_quote_the_longest_labels_whole():
    """A message quoting a 500-character label (1500 bytes of UTF-8) or a
    2000-character option label is neither cut nor left as broken UTF-8
    (valid.c cut its messages at 1024 bytes, inside a character)."""
    form = "test-journey-long"
    with open(os.path.join(lib.ROOT, "tests", "forms", form + ".json"), encoding="utf-8") as f:
        qs = json.load(f)["pages"][0]["questions"]
    label, excl = qs[0]["label"], qs[1]["options"][1]["label"]
    r = Resp(form)
    r.start(expect="only")
    for fields, qid, want in (({"long_text": ""}, "long_text", label),
                              ({"long_text": "x", "long_pick": ["a", "none"]}, "long_pick", excl)):
        p = r.post("only", fields)
        assert p.status == 200, "POST: %s" % why(p)
        try:
            p.body.decode("utf-8", errors="strict")
        except UnicodeDecodeError as e:
            raise AssertionError("the error page is not valid UTF-8: %s" % e)
        msg = field_error(p.text, qid) or ""
        assert want in msg, "%s: message cut: %d characters" % (qid, len(msg))
        assert want in summary_text(p.text), "%s: summary message cut" % qid
    r.step("only", {"long_text": "x", "long_pick": "none"}, "check")


def test_number_range_prefix_suffix():
    r = Resp(TYPES)
    r.start(expect="typed")
    base = dict(TYPES_OK["typed"])
    g = r.get("typed")
    assert re.search(r"nhsuk-input-wrapper__prefix[^>]*>\s*\u00a3\s*<", g.text), "no \u00a3 prefix"
    assert re.search(r"nhsuk-input-wrapper__suffix[^>]*>\s*hours\s*<", g.text), "no 'hours' suffix"
    for bad in ("81", "0", "-1", "3.5", "37abc", "0x10", "+3", "1e1", "99999999999999999999999"):
        p = r.errors("typed", dict(base, hours=bad))
        assert field_error(p.text, "hours") == "Error: Enter a number of hours between 1 and 80" or \
            "Enter a number of hours between 1 and 80" in (field_error(p.text, "hours") or ""), \
            "hours=%r: %r" % (bad, field_error(p.text, "hours"))
        assert lib.input_value(p.text, "hours") == bad, "typed hours not kept"
    p = r.errors("typed", dict(base, hours=""))
    assert "Enter a number of hours" in (field_error(p.text, "hours") or ""), "missing hours message"
    p = r.errors("typed", dict(base, spend="1001"))
    assert "between 0 and 1000" in (field_error(p.text, "spend") or ""), "spend range message"
    p = r.errors("typed", dict(base, secret_number="-6"))
    assert "between -5 and 5" in (field_error(p.text, "secret_number") or ""), "negative range message"
    r.step("typed", dict(base, hours="80", spend="0", secret_number="-5"), "dates")
    r.step("typed", dict(base, hours=" 1 "), "dates")
    g = r.get("typed")
    assert lib.input_value(g.text, "hours") == "1", "hours kept as %r" % lib.input_value(g.text, "hours")


def test_date_boxes_partial_impossible_min_max_today():
    r = Resp(TYPES)
    types_walk(r, upto="dates")
    today = time.gmtime()
    base = dict(TYPES_OK["dates"])

    def date_err(fields, qid="started"):
        p = r.errors("dates", dict(base, **fields))
        return field_error(p.text, qid) or "", p
    msg, p = date_err({"started__day": "", "started__month": "", "started__year": ""})
    assert "Enter a date" in msg, "missing required date: %r" % msg
    msg, p = date_err({"started__year": ""})
    assert "must include a year" in msg, "partial date: %r" % msg
    assert "started__year" in error_summary(p.text), "summary should link the missing box: %r" % error_summary(p.text)
    assert lib.input_value(p.text, "started__day") == "29", "typed day not kept"
    msg, _ = date_err({"started__day": ""})
    assert "must include a day" in msg, "partial date: %r" % msg
    for d, m, y in (("31", "2", "2024"), ("29", "2", "2023"), ("31", "4", "2020"), ("0", "1", "2020"),
                    ("1", "13", "2020"), ("x", "1", "2020"), ("1", "1", "20")):
        msg, _ = date_err({"started__day": d, "started__month": m, "started__year": y})
        assert "real date" in msg, "%s/%s/%s: %r" % (d, m, y, msg)
    msg, _ = date_err({"started__day": "31", "started__month": "12", "started__year": "1999"})
    assert "on or after 1 January 2000" in msg, "before min: %r" % msg
    msg, _ = date_err({"started__day": "1", "started__month": "1", "started__year": str(today.tm_year + 1)})
    assert "today or in the past" in msg, "after today: %r" % msg
    msg, _ = date_err({"review__day": "1", "review__month": "1", "review__year": "2020"}, "review")
    assert "today or in the future" in msg, "review in the past: %r" % msg
    msg, _ = date_err({"window__day": "1", "window__month": "1", "window__year": "2026"}, "window")
    assert "on or before 31 December 2025" in msg, "window max: %r" % msg
    # today itself passes both "max: today" and "min: today"
    t = {"started__day": str(today.tm_mday), "started__month": str(today.tm_mon),
         "started__year": str(today.tm_year),
         "review__day": str(today.tm_mday), "review__month": str(today.tm_mon),
         "review__year": str(today.tm_year)}
    r.step("dates", dict(base, **t), "picks")
    r.step("dates", base, "picks")


def test_choice_other_and_select_other():
    r = Resp(TYPES)
    types_walk(r, upto="picks")
    base = list(TYPES_OK["picks"])

    def without(*names):
        return [(k, v) for k, v in base if k not in names]
    p = r.errors("picks", without("colour", "colour__other"))
    assert "colour" in error_summary(p.text), "required choice: %r" % error_summary(p.text)
    p = r.errors("picks", without("colour__other"))
    assert "colour__other" in error_summary(p.text), "other without text: %r" % error_summary(p.text)
    assert "Other" in (field_error(p.text, "colour__other") or ""), "other message %r" % field_error(p.text, "colour__other")
    p = r.errors("picks", without("colour", "colour__other") + [("colour", "green")])
    assert "from the list" in (field_error(p.text, "colour") or ""), "unknown option accepted"
    p = r.errors("picks", without("fruit") + [("fruit", "other")])
    assert "fruit__other" in error_summary(p.text), "select other without text"
    # the "other" box is shown (JS off) and keeps what was typed
    p = r.errors("picks", without("colour", "colour__other", "fruit") +
                 [("colour", "red"), ("colour__other", "ignored"), ("fruit", "kiwi")])
    assert "fruit" in error_summary(p.text), "unknown select option accepted"
    assert any(a.get("name") == "fruit__other" for a in lib.tags(p.text, "input")), "no fruit__other box"
    # "other" chosen but the text given for a non-other answer is discarded
    r.step("picks", without("fruit") + [("fruit", "apple"), ("fruit__other", "Kiwi" + lib.unique())], "lists")
    g = r.get("picks")
    assert not lib.input_value(g.text, "fruit__other"), "an other text was kept for a non-other answer"
    assert lib.input_value(g.text, "colour__other") == "Teal", "other text not kept"
    assert lib.checked(g.text, "colour", "other"), "colour=other not kept"


def test_select_icbs_grouped_by_region_42():
    icbs = {}
    with open(os.path.join(lib.ROOT, "sql", "reference", "icbs.csv"), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["valid_from"] <= "2026-03-31" and (not row["valid_to"] or row["valid_to"] >= "2026-03-31"):
                icbs[row["icb_code"]] = row
    regions = {}
    with open(os.path.join(lib.ROOT, "sql", "reference", "regions.csv"), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            regions[row["region_code"]] = row["name"]
    assert len(icbs) == 42, "the reference list has %d ICBs valid on 2026-03-31" % len(icbs)
    r = Resp(TYPES)
    types_walk(r, upto="picks")
    g = r.get("picks")
    check_icb_select(g.text, icbs, regions)
    # the study forms (reference_date 2026-03-31) offer the same 42
    s = Resp("staff-wellbeing")
    s.start(expect="before-you-start")
    s.step("before-you-start", {"consent": "yes"}, "about-your-work")
    check_icb_select(s.get("about-your-work").text, icbs, regions)
    # an ICB not valid on the reference date is refused
    base = [(k, v) for k, v in TYPES_OK["picks"] if k != "icb"]
    p = r.errors("picks", base + [("icb", "S1Y5D")])
    assert "icb" in error_summary(p.text), "a post-merger ICB was accepted"


def check_icb_select(page, icbs, regions):
    m = re.search(r"<select\b[^>]*name=\"icb\"[^>]*>(.*?)</select>", page, re.S)
    assert m, "no <select name=icb>"
    groups = re.findall(r"<optgroup\b([^>]*)>(.*?)</optgroup>", m.group(1), re.S)
    assert len(groups) == 7, "%d optgroups, expected 7 regions" % len(groups)
    seen = {}
    for attrs, body in groups:
        label = lib.attrs(attrs).get("label")
        assert label in regions.values(), "optgroup label %r is not a region name" % label
        for o in lib.tags(body, "option"):
            seen[o["value"]] = label
    assert set(seen) == set(icbs), "ICB options differ: extra %r, missing %r" % (
        sorted(set(seen) - set(icbs)), sorted(set(icbs) - set(seen)))
    for code, label in seen.items():
        assert regions[icbs[code]["region_code"]] == label, "%s under %r" % (code, label)
    # outside optgroups: only the empty prompt
    outside = re.sub(r"<optgroup\b.*?</optgroup>", "", m.group(1), flags=re.S)
    assert [o.get("value") for o in lib.tags(outside, "option")] == [""], "options outside the groups"


def test_choices_min_max_exclusive():
    r = Resp(TYPES)
    types_walk(r, upto="picks")
    base = [(k, v) for k, v in TYPES_OK["picks"] if k != "aids"]
    p = r.errors("picks", base + [("aids", "walks")])
    assert "at least 2" in (field_error(p.text, "aids") or ""), "min_selected: %r" % field_error(p.text, "aids")
    assert lib.checked(p.text, "aids", "walks"), "ticked box not kept"
    p = r.errors("picks", base + [("aids", v) for v in ("walks", "music", "books", "games")])
    assert "no more than 3" in (field_error(p.text, "aids") or ""), "max_selected: %r" % field_error(p.text, "aids")
    p = r.errors("picks", base + [("aids", "walks"), ("aids", "music"), ("aids", "nothing")])
    msg = field_error(p.text, "aids") or ""
    assert "None of these" in msg and "on its own" in msg, "exclusive: %r" % msg
    p = r.errors("picks", base + [("aids", "walks"), ("aids", "bikes")])
    assert "from the list" in (field_error(p.text, "aids") or ""), "unknown box accepted"
    # the same box twice, or more boxes than options: a malformed request
    for extra in ([("aids", "walks"), ("aids", "walks")], [("aids", "walks")] * 6):
        x = r.post("picks", base + extra)
        assert x.status == 400, "repeated checkbox: %s" % why(x)
    # the exclusive answer alone is an answer, whatever min_selected says
    r.step("picks", base + [("aids", "nothing")], "lists")
    r.step("picks", base + [("aids", "walks"), ("aids", "music"), ("aids", "books")], "lists")
    # optional choices: nothing ticked is fine
    r2 = Resp(TYPES)
    types_walk(r2, upto="picks")
    r2.step("picks", base, "lists")


def test_scale_consent_info_required():
    r = Resp(TYPES)
    types_walk(r, upto="scale-and-consent")
    g = r.get("scale-and-consent")
    assert "Nearly done. Tell us how far you agree." in lib.text_of(g.text), "info text not shown"
    assert not any(a.get("name") == "about" for a in lib.tags(g.text, "input")), "info has an input"
    p = r.errors("scale-and-consent", {"feel__valued": "3"})
    hrefs = error_summary(p.text)
    assert any(h.startswith("feel__rested") for h in hrefs), "missing statement not linked: %r" % hrefs
    assert not any(h.startswith("feel__valued") for h in hrefs), "answered statement flagged: %r" % hrefs
    assert "agree" in hrefs, "consent not required: %r" % hrefs
    assert lib.checked(p.text, "feel__valued", "3"), "scale answer not kept"
    p = r.errors("scale-and-consent", {"feel__valued": "4", "feel__rested": "1", "agree": "yes"})
    assert any(h.startswith("feel__valued") for h in error_summary(p.text)), "scale point 4 accepted"
    p = r.errors("scale-and-consent", {"feel__valued": "3", "feel__rested": "1", "agree": "no"})
    assert "agree" in error_summary(p.text), "consent=no accepted"
    r.step("scale-and-consent", TYPES_OK["scale-and-consent"], "check")


def test_reference_lists_offer_their_codes():

    def codes(name, key):
        with open(os.path.join(lib.ROOT, "sql", "reference", name), encoding="utf-8") as f:
            return [row[key] for row in csv.DictReader(f)]
    r = Resp(TYPES)
    types_walk(r, upto="lists")
    g = r.get("lists")
    radios = [a["value"] for a in lib.tags(g.text, "input") if a.get("name") == "region"]
    assert sorted(radios) == sorted(codes("regions.csv", "region_code")), "region options %r" % radios
    boxes = [a["value"] for a in lib.tags(g.text, "input") if a.get("name") == "groups"]
    assert sorted(boxes) == sorted(codes("staff_groups.csv", "staff_group")), "staff group options %r" % boxes
    for name, file, key in (("role", "staff_roles.csv", "role_code"),
                            ("org", "organisation_types.csv", "org_type_code")):
        m = re.search(r"<select\b[^>]*name=\"%s\"[^>]*>(.*?)</select>" % name, g.text, re.S)
        assert m, "no select %s" % name
        got = [o["value"] for o in lib.tags(m.group(1), "option") if o.get("value")]
        assert sorted(got) == sorted(codes(file, key)), "%s options %r" % (name, got)
    p = r.errors("lists", [("region", "Y99"), ("role", "gp_partner")])
    assert "region" in error_summary(p.text), "unknown region code accepted"


def test_types_round_trip_to_row_and_export():
    """Every type's answer reaches pcs.response as forms.md and privacy.md
    say: clear values as typed, sealed ones as boxes that decrypt to what
    was typed, dimensions copied out; an info item stores nothing."""
    last = max_response_id()
    r = Resp(TYPES)
    types_walk(r)
    chk = r.check_page()
    text = lib.text_of(chk.text)
    for want in ("AB12", "jo@example.org", "29 February 2024", "Teal", "Lancashire and South Cumbria",
                 "Pear", "Walks", "Music", "London", "GP partner"):
        assert want in text, "check page lacks %r" % want
    r.submit_ok()
    rows = new_rows(last)
    assert len(rows) == 1, "%d rows" % len(rows)
    row = rows[0]
    a = row["answers"]
    assert row["form_id"] == TYPES and row["form_version"] == "3", "form/version %r" % row
    clear = {"spend": 250, "hours": 37, "started": "2024-02-29", "window": "2025-06-05",
             "colour": "other", "icb": "QE1", "fruit": "pear", "aids": ["walks", "music"],
             "region": "Y56", "role": "gp_partner", "groups": ["gp", "nursing"], "org": "icb",
             "feel__valued": "3", "feel__rested": "1", "agree": "yes"}
    for k, v in clear.items():
        assert a.get(k) == v, "answers[%r] = %r, expected %r" % (k, a.get(k), v)
    sealed = {"code": "AB12", "nickname": "Jo", "story": "Line one\nline two", "mail": "jo@example.org",
              "colour__other": "Teal", "secret_number": "-3", "secret_pick": "no"}
    for k in sealed:
        assert isinstance(a.get(k), dict) and set(a[k]) == {"sealed"}, \
            "answers[%r] is not sealed: %r" % (k, a.get(k))
    assert "about" not in a and "review" not in a, "info or an unanswered question stored: %r" % sorted(a)
    assert set(a) == set(clear) | set(sealed), "unexpected keys %r" % sorted(set(a) - set(clear) - set(sealed))
    assert (row["icb"], row["region"], row["role"], row["staff_group"], row["org_type"]) == \
        ("QE1", "Y62", "gp_partner", "gp", "icb"), "dimension columns %r" % row
    # export + decrypt: the sealed cells open to what was typed
    cells = export_decrypted(TYPES)
    mine = [c for c in cells if c.get("code") == "AB12" and c.get("nickname") == "Jo"]
    assert mine, "the response is not in the decrypted export"
    c = mine[-1]
    for k, v in sealed.items():
        assert c[k] == csv_cell(v), "decrypted %s = %r, typed %r" % (k, c[k], v)
    assert c["aids"] == "walks;music" and c["hours"] == "37", "clear cells %r" % c


def csv_cell(v):
    """What the export writes for text v (http-api.md: formula prefix)."""
    return "'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v


def export_decrypted(form):
    """`pcsurvey export` then `pcsurvey decrypt`: rows as dicts."""
    with tempfile.TemporaryDirectory() as d:
        exp = os.path.join(d, "export.csv")
        dec = os.path.join(d, "clear.csv")
        cli("export", "--form", form, "--out", exp, "--config", CONF)
        cli("decrypt", "--secret-key", os.path.join(lib.VAR, "custodian", "research.sec"), exp, "--out", dec)
        with open(dec, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(io.StringIO(f.read())))


# ------------------------------------------------------------------ pages and conditions

def test_page_n_of_m_counts_only_pages_shown_so_far():
    r = Resp(COND)
    r.start(expect="first")
    assert page_of(r.get("first").text) == (1, 2), "before any answer: %r" % (page_of(r.get("first").text),)
    r.step("first", {"has_pet": "no"}, "last")
    assert page_of(r.get("last").text) == (2, 2), "no pet: last page %r" % (page_of(r.get("last").text),)
    r.step("first", {"has_pet": "yes", "pet_name": "Rex"}, "pet-page")
    assert page_of(r.get("pet-page").text) == (2, 3), "pet: %r" % (page_of(r.get("pet-page").text),)
    assert page_of(r.get("last").text) == (3, 3), "pet: last %r" % (page_of(r.get("last").text),)
    r.step("first", {"has_pet": "yes", "pet_name": "Rex", "pets": "4"}, "pet-page")
    assert page_of(r.get("first").text) == (1, 4), "4 pets: %r" % (page_of(r.get("first").text),)
    r.step("pet-page", {"kind": "cat"}, "many-page")
    assert page_of(r.get("many-page").text) == (3, 4), "many-page %r" % (page_of(r.get("many-page").text),)


def test_back_links_follow_shown_pages():
    r = Resp(COND)
    r.start(expect="first")
    assert back_href(r.get("first").text) == "/f/" + COND, "Back from the first page"
    r.step("first", {"has_pet": "no"}, "last")
    assert back_href(r.get("last").text) == r.path("first"), "Back skips the hidden pet page"
    r.step("first", {"has_pet": "yes", "pet_name": "Rex"}, "pet-page")
    assert back_href(r.get("pet-page").text) == r.path("first"), "Back from pet-page"
    assert back_href(r.get("last").text) == r.path("pet-page"), "Back to the now shown pet page"


def test_hidden_page_not_served_and_its_answers_discarded():
    r = Resp(COND)
    r.start(expect="first")
    r.step("first", {"has_pet": "no"}, "last")
    g = r.c.get(r.path("pet-page"))
    assert g.status == 303 and g.location == r.path("last"), "GET hidden page: %s" % why(g)
    marker = lib.unique("hidden")
    p = r.post("last", {"comment": "ok"}, token=None)
    assert p.status == 303, "POST last: %s" % why(p)
    x = r.post("pet-page", {"kind": "dog", "walks": "2"}, token=r.token("last"))
    assert x.status == 303, "POST to a hidden page: %s" % why(x)
    # an answer for a question of another page is discarded too
    r.step("first", {"has_pet": "no", "walker": marker, "kind": "dog"}, "last")
    last = max_response_id()
    r.submit_ok()
    rows = new_rows(last)
    assert len(rows) == 1, "%d rows" % len(rows)
    assert set(rows[0]["answers"]) == {"has_pet", "comment"}, "stored %r" % rows[0]["answers"]


def test_same_page_condition_hint_and_hidden_answer_discarded():
    r = Resp(COND)
    r.start(expect="first")
    g = r.get("first")
    hint = element_text(g.text, "pet_name-if")
    assert hint and hint.startswith("Answer this only if") and "Yes" in hint and "Do you have a pet?" in hint, \
        "same-page hint %r" % hint
    inp = [a for a in lib.tags(g.text, "input") if a.get("name") == "pet_name"][0]
    assert "pet_name-if" in inp.get("aria-describedby", ""), "hint not tied to the input"
    assert "Thank you for telling us about your pet." in lib.text_of(g.text), "conditional info not shown (JS off)"
    assert "3 or more" in (element_text(g.text, "many_why-if") or ""), "at_least hint"
    # condition true: the same-page question is required
    p = r.errors("first", {"has_pet": "yes", "pet_name": ""})
    assert "pet_name" in error_summary(p.text), "pet_name required when shown"
    # condition false: not required, and what was typed is discarded
    m1, m2 = lib.unique("petname"), lib.unique("why")
    r.step("first", {"has_pet": "no", "pet_name": m1, "pets": "1", "many_why": m2}, "last")
    g = r.get("first")
    assert not lib.input_value(g.text, "pet_name"), "hidden answer kept in the draft"
    assert not lib.textarea_value(g.text, "many_why"), "hidden answer kept in the draft"
    last = max_response_id()
    r.submit_ok()
    a = new_rows(last)[0]["answers"]
    assert a == {"has_pet": "no", "pets": 1}, "stored %r" % a
    dump = lib.pg_dump()
    assert m1 not in dump and m2 not in dump, "a hidden answer reached the database"


def test_changed_answer_drops_what_it_hides():
    r = Resp(COND)
    r.start(expect="first")
    marker = lib.unique("walker")
    r.step("first", {"has_pet": "yes", "pet_name": "Rex", "pets": "1"}, "pet-page")
    g = r.get("pet-page")
    # "walks" depends on "kind" on the same page: shown with its hint
    assert element_text(g.text, "walks-if"), "same-page hint on pet-page"
    r.step("pet-page", {"kind": "dog", "walks": "2"}, "last")
    r.step("last", {"walker": marker, "comment": "fine"}, "check")
    chk = lib.text_of(r.check_page().text)
    assert marker in chk and "Dog" in chk, "check page lacks pet answers"
    r.step("first", {"has_pet": "no", "pets": "1"}, "last")
    chk = r.check_page()
    t = lib.text_of(chk.text)
    assert marker not in t and "Dog" not in t and "Rex" not in t, "check page shows hidden answers"
    last = max_response_id()
    r.submit_ok()
    a = new_rows(last)[0]["answers"]
    assert set(a) == {"has_pet", "pets", "comment"}, "stored %r" % sorted(a)
    assert marker not in lib.pg_dump(), "a hidden answer reached the database"


def test_same_page_condition_already_false_by_an_earlier_page_not_shown():
    """walker_note: all(kind = dog [earlier page], walker answered [same
    page]).  Once kind is not dog no answer on the page can make it hold,
    so it is not shown at all (it was shown with its hint before)."""
    def names(page):
        return {a.get("name") for a in lib.tags(page, "input")}
    r = Resp(COND)
    r.start(expect="first")
    r.step("first", {"has_pet": "no"}, "last")
    g = r.get("last")
    assert "walker" not in names(g.text) and "walker_note" not in names(g.text), \
        "questions of a false condition shown: %r" % names(g.text)
    r.step("first", {"has_pet": "yes", "pet_name": "Rex"}, "pet-page")
    r.step("pet-page", {"kind": "cat"}, "last")
    assert "walker_note" not in names(r.get("last").text), "walker_note shown for a cat"
    r.step("pet-page", {"kind": "dog"}, "last")
    g = r.get("last")
    assert {"walker", "walker_note"} <= names(g.text), "dog: %r" % names(g.text)
    hint = element_text(g.text, "walker_note-if") or ""
    assert hint.startswith("Answer this only if"), "no same-page hint: %r" % hint
    # posted for a question that is not shown: discarded
    marker = lib.unique("wn")
    r.step("pet-page", {"kind": "cat"}, "last")
    r.step("last", {"walker": "Sam", "walker_note": marker}, "check")
    last = max_response_id()
    r.submit_ok()
    a = new_rows(last)[0]["answers"]
    assert "walker_note" not in a and "walker" not in a, "stored %r" % sorted(a)


def test_form_privacy_notice_linked_from_every_page():
    """forms.md: privacy_notice is "shown on the start page, linked from
    every page".  A question page must link to a page showing this form's
    own notice (the footer's /privacy is the site's general notice)."""
    r = Resp(COND)
    r.start(expect="first")
    with open(os.path.join(lib.ROOT, "tests", "forms", COND + ".json"), encoding="utf-8") as f:
        notice = json.load(f)["privacy_notice"]
    g = r.get("first")
    hrefs = sorted(set(lib.local_path(a.get("href", "")) for a in lib.tags(g.text, "a")
                       if a.get("href", "").startswith("/") or a.get("href", "").startswith(lib.BASE)))
    for h in hrefs:
        x = r.c.get(h)
        if x.status == 200 and notice in lib.text_of(x.text) and "Privacy" in lib.text_of(x.text):
            if h.split("#")[0] != r.path() or "#privacy" in h:
                return
    raise lib.Skip("reported, page.c: question pages link only /privacy (the general notice), "
                   "not the form's privacy_notice (forms.md)")


# ------------------------------------------------------------------ drafts

def test_draft_saved_per_page_encrypted_at_rest():
    r = Resp(TYPES)
    r.start(expect="typed")
    assert r.draft, "no new pcs.draft row at start"
    box0 = draft_box(r.draft)
    marker = lib.unique("Draftsecret")
    r.step("typed", dict(TYPES_OK["typed"], story=marker, nickname="Zz"), "dates")
    box1 = draft_box(r.draft)
    assert box1 and box1 != box0, "the page was not saved to pcs.draft"
    assert marker.encode().hex() not in box1, "typed text in pcs.draft.box in clear"
    assert b"story".hex() not in box1 and b"AB12".hex() not in box1, "field names or values in clear"
    assert_not_in_db(marker)
    expires = lib.sql_value("SELECT expires - current_date FROM pcs.draft WHERE id_hash = '\\x%s'" % r.draft)
    assert expires == "30", "draft expires in %s days, draft_days is 30" % expires
    # read back: the page is pre-filled from the draft
    g = r.get("typed")
    assert lib.textarea_value(g.text, "story") == marker, "draft not read back"


def test_draft_expires_then_gone():
    r = Resp(COND)
    r.start(expect="first")
    r.step("first", {"has_pet": "no"}, "last")
    save = r.post("last", {"comment": "later"}, action="save")
    assert save.status == 200, "save: %s" % why(save)
    code = element_text(save.text, "resume-code")
    assert code, "no resume code"
    token = r.token("last")
    lib.sql("UPDATE pcs.draft SET expires = current_date - 1 WHERE id_hash = '\\x%s'" % r.draft)
    g = r.c.get(r.path("last"))
    assert g.status == 303 and g.location == r.path(), "GET with an expired draft: %s" % why(g)
    p = r.post("last", {"comment": "x"}, token=token)
    assert p.status == 303 and p.location == r.path(), "POST with an expired draft: %s" % why(p)
    s = r.submit(token=token)
    assert s.status == 303 and s.location == r.path(), "submit with an expired draft: %s" % why(s)
    other = Client()
    g = other.get("/f/%s/resume" % COND)
    x = other.post("/f/%s/resume" % COND, {"csrf": csrf(g.text), "code": code})
    assert x.status == 200 and "could not find saved answers" in lib.text_of(x.text), \
        "resume of an expired draft: %s" % why(x)
    rc, out, err = cli("purge", "--config", CONF)
    assert lib.count("pcs.draft", "id_hash = '\\x%s'" % r.draft) == 0, "purge left the expired draft"
    # start again works
    r2 = Resp(COND, r.c)
    r2.start(expect="first")


def test_save_resume_on_another_device_check_change_submit():
    a = Resp(COND)
    a.start(expect="first")
    a.step("first", {"has_pet": "yes", "pet_name": "Rex", "pets": "1"}, "pet-page")
    marker = lib.unique("sv")
    # "Save and come back later" saves what is valid on the page, even with errors elsewhere
    s = a.post("pet-page", {"kind": "dog", "walks": "2"}, action="save")
    assert s.status == 200, "save: %s" % why(s)
    code = element_text(s.text, "resume-code")
    assert code and re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code), "resume code %r" % code
    assert "no-store" in s.header("Cache-Control", ""), "resume code page cacheable"
    assert code.replace("-", "") not in lib.log_text(), "the resume code is in a log"
    # another device: a fresh cookie jar
    b = Resp(COND)
    g = b.c.get("/f/%s/resume" % COND)
    assert g.status == 200 and csrf(g.text), "GET resume: %s" % why(g)
    bad = b.c.post("/f/%s/resume" % COND, {"csrf": csrf(g.text), "code": "AAAA-BBBB-CCCC-DDDD"})
    assert bad.status == 200 and error_summary(bad.text) is not None, "wrong resume code: %s" % why(bad)
    nocsrf = b.c.post("/f/%s/resume" % COND, {"code": code})
    assert nocsrf.status == 403, "resume without csrf: %d" % nocsrf.status
    x = b.c.post("/f/%s/resume" % COND, {"csrf": csrf(g.text), "code": " " + code.lower().replace("-", " ") + " "})
    assert x.status == 303, "resume: %s" % why(x)
    assert b.c.cookie("pcs_draft"), "resume set no draft cookie"
    g = b.c.get(x.location)
    assert g.status == 200, "page after resume: %s" % why(g)
    pg = b.get("pet-page")
    assert lib.checked(pg.text, "kind", "dog") and lib.input_value(pg.text, "walks") == "2", \
        "saved answers not on the other device"
    b.step("last", {"walker": marker}, "check")
    chk = b.check_page()
    t = lib.text_of(chk.text)
    assert "Rex" in t and marker in t, "check page lacks answers"
    changes = [lib.local_path(html.unescape(h)) for h in
               re.findall(r"<a\b[^>]*href=\"([^\"]*)\"[^>]*>\s*Change\b", chk.text)]
    for page in ("first", "pet-page", "last"):
        assert any(h.split("#")[0] == b.path(page) for h in changes), \
            "no Change link to %s: %r" % (page, changes)
    # Change: back to the page, answer again, then on to the next page
    b.step("pet-page", {"kind": "cat"}, "last")
    t = lib.text_of(b.check_page().text)
    assert "Cat" in t and "Dog" not in t, "changed answer not on the check page"
    last = max_response_id()
    b.submit_ok()
    rows = new_rows(last)
    assert len(rows) == 1, "%d rows" % len(rows)
    assert rows[0]["answers"]["kind"] == "cat" and "walks" not in rows[0]["answers"], "stored %r" % rows[0]["answers"]
    # the first device's draft was the same draft: submitted now
    g = a.c.get(a.path("last"))
    assert g.status == 303 and g.location == "/f/%s/done" % COND, \
        "the first device after the submit: %s" % why(g)


# ------------------------------------------------------------------ submit

def parallel(n, fn):
    """Runs fn(i) in n threads started together; their results in order."""
    out = [None] * n
    gate = threading.Barrier(n)

    def run(i):
        try:
            gate.wait(10)
            out[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            out[i] = e
    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    return out


def cond_ready(r):
    r.start(expect="first")
    r.step("first", {"has_pet": "no"}, "last")
    r.step("last", {"comment": lib.unique("c")}, "check")


def test_submit_back_button_and_retry_make_one_row():
    r = Resp(COND)
    cond_ready(r)
    token = csrf(r.check_page().text)
    last = max_response_id()
    first = r.submit(token)
    assert first.status == 303 and first.location == "/f/%s/done" % COND, "submit: %s" % why(first)
    code = r.receipt()
    # back button: the draft went with the submit; its pages lead to the
    # confirmation, and the old form posts again
    for path in ("/f/%s/check" % COND, r.path("last")):
        back = r.c.get(path)
        assert back.status == 303 and back.location == "/f/%s/done" % COND, \
            "GET %s after submit: %s" % (path, why(back))
    p = r.post("last", {"comment": "again"}, token=token)
    assert p.status == 303 and p.location == "/f/%s/done" % COND, "page POST after submit: %s" % why(p)
    again = r.submit(token)
    assert again.status == 303 and again.location == "/f/%s/done" % COND, "resubmit: %s" % why(again)
    assert r.receipt() == code, "a second receipt code"
    # retry after a "timeout": same cookie, a new connection, same body
    retry = Client()
    retry.jar = dict(r.c.jar)
    x = retry.post("/f/%s/submit" % COND, {"csrf": token})
    assert x.status == 303 and x.location == "/f/%s/done" % COND, "retry: %s" % why(x)
    assert len(new_rows(last)) == 1, "more than one row for one draft"


def test_parallel_submits_of_one_draft_one_row():
    n = 8
    for form in (COND, ONCE):
        r = Resp(form)
        if form == COND:
            cond_ready(r)
        else:
            r.start(expect="who")
            r.step("who", {"staff_no": lib.unique("P")}, "what")
            r.step("what", {"view": "yes"}, "check")
        token = csrf(r.check_page().text)
        last = max_response_id()

        def go(i):
            c = Client(burst=True)
            c.jar = dict(r.c.jar)
            s = c.post("/f/%s/submit" % form, {"csrf": token})
            d = c.get("/f/%s/done" % form)
            return s.status, s.location, d.status, element_text(d.text, "receipt-code")
        res = parallel(n, go)
        for x in res:
            assert not isinstance(x, Exception), "%s: a thread failed: %r" % (form, x)
        assert all(x[0] == 303 and x[1] == "/f/%s/done" % form for x in res), \
            "%s: parallel submits answered %r" % (form, [(x[0], x[1]) for x in res])
        assert all(x[2] == 200 for x in res), "%s: done pages %r" % (form, [x[2] for x in res])
        codes = set(x[3] for x in res)
        assert len(codes) == 1 and None not in codes, "%s: receipt codes %r" % (form, codes)
        rows = new_rows(last)
        assert len(rows) == 1, "%s: %d rows from %d parallel submits" % (form, len(rows), n)


def test_crafted_submit_with_missing_answers_goes_to_first_missing_page():
    r = Resp(TYPES)
    types_walk(r, upto="picks")
    last = max_response_id()
    token = r.token("picks")
    s = r.submit(token)
    assert s.status == 303 and s.location == r.path("picks"), "submit with picks missing: %s" % why(s)
    assert max_response_id() == last, "a row was stored"
    # a required question hidden on its page is not missing
    c = Resp(COND)
    c.start(expect="first")
    c.step("first", {"has_pet": "no"}, "last")
    s = c.submit(c.token("last"))
    assert s.status == 303 and s.location == "/f/%s/done" % COND, "submit: %s" % why(s)


# ------------------------------------------------------------------ invitations

def invite_create(n, label):
    rc, out, err = cli("invite", "create", "--form", ICB_FORM, "--count", str(n), "--label", label,
                       "--config", CONF)
    lines = out.strip().splitlines()
    assert lines[0] == "code,link,label", "invite create header %r" % lines[0]
    assert len(lines) == n + 1, "%d codes for --count %d" % (len(lines) - 1, n)
    rows = [l.split(",") for l in lines[1:]]
    base = lib._conf_value("base_url")
    for code, link, lab in rows:
        assert link == "%s/i/%s" % (base, code), "link %r for code %r" % (link, code)
        assert lab == label, "label %r" % lab
    return [x[0] for x in rows]


def invite_status(label):
    rc, out, err = cli("invite", "status", "--form", ICB_FORM, "--config", CONF)
    lines = out.strip().splitlines()
    assert lines[0] == "label,issued,used", "invite status header %r" % lines[0]
    for l in lines[1:]:
        lab, issued, used = l.rsplit(",", 2)
        if lab == label:
            return int(issued), int(used)
    return None


def icb_answer(r, icb="QE1"):
    """Answers icb-provision with the least it needs, to the check page."""
    r.step("your-icb", {"icb": icb}, "strategy")
    r.step("strategy", {}, "commissioned")
    r.step("commissioned", {}, "spend-and-monitoring")
    r.step("spend-and-monitoring", {}, "about-this-return")
    r.step("about-this-return", {}, "check")


def test_invitation_link_one_use_and_code_never_logged():
    label = lib.unique("L")
    codes = invite_create(3, label)
    assert invite_status(label) == (3, 0), "status after create: %r" % (invite_status(label),)
    stored = lib.sql("SELECT count(*) FROM pcs.invitation WHERE label = '%s'" % label)
    assert stored == [("3",)], "invitations stored %r" % stored
    dump = lib.pg_dump()
    for c in codes:
        assert c not in dump and c.replace("-", "") not in dump, "an invitation code is stored in clear"
    code = codes[0]
    before = lib.count("pcs.draft")
    a = Resp(ICB_FORM)
    r = a.c.get("/i/" + code)
    assert r.status == 303, "GET /i/{code}: %s" % why(r)
    assert r.location == a.path("your-icb"), "/i/ went to %r" % r.location
    assert code not in (r.header("Location") or "") and code.replace("-", "") not in (r.header("Location") or ""), \
        "the code is in Location"
    assert lib.count("pcs.draft") == before + 1, "/i/{code} made no draft"
    # a second draft with the same, still unused code (another tab or person)
    b = Resp(ICB_FORM)
    r2 = b.c.get("/i/" + code.lower())
    assert r2.status == 303, "second /i/ before use: %s" % why(r2)
    icb_answer(a, "QE1")
    icb_answer(b, "QF7")
    last = max_response_id()
    a.submit_ok()
    assert invite_status(label) == (3, 1), "status after use: %r" % (invite_status(label),)
    assert lib.count("pcs.response", "id > %d AND icb = 'QE1' AND form_id = '%s'" % (last, ICB_FORM)) == 1, \
        "no row for the invitation"
    s = b.submit()
    assert s.status != 303 or s.location != b.path() + "/done", "second draft of a used code was accepted"
    assert "This invitation has already been used" in lib.text_of(s.text), "second use: %s" % why(s)
    assert len(new_rows(last)) == 1, "the second draft stored a row"
    # used and unknown codes: the same 404 page
    used = Client().get("/i/" + code)
    unknown = Client().get("/i/" + "ABCD-EFGH-JKMN-PQRS")
    junk = Client().get("/i/" + "not-a-code")
    for x, what in ((used, "used"), (unknown, "unknown"), (junk, "malformed")):
        assert x.status == 404, "%s code: %s" % (what, why(x))
        assert "This invitation link is not valid" in lib.text_of(x.text), "%s code page" % what
        assert x.cookie("pcs_draft") is None, "%s code set a draft cookie" % what
    assert used.text == unknown.text, "used and unknown codes get different pages"
    # the start page: code typed in (spaces, lower case), wrong, missing
    c = Resp(ICB_FORM)
    g = c.c.get(c.path())
    assert "Invitation code" in lib.text_of(g.text), "no code field on the start page"
    for body, what in (({}, "missing"), ({"code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"}, "wrong"), ({"code": code}, "used")):
        x = c.c.post(c.path() + "/start", dict(body, csrf=csrf(g.text)))
        assert x.status == 200 and error_summary(x.text) is not None, "%s code on the start page: %s" % (what, why(x))
        assert x.cookie("pcs_draft") is None, "%s code set a draft cookie" % what
    c.start(code=" " + codes[1].lower().replace("-", " ") + " ", expect="your-icb")
    icb_answer(c, "QOP")
    c.submit_ok()
    assert invite_status(label) == (3, 2), "status %r" % (invite_status(label),)
    logs = lib.log_text()
    for cd in codes:
        for form in (cd, cd.replace("-", ""), cd.lower()):
            assert form not in logs, "an invitation code is in a log"


def test_invitation_used_in_the_same_transaction_as_the_response():
    """A submit whose INSERT fails leaves the invitation unused; two drafts
    of one code submitted in parallel make one row."""
    label = lib.unique("T")
    codes = invite_create(2, label)
    a = Resp(ICB_FORM)
    a.start(code=codes[0], expect="your-icb")
    marker = lib.unique("QTX")
    icb_answer(a, "QKK")
    trig = "pcs_test_journey_fail"
    lib.sql("CREATE FUNCTION pcs.%s() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN IF NEW.icb = 'QKK' THEN RAISE EXCEPTION 'test'; END IF; RETURN NEW; END$$; "
            "CREATE TRIGGER %s BEFORE INSERT ON pcs.response FOR EACH ROW EXECUTE FUNCTION pcs.%s()"
            % (trig, trig, trig))
    try:
        last = max_response_id()
        s = a.submit()
        assert s.status >= 500, "submit with a failing INSERT: %s" % why(s)
        assert invite_status(label) == (2, 0), "the invitation was used without a response"
        assert max_response_id() == last, "a row was stored"
    finally:
        lib.sql("DROP TRIGGER IF EXISTS %s ON pcs.response; DROP FUNCTION IF EXISTS pcs.%s()" % (trig, trig))
    a.submit_ok()
    assert invite_status(label) == (2, 1), "status after the retry %r" % (invite_status(label),)
    # two drafts of one code, submitted at once
    drafts = []
    for i in range(4):
        d = Resp(ICB_FORM)
        d.start(code=codes[1], expect="your-icb")
        icb_answer(d, "QWE")
        drafts.append((d, csrf(d.check_page().text)))
    last = max_response_id()
    for d, _ in drafts:
        d.c.burst = True
    res = parallel(len(drafts), lambda i: drafts[i][0].submit(drafts[i][1]))
    ok = [x for x in res if not isinstance(x, Exception) and x.status == 303]
    refused = [x for x in res if not isinstance(x, Exception) and x.status != 303 and
               "This invitation has already been used" in lib.text_of(x.text)]
    assert len(ok) == 1 and len(refused) == len(drafts) - 1, \
        "parallel submits of one code: %r" % [why(x) if not isinstance(x, Exception) else x for x in res]
    assert len(new_rows(last)) == 1, "%d rows for one invitation" % len(new_rows(last))
    assert marker not in lib.log_text()


def test_invitation_to_a_closed_form():
    """A valid code of a form past its closing date: GET answers 200 "This
    survey is closed" (http-api.md: closed forms), makes no draft; POSTs 410."""
    form = "test-journey-closed-invite"
    rc, out, err = cli("invite", "create", "--form", form, "--count", "1", "--config", CONF)
    code = out.strip().splitlines()[1].split(",")[0]
    before = lib.count("pcs.draft")
    c = Client()
    x = c.get("/i/" + code)
    assert x.status == 200 and "This survey is closed" in lib.text_of(x.text), "closed form link: %s" % why(x)
    assert x.cookie("pcs_draft") is None and lib.count("pcs.draft") == before, "a draft was made"
    y = c.post("/f/%s/start" % form, {"code": code})
    assert y.status == 410, "POST start: %d" % y.status


# ------------------------------------------------------------------ one_per_person

def test_one_per_person_same_normalised_value_refused():
    base = lib.unique("Ab")
    a = Resp(ONCE)
    a.start(expect="who")
    a.step("who", {"staff_no": base + " 123"}, "what")
    a.step("what", {"view": "yes"}, "check")
    last = max_response_id()
    a.submit_ok()
    rows = new_rows(last)
    assert len(rows) == 1 and rows[0]["has_pseudonym"] == "t", "row %r" % rows
    assert set(rows[0]["answers"]["staff_no"]) == {"pseudonym"}, "staff_no stored as %r" % rows[0]["answers"]
    assert base not in lib.pg_dump(), "the pseudonym question's answer is stored in clear"
    for variant in ("  %s   123 " % base.upper(), base.lower() + "\t123", base + " 123"):
        b = Resp(ONCE)
        b.start(expect="who")
        b.step("who", {"staff_no": variant}, "what")
        b.step("what", {"view": "no"}, "check")
        n = max_response_id()
        s = b.submit()
        assert s.status == 200, "second response %r: %s" % (variant, why(s))
        assert error_summary(s.text) == ["staff_no"], "message not at the question: %r" % error_summary(s.text)
        msg = field_error(s.text, "staff_no") or ""
        assert "A response has already been recorded for this" in msg, "message %r" % msg
        assert max_response_id() == n, "a second row for %r" % variant
    # a different value is another person
    c = Resp(ONCE)
    c.start(expect="who")
    c.step("who", {"staff_no": base + " 124"}, "what")
    c.step("what", {}, "check")
    c.submit_ok()
    assert base not in lib.log_text(), "a pseudonym answer is in a log"


# ------------------------------------------------------------------ withdrawal

def test_withdraw_with_receipt_code():
    r = Resp(COND)
    cond_ready(r)
    last = max_response_id()
    code = r.submit_ok()
    rows = new_rows(last)
    assert len(rows) == 1
    rid = rows[0]["id"]
    c = Client()
    g = c.get("/withdraw")
    assert g.status == 200 and csrf(g.text), "GET /withdraw: %s" % why(g)
    x = c.post("/withdraw", {"code": code})
    assert x.status == 403, "withdraw without csrf: %d" % x.status
    wrong = c.post("/withdraw", {"csrf": csrf(g.text), "code": "ABCD-EFGH-JKMN-PQRS"})
    assert wrong.status == 200 and "We could not find a response with that code" in lib.text_of(wrong.text), \
        "wrong code: %s" % why(wrong)
    assert lib.count("pcs.response", "id = %s" % rid) == 1, "a wrong code deleted the response"
    ok = c.post("/withdraw", {"csrf": csrf(g.text), "code": code.lower().replace("-", " ")})
    assert ok.status == 200 and "Your response has been withdrawn" in lib.text_of(ok.text), \
        "withdraw: %s" % why(ok)
    assert lib.count("pcs.response", "id = %s" % rid) == 0, "the response is still there"
    again = c.post("/withdraw", {"csrf": csrf(g.text), "code": code})
    assert "We could not find a response with that code" in lib.text_of(again.text), "second withdraw"
    assert code not in lib.log_text() and code.replace("-", "") not in lib.log_text(), "receipt code in a log"
    # the done page no longer confirms a withdrawn response
    d = r.c.get("/f/%s/done" % COND)
    assert d.status != 200 or "Your response has been recorded" not in lib.text_of(d.text), \
        "done page after withdrawal"


# ------------------------------------------------------------------ closed forms

def test_closed_future_past_and_draft_status_forms():
    for name in ("closed", "future", "past"):
        form = "test-journey-" + name
        c = Client()
        g = c.get("/f/" + form)
        assert g.status == 200, "%s: GET start %d" % (form, g.status)
        assert "This survey is closed" in lib.text_of(g.text), "%s: start page does not say closed" % form
        assert not re.search(r"action=\"[^\"]*/start\"", g.text), "%s: a start form on a closed survey" % form
        idx = Client().get("/")
        assert "/f/%s\"" % form not in idx.text, "%s listed on /" % form
        before = (lib.count("pcs.draft"), max_response_id())
        for path in ("/start", "/p/only", "/submit", "/resume"):
            for body in ({}, {"csrf": "x" * 32, "view": "yes"}):
                x = c.post("/f/" + form + path, body)
                assert x.status == 410, "%s: POST %s %r: %d" % (form, path, body, x.status)
        # 410 comes before CSRF and before cross-site checks
        x = c.post("/f/%s/start" % form, {}, headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
        assert x.status == 410, "%s: cross-site POST %d" % (form, x.status)
        assert (lib.count("pcs.draft"), max_response_id()) == before, "%s: something was stored" % form
    hidden = "test-journey-hidden"
    for method, path in (("GET", ""), ("POST", "/start"), ("GET", "/p/only"), ("POST", "/submit")):
        x = Client().request(method, "/f/%s%s" % (hidden, path), body=b"" if method == "POST" else None,
                             content_type="application/x-www-form-urlencoded" if method == "POST" else None)
        assert x.status == 404, "draft-status form %s %s: %d" % (method, path, x.status)



# ------------------------------------------------------------------ CSRF

def test_csrf_page_post_refused_and_nothing_changes():
    r = Resp(COND)
    r.start(expect="first")
    r.step("first", {"has_pet": "no"}, "last")
    token = r.token("last")
    box = draft_box(r.draft)
    base = lib._conf_value("base_url")
    marker = lib.unique("csrf")
    fields = [("comment", marker)]
    cases = [
        ("no token", [], {}),
        ("wrong token", [("csrf", "0" * 32)], {}),
        ("token twice, one wrong", [("csrf", token), ("csrf", "0" * 32)], {}),
        ("other origin", [("csrf", token)], {"Origin": "https://evil.example"}),
        ("null origin", [("csrf", token)], {"Origin": "null"}),
        ("null origin, cross-site", [("csrf", token)], {"Origin": "null", "Sec-Fetch-Site": "cross-site"}),
        ("cross-site", [("csrf", token)], {"Sec-Fetch-Site": "cross-site"}),
        ("origin with another port", [("csrf", token)], {"Origin": base.rsplit(":", 1)[0] + ":1"}),
    ]
    other = Resp(COND)
    other.start(expect="first")
    cases.append(("token of another draft", [("csrf", other.token("first"))], {}))
    for what, tok, headers in cases:
        x = r.c.post(r.path("last"), tok + fields, headers=headers)
        assert x.status == 403, "%s: %s" % (what, why(x))
        assert draft_box(r.draft) == box, "%s: the draft changed" % what
    # the token in the query string instead of the body
    x = r.c.post(r.path("last") + "?csrf=" + token, fields)
    assert x.status == 403, "token in the query string: %s" % why(x)
    assert draft_box(r.draft) == box, "query-string token: the draft changed"
    # submit with a wrong token stores nothing
    last = max_response_id()
    x = r.submit(token="0" * 32)
    assert x.status == 403 and max_response_id() == last, "submit with a wrong token: %s" % why(x)
    # accepted: no Origin, our own origin, or null vouched for by Sec-Fetch-Site
    for headers in ({}, {"Origin": base}, {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
                    {"Sec-Fetch-Site": "same-origin"}):
        x = r.c.post(r.path("last"), [("csrf", token)] + fields, headers=headers)
        assert x.status == 303, "%r: %s" % (headers, why(x))
    assert marker not in lib.log_text(), "a refused answer is in a log"


def test_csrf_start_resume_withdraw_cross_site():
    for path in ("/f/%s/start" % COND, "/f/%s/resume" % COND, "/withdraw"):
        c = Client()
        g = c.get(path if path != "/f/%s/start" % COND else "/f/" + COND)
        tok = csrf(g.text)
        assert tok, "no csrf on the page before %s" % path
        before = lib.count("pcs.draft")
        for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
            x = c.post(path, {"csrf": tok, "code": "ABCD-EFGH-JKMN-PQRS"}, headers=headers)
            assert x.status == 403, "%s %r: %d" % (path, headers, x.status)
        x = c.post(path + "?csrf=" + tok, {"code": "ABCD-EFGH-JKMN-PQRS"})
        assert x.status == 403, "%s: token in the query string: %d" % (path, x.status)
        assert lib.count("pcs.draft") == before, "%s: a refused POST made a draft" % path


def test_get_never_changes_state():
    r = Resp(COND)
    r.start(expect="first")
    r.step("first", {"has_pet": "no"}, "last")
    box = draft_box(r.draft)
    snapshot = lambda: (lib.count("pcs.draft"), max_response_id(), lib.count("pcs.invitation", "used"),
                        draft_box(r.draft))
    before = snapshot()
    for path in ("/", "/f/" + COND, r.path("first"), r.path("last"), r.path("pet-page"),
                 "/f/%s/check" % COND, "/f/%s/done" % COND, "/f/%s/resume" % COND, "/withdraw",
                 "/f/%s/p/first?has_pet=yes&csrf=x" % COND, "/f/%s/start" % COND,
                 "/f/%s/submit?csrf=x" % COND, "/withdraw?code=ABCD-EFGH-JKMN-PQRS"):
        for c in (r.c, Client()):
            for m in ("GET", "HEAD"):
                c.request(m, path)
    assert snapshot() == before, "a GET changed the database: %r -> %r" % (before, snapshot())
    assert draft_box(r.draft) == box


# ------------------------------------------------------------------ database down

DB_DOWN_TEXT = "We could not save your answers just now. Select Continue to try again."


def test_database_down_during_page_post_keeps_what_was_typed():
    r = Resp(COND)
    r.start(expect="first")
    r.step("first", {"has_pet": "yes", "pet_name": "Rex"}, "pet-page")
    token = r.token("pet-page")
    marker = lib.unique("down")
    ready = Resp(COND)
    cond_ready(ready)
    ready_token = csrf(ready.check_page().text)
    fresh = Client()
    start_token = csrf(fresh.get("/f/" + COND).text)
    last = max_response_id()
    lib.pg_stop()
    try:
        # submit and start: 503, never a 303 before a commit
        s = ready.submit(ready_token)
        assert s.status == 503, "submit with PostgreSQL stopped: %s" % why(s)
        st = fresh.post("/f/%s/start" % COND, {"csrf": start_token})
        assert st.status == 503 and st.cookie("pcs_draft") is None, "start with PostgreSQL stopped: %s" % why(st)
        x = r.post("pet-page", {"kind": "dog", "walks": "3"}, token=token)
        assert x.status == 503, "page POST with PostgreSQL stopped: %s" % why(x)
        assert DB_DOWN_TEXT in lib.text_of(x.text), "503 page lacks the http-api.md text: %s" % why(x)
        assert lib.checked(x.text, "kind", "dog"), "typed answer not re-filled"
        assert lib.input_value(x.text, "walks") == "3", "typed number not re-filled"
        assert csrf(x.text) == token, "the re-filled page has no usable csrf"
        assert h1(x.text) == "Your pet", "not the same page: %r" % h1(x.text)
        y = r.post("last", {"walker": marker}, token=token)
        assert y.status == 503 and lib.input_value(y.text, "walker") == marker, "last page: %s" % why(y)
    finally:
        lib.pg_start()
    # Continue again: saved once the workers reconnect (a worker may answer
    # 503 once while it notices its old connection is gone)
    deadline = time.monotonic() + 20
    while True:
        x = r.post("pet-page", {"kind": "dog", "walks": "3"}, token=token)
        if x.status == 303 or time.monotonic() > deadline:
            break
        assert x.status == 503 and DB_DOWN_TEXT in lib.text_of(x.text), "after restart: %s" % why(x)
        time.sleep(0.2)
    assert x.status == 303 and x.location == r.path("last"), "POST after restart: %s" % why(x)
    assert max_response_id() == last, "a response appeared while the database was down"
    ready.submit_ok()
    assert len(new_rows(last)) == 1, "the retried submit did not make exactly one row"
    g = r.get("pet-page")
    assert lib.checked(g.text, "kind", "dog") and lib.input_value(g.text, "walks") == "3", "not saved"
    g = r.get("first")
    assert lib.input_value(g.text, "pet_name") == "Rex", "an earlier page was lost"
    r.step("last", {"walker": marker}, "check")
    last = max_response_id()
    r.submit_ok()
    a = new_rows(last)[0]["answers"]
    assert a["kind"] == "dog" and a["walks"] == 3, "stored %r" % a
    assert marker not in lib.log_text(), "typed text in a log"


def test_saved_invalid_answers_are_checked_again_at_submit():
    """"Save and come back later" keeps what was typed, errors included;
    submit must not store it: it sends the respondent back to that page.
    (A number saved this way was copied into the answers JSON unquoted.)"""
    for bad in ({"hours": '5, "agree": "no"'}, {"hours": "abc"}, {"hours": "999"},
                {"code": "zz"}, {"mail": "not-an-address"}):
        r = Resp(TYPES)
        r.start(expect="typed")
        s = r.post("typed", dict(TYPES_OK["typed"], **bad), action="save")
        assert s.status == 200 and element_text(s.text, "resume-code"), "save with errors: %s" % why(s)
        g = r.get("typed")
        k, v = list(bad.items())[0]
        assert lib.input_value(g.text, k) == v, "what was typed was not saved: %r" % lib.input_value(g.text, k)
        for i, p in enumerate(TYPES_PAGES[1:], 1):
            r.step(p, TYPES_OK[p], TYPES_PAGES[i + 1] if i + 1 < len(TYPES_PAGES) else "check")
        last = max_response_id()
        x = r.submit()
        assert x.status == 303 and x.location == r.path("typed"), "submit with %r saved: %s" % (bad, why(x))
        assert max_response_id() == last, "a response with %r was stored" % bad
        e = r.errors("typed", dict(TYPES_OK["typed"], **bad))
        assert k in error_summary(e.text), "no error for %r" % bad
        r.step("typed", TYPES_OK["typed"], "dates")
        r.submit_ok()
        a = new_rows(last)[0]["answers"]
        assert a["hours"] == 37 and "agree" in a and a["agree"] == "yes", "stored %r" % a


def test_database_error_reading_the_draft_is_503_not_start_again():
    """A failure of the database other than a lost connection (here: no
    SELECT privilege on pcs.draft; a killed backend also comes back without
    SQLSTATE 08/57P) while reading the draft: 503, what was typed kept,
    never "start again" as if the draft were gone (T-33)."""
    r = Resp(COND)
    r.start(expect="first")
    r.step("first", {"has_pet": "yes", "pet_name": "Rex"}, "pet-page")
    s = r.post("pet-page", {"kind": "dog"}, action="save")
    code = element_text(s.text, "resume-code")
    token = r.token("pet-page")
    other = Client()
    rtok = csrf(other.get("/f/%s/resume" % COND).text)
    lib.sql("REVOKE SELECT ON pcs.draft FROM CURRENT_USER")
    try:
        g = r.c.get(r.path("pet-page"))
        assert g.status == 503, "GET a page: %s" % why(g)
        x = r.post("pet-page", {"kind": "cat", "walks": ""}, token=token)
        assert x.status == 503 and DB_DOWN_TEXT in lib.text_of(x.text), "POST a page: %s" % why(x)
        assert lib.checked(x.text, "kind", "cat"), "typed answer not re-filled"
        y = other.post("/f/%s/resume" % COND, {"csrf": rtok, "code": code})
        assert y.status == 503, "resume: %s" % why(y)
        z = r.submit(token=token)
        assert z.status == 503, "submit: %s" % why(z)
    finally:
        lib.sql("GRANT SELECT ON pcs.draft TO CURRENT_USER")
    g = r.get("pet-page")
    assert lib.checked(g.text, "kind", "dog"), "the draft was lost"
