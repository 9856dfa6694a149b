"""The respondent journey through nginx, written from http-api.md,
privacy.md and forms/staff-wellbeing.json alone: start page, draft cookie,
CSRF, page by page with 303s, validation and re-rendering, conditional
pages, check, submit (one row, idempotent), done, and that nothing typed
in free text reaches the database dump or the logs in clear."""

import csv
import datetime
import json
import os
import re

import lib
from lib import Client, csrf

FORM_ID = "staff-wellbeing"
FORM = "/f/" + FORM_ID


def P(page):
    return "%s/p/%s" % (FORM, page)


def reference(name, key):
    with open(os.path.join(lib.ROOT, "sql", "reference", name), newline="", encoding="utf-8") as f:
        return {row[key]: row for row in csv.DictReader(f)}


def error_summary(page):
    """(opening tag, hrefs) of the error summary, or (None, [])."""
    m = re.search(r"<div\b[^>]*class=\"[^\"]*\bnhsuk-error-summary\b[^\"]*\"[^>]*>", page)
    if not m:
        return None, []
    rest = page[m.end():]
    end = rest.find("</ul>")
    region = rest[:end if end >= 0 else 4000]
    return m.group(0), re.findall(r"href=\"#([^\"]*)\"", region)


def why(r):
    """A short description of an unexpected answer, for messages."""
    tag, hrefs = error_summary(r.text)
    if tag:
        return "%d with errors on %s" % (r.status, ", ".join(hrefs))
    return "%d %s" % (r.status, lib.text_of(r.text)[:160])


def start(c):
    """GET the start page, POST start; returns the 303."""
    g = c.get(FORM)
    assert g.status == 200, "GET %s: %d" % (FORM, g.status)
    token = csrf(g.text)
    assert token, "no csrf field on the start page"
    r = c.post(FORM + "/start", {"csrf": token})
    assert r.status == 303, "POST start: %s" % why(r)
    assert r.location == P("before-you-start"), "POST start went to %r" % r.location
    return r


def post_page(c, page, fields):
    """GET a question page for its csrf, then POST fields to it."""
    g = c.get(P(page))
    assert g.status == 200, "GET %s: %s" % (P(page), why(g))
    token = csrf(g.text)
    assert token, "no csrf field on %s" % P(page)
    if isinstance(fields, dict):
        fields = list(fields.items())
    return c.post(P(page), [("csrf", token)] + list(fields))


def step(c, page, fields, next_path):
    r = post_page(c, page, fields)
    assert r.status == 303, "POST %s: %s" % (P(page), why(r))
    assert r.location == next_path, "POST %s went to %r, expected %r" % (page, r.location, next_path)
    return r


def page_of(page):
    m = re.search(r"Page\s+(\d+)\s+of\s+(\d+)", lib.text_of(page))
    assert m, "no 'Page n of m' on the page"
    return int(m.group(1)), int(m.group(2))


ABOUT = {
    "role": "gp_partner",
    "icb": "QE1",
    "work_setting": "gp_practice",
    "arrs_funded": "no",
    "years_in_role": "1_to_3",
    "hours_per_week": "37",
}
SUPPORT = [
    ("offered", "eap"), ("offered", "peer_support"),
    ("providers", "employer"),
    ("access__know_what", "4"), ("access__easy_to_access", "3"),
    ("access__time_to_use", "2"), ("access__confidential", "5"),
]
FEELS = [
    ("wellbeing__valued", "4"), ("wellbeing__part_of_team", "4"),
    ("wellbeing__workload", "2"), ("wellbeing__burnt_out", "3"),
    ("wellbeing__manager_cares", "4"), ("wellbeing__raise_concerns", "3"),
    ("leave_intention", "maybe"),
    ("leave_reasons", "workload"), ("leave_reasons", "stress_burnout"),
]


def max_response_id():
    return int(lib.sql_value("SELECT coalesce(max(id), 0) FROM pcs.response"))


def submit(c):
    """GET check, POST submit; returns the POST's answer."""
    chk = c.get(FORM + "/check")
    assert chk.status == 200, "GET check: %s" % why(chk)
    token = csrf(chk.text)
    assert token, "no csrf on the check page"
    return c.post(FORM + "/submit", {"csrf": token})


def minimal_journey(c):
    """Only what is required, straight to the check page."""
    start(c)
    step(c, "before-you-start", {"consent": "yes"}, P("about-your-work"))
    step(c, "about-your-work", {"role": "gp_salaried", "icb": "QE1"}, P("support"))
    step(c, "support", {}, P("how-work-feels"))
    step(c, "how-work-feels", {}, P("your-ideas"))
    step(c, "your-ideas", {}, FORM + "/check")


# ------------------------------------------------------------------ pages

def test_index_lists_open_forms():
    r = Client().get("/")
    assert r.status == 200, "GET /: %d" % r.status
    links = {lib.local_path(a.get("href", "")) for a in lib.tags(r.text, "a")}
    text = lib.text_of(r.text)
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    listed = 0
    for fn in sorted(os.listdir(os.path.join(lib.ROOT, "forms"))):
        if not fn.endswith(".json"):
            continue
        with open(os.path.join(lib.ROOT, "forms", fn), encoding="utf-8") as f:
            form = json.load(f)
        path = "/f/" + form["id"]
        is_open = (form["status"] == "open" and form.get("opens", today) <= today
                   and form.get("closes", today) >= today)
        if form["status"] == "draft":
            assert path not in links, "draft form %s is linked from /" % form["id"]
        if is_open and form.get("access") == "open":
            assert path in links, "open form %s is not linked from /" % form["id"]
            assert form["title"] in text, "title of %s not on /" % form["id"]
            listed += 1
    assert listed > 0, "no open form to look for"


def test_start_page_has_title_and_start_form():
    r = Client().get(FORM)
    assert r.status == 200, "GET %s: %d" % (FORM, r.status)
    with open(os.path.join(lib.ROOT, "forms", FORM_ID + ".json"), encoding="utf-8") as f:
        title = json.load(f)["title"]
    h1 = re.findall(r"<h1\b[^>]*>(.*?)</h1>", r.text, re.S)
    assert len(h1) == 1 and title in lib.text_of(h1[0]), "h1 is %r" % h1
    forms = re.findall(r"<form\b([^>]*)>(.*?)</form>", r.text, re.S)
    starts = [body for a, body in forms
              if lib.attrs(a).get("method", "").lower() == "post"
              and lib.local_path(lib.attrs(a).get("action", "")) == FORM + "/start"]
    assert starts, "no <form method=post action=%s/start>" % FORM
    assert csrf(starts[0]), "the start form carries no csrf field"
    assert "Start now" in lib.text_of(r.text), "no 'Start now' button"


def test_start_without_csrf_403_and_no_draft():
    before = lib.count("pcs.draft")
    for body in ({}, {"csrf": "forged" + lib.unique()}):
        c = Client()
        r = c.post(FORM + "/start", body)
        assert r.status == 403, "POST start with csrf %r: %d" % (body.get("csrf"), r.status)
        assert r.cookie("pcs_draft") is None, "a draft cookie was set without a valid csrf"
    assert lib.count("pcs.draft") == before, "a draft was stored without a valid csrf"


def test_start_sets_draft_cookie_and_redirects():
    before = lib.count("pcs.draft")
    c = Client()
    r = start(c)
    ck = r.cookie("pcs_draft")
    assert ck is not None and ck.value, "no pcs_draft cookie: %r" % r.headers_all("Set-Cookie")
    assert ck.attrs.get("httponly") is True, "pcs_draft not HttpOnly: %s" % ck.raw
    assert str(ck.attrs.get("samesite", "")).lower() == "lax", "pcs_draft SameSite: %s" % ck.raw
    assert ck.attrs.get("path") == FORM, "pcs_draft Path: %s" % ck.raw
    assert "secure" not in ck.attrs, "Secure on an http base_url: %s" % ck.raw
    assert lib.count("pcs.draft") == before + 1, "POST start did not create one draft"
    g = c.get(P("before-you-start"))
    assert g.status == 200, "first page with the new draft: %s" % why(g)


def test_unknown_page_404():
    c = Client()
    start(c)
    r = c.get(P("nope"))
    assert r.status == 404, "GET %s: %d" % (P("nope"), r.status)


# ------------------------------------------------------------------ journey

def test_full_journey_one_row_nothing_in_clear():
    m_help = lib.unique("helped")
    m_icb = lib.unique("icbidea")
    m_mail = lib.unique("mail")
    email = "%s@example.org" % m_mail
    roles = reference("staff_roles.csv", "role_code")
    icbs = reference("icbs.csv", "icb_code")
    drafts_before = lib.count("pcs.draft")
    last = max_response_id()
    day_before = datetime.datetime.now(datetime.timezone.utc).date().isoformat()

    c = Client()
    start(c)
    step(c, "before-you-start", {"consent": "yes"}, P("about-your-work"))
    step(c, "about-your-work", ABOUT, P("support"))
    step(c, "support", SUPPORT, P("how-work-feels"))
    step(c, "how-work-feels", FEELS, P("your-ideas"))
    step(c, "your-ideas", {
        "helped_most": "Peer support group " + m_help,
        "icb_should_provide": "More protected time\r\nand a hub " + m_icb,
        "interview": "yes",
        "contact_email": email,
    }, FORM + "/check")

    chk = c.get(FORM + "/check")
    assert chk.status == 200, "GET check: %s" % why(chk)
    text = lib.text_of(chk.text)
    assert roles["gp_partner"]["label"] in text, "check page lacks the role"
    assert icbs["QE1"]["short_name"] in text, "check page lacks the ICB"
    assert m_help in text and email in text, "check page lacks the typed answers"
    hrefs = {lib.local_path(a.get("href", "")) for a in lib.tags(chk.text, "a")}
    assert any(h.startswith(P("about-your-work")) for h in hrefs), "no Change link to about-your-work"
    assert "no-store" in chk.header("Cache-Control", ""), "check page without Cache-Control: no-store"

    r = c.post(FORM + "/submit", {"csrf": csrf(chk.text)})
    assert r.status == 303, "POST submit: %s" % why(r)
    assert r.location == FORM + "/done", "submit went to %r" % r.location
    done = c.get(FORM + "/done")
    assert done.status == 200, "GET done: %d" % done.status
    assert 'id="receipt-code"' in done.text, "no receipt code on the done page"
    assert "Your response has been recorded" in lib.text_of(done.text), "done page wording"
    assert "no-store" in done.header("Cache-Control", ""), "done page without Cache-Control: no-store"
    day_after = datetime.datetime.now(datetime.timezone.utc).date().isoformat()

    rows = lib.sql(
        "SELECT form_id, role, icb, region, submitted::text, "
        "(answers->'helped_most') ? 'sealed', (answers->'contact_email') ? 'sealed' "
        "FROM pcs.response WHERE id > %d ORDER BY id" % last)
    assert len(rows) == 1, "expected one new response row, got %d" % len(rows)
    form_id, role, icb, region, submitted, help_sealed, mail_sealed = rows[0]
    assert form_id == FORM_ID, "form_id %r" % form_id
    assert role == "gp_partner", "role %r" % role
    assert icb == "QE1", "icb %r" % icb
    assert region == icbs["QE1"]["region_code"], "region %r, expected %r" % (region, icbs["QE1"]["region_code"])
    assert submitted in (day_before, day_after), "submitted %r, today (UTC) is %s" % (submitted, day_after)
    assert help_sealed == "t", "helped_most is not stored sealed"
    assert mail_sealed == "t", "contact_email is not stored sealed"
    assert lib.count("pcs.draft") == drafts_before, "the draft was not deleted at submit"

    dump = lib.pg_dump()
    for m in (m_help, m_icb, m_mail):
        assert m not in dump, "a typed answer is in the database in clear"
    logs = lib.log_text()
    for m in (m_help, m_icb, m_mail):
        assert m not in logs, "a typed answer is in a log"


def test_invalid_answers_rerender_with_errors_and_keep_input():
    c = Client()
    start(c)
    step(c, "before-you-start", {"consent": "yes"}, P("about-your-work"))
    last = max_response_id()
    r = post_page(c, "about-your-work", {
        "icb": "QE1", "work_setting": "gp_practice", "hours_per_week": "abc",
    })
    assert r.status == 200, "invalid page POST: %d" % r.status
    tag, hrefs = error_summary(r.text)
    assert tag, "no nhsuk-error-summary"
    assert 'role="alert"' in tag, "error summary without role=alert: %s" % tag
    assert "hours_per_week" in hrefs, "no summary link to #hours_per_week: %r" % hrefs
    assert any(h == "role" or h.startswith("role") for h in hrefs), "no summary link for role: %r" % hrefs
    present = lib.ids(r.text)
    for h in hrefs:
        assert h in present, "summary link #%s points to no element" % h
    assert "nhsuk-error-message" in r.text, "no inline error message"
    assert lib.input_value(r.text, "hours_per_week") == "abc", "typed hours not kept: %r" % lib.input_value(r.text, "hours_per_week")
    assert lib.selected(r.text, "QE1", "icb"), "chosen ICB not kept"
    assert lib.checked(r.text, "work_setting", "gp_practice"), "chosen work setting not kept"
    assert max_response_id() == last, "a response row appeared"


def test_repeated_single_answer_field_400():
    c = Client()
    start(c)
    step(c, "before-you-start", {"consent": "yes"}, P("about-your-work"))
    last = max_response_id()
    r = post_page(c, "about-your-work", [("role", "gp_partner"), ("role", "gp_salaried"), ("icb", "QE1")])
    assert r.status == 400, "repeated role: %d" % r.status
    assert r.header("Content-Type", "").startswith("text/html"), "400 is not a page"
    assert max_response_id() == last, "a response row appeared"


def test_conditional_arrs_page_follows_answer():
    c = Client()
    start(c)
    step(c, "before-you-start", {"consent": "yes"}, P("about-your-work"))
    step(c, "about-your-work", dict(ABOUT, arrs_funded="no"), P("support"))
    _, total_no = page_of(c.get(P("support")).text)
    step(c, "about-your-work", dict(ABOUT, arrs_funded="yes"), P("support"))
    _, total_yes = page_of(c.get(P("support")).text)
    assert total_yes == total_no + 1, "page count %d with ARRS, %d without" % (total_yes, total_no)
    step(c, "support", SUPPORT, P("how-work-feels"))
    step(c, "how-work-feels", FEELS, P("arrs-role"))
    g = c.get(P("arrs-role"))
    assert g.status == 200, "GET arrs-role: %s" % why(g)
    n, m = page_of(g.text)
    assert m == total_yes, "arrs-role says of %d, expected %d" % (m, total_yes)
    step(c, "arrs-role", {"arrs_practices": "3", "arrs_experience__supervision": "4"}, P("your-ideas"))
    # Back to "no": the ARRS page is skipped again.
    step(c, "about-your-work", dict(ABOUT, arrs_funded="no"), P("support"))
    step(c, "how-work-feels", FEELS, P("your-ideas"))


def test_second_submit_creates_no_second_row():
    c = Client()
    minimal_journey(c)
    last = max_response_id()
    chk = c.get(FORM + "/check")
    token = csrf(chk.text)
    r1 = c.post(FORM + "/submit", {"csrf": token})
    assert r1.status == 303 and r1.location == FORM + "/done", "first submit: %s" % why(r1)
    r2 = c.post(FORM + "/submit", {"csrf": token})
    assert r2.status in (200, 303), "second submit: %s" % why(r2)
    if r2.status == 303:
        assert r2.location == FORM + "/done", "second submit went to %r" % r2.location
    else:
        assert "Your response has been recorded" in lib.text_of(r2.text), "second submit page"
    n = int(lib.sql_value("SELECT count(*) FROM pcs.response WHERE id > %d" % last))
    assert n == 1, "%d rows after two submits of one draft" % n
