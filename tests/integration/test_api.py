"""The researchers' side through nginx and PostgreSQL (http-api.md:
Researcher API, /research pages; privacy.md: Disclosure control; cli.md:
token).  Written from the contracts: tokens come from the CLI, responses are
seeded straight into pcs.response with known true counts (or, for the
sealed-answer round trip, through the real respondent journey), and every
expected published value below was worked out by hand from privacy.md's
rules; the comments show the lines that decide it.

Seeded rows go to tests/forms/test-draft.json (a draft: no respondent can
reach it) and are deleted again at the end of each test."""

import concurrent.futures
import csv
import datetime
import io
import json
import os
import re
import socket
import struct
import subprocess
import tempfile
import time

import html

import lib
from lib import Client, csrf

FORM = "test-draft"
API = "/api/v1/forms"
SAN = os.path.join(lib.ROOT, "build", "san", "pcsurvey")
OPT = os.path.join(lib.ROOT, "bin", "pcsurvey")
CONF = os.path.join(lib.VAR, "pcsurvey.conf")
DIMS_MSG = "use one of icb, region, role, staff_group"

_tokens = {}


# ------------------------------------------------------------------ helpers

def cli(*args, binary=SAN):
    """Run pcsurvey with the test configuration; (rc, stdout, stderr)."""
    p = subprocess.run([binary] + list(args) + ["--config", CONF], capture_output=True,
                       timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def new_token(scope, name=None):
    rc, out, err = cli("token", "create", "--name", name or lib.unique("t"), "--scope", scope)
    assert rc == 0, "token create: rc %d: %s" % (rc, err)
    lines = out.splitlines()
    assert len(lines) == 1 and re.fullmatch(r"[A-Za-z0-9_-]{43}", lines[0]), \
        "token create must print the token alone on one line: %r" % out
    return lines[0]


def token(scope):
    """One token per scope for the whole module."""
    if scope not in _tokens:
        _tokens[scope] = new_token(scope, "test_api " + scope)
    return _tokens[scope]


def token_id(name):
    """The newest token of that name (a second run on the same stack makes another)."""
    return int(lib.sql_value("SELECT max(id) FROM pcs.api_token WHERE name = %s" % q(name)))


def api(path, tok=None, scope="aggregate", headers=None):
    h = dict(headers or {})
    if tok is not False:
        h["Authorization"] = "Bearer " + (tok or token(scope))
    return Client().get(path, headers=h)


def api_json(path, **kw):
    r = api(path, **kw)
    assert r.status == 200, "GET %s: %d %s" % (path, r.status, r.text[:300])
    assert_api_headers(r, "application/json")
    return r.json()


def assert_api_headers(r, ctype):
    assert r.header("Cache-Control") == "no-store", \
        "%d answer without Cache-Control: no-store (%r)" % (r.status, r.header("Cache-Control"))
    assert (r.header("Content-Type") or "").startswith(ctype), \
        "Content-Type %r, want %s" % (r.header("Content-Type"), ctype)


def assert_error(r, status, code, message=None):
    assert r.status == status, "want %d %s, got %d: %s" % (status, code, r.status, r.text[:300])
    assert_api_headers(r, "application/json")
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message"}, \
        "error shape: %r" % body
    assert body["error"]["status"] == status and body["error"]["code"] == code, body
    if message is not None:
        assert body["error"]["message"] == message, "message %r" % body["error"]["message"]
    return body


def q(s):
    """An SQL literal (test code only: values are our own)."""
    return "NULL" if s is None else "'" + str(s).replace("'", "''") + "'"


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def seed(groups, form=FORM):
    """groups: (n, icb, role, answers, day_offset); answers is a dict (JSON)
    or a str (raw JSON text, for bad rows).  Region and staff group are
    derived the way the server stores them."""
    marker = os.urandom(6).hex()
    parts = []
    for k, (n, icb, role, answers, off) in enumerate(groups):
        text = answers if isinstance(answers, str) else json.dumps(answers)
        tag = "%s-%d-" % (marker, k)
        parts.append(
            "SELECT substring(sha256((%(t)s || g)::bytea) for 16), %(f)s, 2, "
            "(now() AT TIME ZONE 'UTC')::date + %(off)d, sha256(('h' || %(t)s || g)::bytea), "
            "%(icb)s, (SELECT region_code FROM pcs.icb WHERE code = %(icb)s), %(role)s, "
            "(SELECT staff_group FROM pcs.staff_role WHERE code = %(role)s), %(a)s::jsonb "
            "FROM generate_series(1, %(n)d) g"
            % {"t": q(tag), "f": q(form), "off": off, "icb": q(icb), "role": q(role),
               "a": q(text), "n": n})
    lib.sql("INSERT INTO pcs.response (rid, form_id, form_version, submitted, receipt_hash, "
            "icb, region, role, staff_group, answers) " + " UNION ALL ".join(parts))


def clear(form=FORM):
    lib.sql("DELETE FROM pcs.response WHERE form_id = %s" % q(form))


def counts(by, question=None, **kw):
    path = "%s/%s/counts?by=%s" % (API, FORM, by)
    if question:
        path += "&question=" + question
    return api_json(path, **kw)


def cells(body):
    """{(coordinate values in key order...): count} of a counts answer."""
    out = {}
    keys = body["by"] + ([body["question"]] if body["question"] else [])
    for c in body["cells"]:
        assert c["suppressed"] == (c["count"] is None), "cell %r" % c
        out[tuple(c[k] for k in keys)] = c["count"]
    return out


def totals(body, key):
    out = {}
    for t in body["totals"][key]:
        assert set(t) == {key, "count", "suppressed"}, t
        assert t["suppressed"] == (t["count"] is None), t
        out[t[key]] = t["count"]
    return out


def reference(name, key):
    with open(os.path.join(lib.ROOT, "sql", "reference", name), newline="",
              encoding="utf-8") as f:
        return {row[key]: row for row in csv.DictReader(f)}


def study_icbs():
    """The 42 ICBs valid on the study forms' reference_date (2026-03-31)."""
    return {c: r for c, r in reference("icbs.csv", "icb_code").items()
            if r["valid_from"] <= "2026-03-31" and (r["valid_to"] or "9999") >= "2026-03-31"}


# Dataset A: region x staff group, one cell of 3 (privacy.md rule 4).
DATA_A = [
    (3, "QMJ", "gp_partner", {}, 0),          # London, GPs
    (20, "QMJ", "practice_nurse", {}, 0),     # London, nursing
    (20, "QJK", "gp_partner", {}, 0),         # South West, GPs
    (30, "QJK", "practice_nurse", {}, 0),     # South West, nursing
]


# ------------------------------------------------------------------ tokens and auth

def test_token_cli_list_and_revoke():
    name = lib.unique("cli")
    t = new_token("export", name)
    rc, out, err = cli("token", "list")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "id\tname\tscope\tcreated\tlast_used\trevoked", lines[0]
    row = [ln.split("\t") for ln in lines[1:] if ln.split("\t")[1] == name]
    assert len(row) == 1 and row[0][2] == "export" and row[0][3] == today().isoformat() \
        and row[0][4] == "" and row[0][5] == "", row
    assert t not in out, "token list shows a token"
    # privacy.md: only the keyed hash is stored
    assert t not in lib.pg_dump(), "the token is stored in clear"
    tid = row[0][0]
    rc, _, err = cli("token", "revoke", tid)
    assert rc == 0, err
    assert api(API, tok=t).status == 401, "a revoked token still works"
    rc, _, _ = cli("token", "revoke", tid)
    assert rc == 1, "revoking twice must fail"
    rc, out, _ = cli("token", "list")
    assert [ln for ln in out.splitlines() if "\t" + name + "\t" in ln][0].split("\t")[5] == \
        today().isoformat()
    for bad in (["token", "create", "--name", "x", "--scope", "all"],
                ["token", "create", "--scope", "export"],
                ["token", "create", "--name", "a\tb", "--scope", "export"],
                ["token", "revoke", "abc"], ["token", "frob"]):
        rc, _, _ = cli(*bad)
        assert rc == 2, "%r: exit %d, want 2 (usage)" % (bad, rc)


def test_api_401_missing_unknown_revoked():
    good = token("aggregate")
    bad = good[:-1] + ("A" if good[-1] != "A" else "B")
    for hdr in (None, "Bearer", "Bearer " + "x" * 43, "Bearer " + bad, "Basic " + good,
                "Bearer " + good + "x", "Bearer  " + "'; SELECT pg_sleep(3)--"):
        h = {} if hdr is None else {"Authorization": hdr}
        t0 = time.monotonic()
        r = Client().get(API + "/" + FORM + "/counts?by=icb", headers=h)
        assert time.monotonic() - t0 < 2.5, "%r took too long" % hdr
        assert_error(r, 401, "unauthorized")
        assert r.header("WWW-Authenticate") == "Bearer", r.header("WWW-Authenticate")
    # RFC 6750: the scheme is case-insensitive
    r = Client().get(API, headers={"Authorization": "bearer " + good})
    assert r.status == 200, r.status


def test_api_401_before_404_and_unknown_form():
    assert_error(api(API + "/no-such-form/counts?by=icb", tok=False), 401, "unauthorized")
    assert_error(api(API + "/no-such-form/counts?by=icb"), 404, "unknown_form")
    assert_error(api(API + "/no-such-form/codebook"), 404, "unknown_form")


def test_api_403_scope():
    r = api(API + "/" + FORM + "/responses.csv", scope="aggregate")
    assert_error(r, 403, "insufficient_scope")
    assert r.header("WWW-Authenticate") is None
    # export includes aggregate
    assert api(API + "/" + FORM + "/counts?by=icb", scope="export").status == 200
    assert api(API + "/" + FORM + "/responses.csv", scope="export").status == 200


def test_api_audit_rows_and_last_used():
    tok = token("aggregate")
    tid = token_id("test_api aggregate")
    api_json("%s/%s/counts?by=icb,role&question=setting" % (API, FORM))
    row = lib.sql("SELECT via, what, form_id, detail, status, token_id, day FROM "
                  "pcs.access_audit ORDER BY id DESC LIMIT 1")[0]
    assert row == ("api", "counts", FORM, "by=icb,role question=setting", "200", str(tid),
                   today().isoformat()), row
    assert lib.sql_value("SELECT last_used FROM pcs.api_token WHERE id = %d" % tid) == \
        today().isoformat()
    r = api("%s/%s/counts?by=icbx" % (API, FORM))
    assert r.status == 400
    row = lib.sql("SELECT what, detail, status, token_id FROM pcs.access_audit "
                  "ORDER BY id DESC LIMIT 1")[0]
    assert row == ("counts", "", "400", str(tid)), "a refused call is audited without its " \
        "query value: %r" % (row,)
    api(API, tok=False)
    row = lib.sql("SELECT what, status, token_id FROM pcs.access_audit ORDER BY id DESC LIMIT 1")[0]
    assert row == ("forms", "401", ""), row
    dump = lib.pg_dump()
    assert tok not in dump and "icbx" not in dump, "token or query value in the database"


def test_api_logs_hold_no_token_or_query_value():
    tok = token("aggregate")
    marker = "zq" + os.urandom(4).hex()
    before = {n: lib.log_size(n) for n in lib.LOGS}
    api("%s/%s/counts?by=%s" % (API, FORM, marker))
    api("%s/%s/counts?by=icb&question=%s" % (API, FORM, marker))
    api(API, tok=marker + "x" * 40)
    time.sleep(0.3)
    logs = "".join(lib.log_since(n, before[n]) for n in lib.LOGS)
    assert marker not in logs, "a query value or token reached a log"
    assert tok not in lib.log_text(), "the token reached a log"


# ------------------------------------------------------------------ forms, codebook

def test_api_forms_list_and_responses_under_the_rule():
    clear()
    try:
        for n, want in ((0, 0), (6, None), (12, 10)):
            clear()
            if n:
                seed([(n, "QMJ", "gp_partner", {}, 0)])
            body = api_json(API)
            assert set(body) == {"forms"}
            mine = [f for f in body["forms"] if f["id"] == FORM]
            assert len(mine) == 1, "draft form missing from /api/v1/forms"
            f = mine[0]
            assert set(f) == {"id", "version", "title", "audience", "status", "responses"}, f
            assert (f["version"], f["audience"], f["status"]) == (2, "staff", "draft"), f
            assert f["responses"] == want, "%d responses published as %r, want %r" % (
                n, f["responses"], want)
        r = api(API + ".csv")
        assert r.status == 200 and r.header("Content-Type").startswith("text/csv")
        assert r.text.startswith("id,version,title,audience,status,responses\r\n")
        assert ("\r\n%s,2," % FORM) in r.text and r.text.endswith("\r\n")
    finally:
        clear()


def test_api_codebook_json():
    body = api_json("%s/%s/codebook" % (API, FORM))
    assert set(body) == {"form", "version", "title", "audience", "questions"}
    assert (body["form"], body["version"], body["audience"]) == (FORM, 2, "staff")
    qs = {x["id"]: x for x in body["questions"]}
    assert list(qs) == ["role", "icb", "setting", "support", "feel", "hours", "comment",
                        "agree"], "info items are not questions; form order: %r" % list(qs)
    assert qs["role"]["dimension"] == "role" and qs["role"]["store"] == "clear"
    assert qs["role"]["page"] == "about-you" and qs["role"]["required"] is True
    assert len(qs["icb"]["options"]) == 42, "ICBs valid on the reference date"
    assert "dimension" not in qs["setting"] and "statements" not in qs["setting"]
    assert [o["value"] for o in qs["setting"]["options"]] == ["practice", "pcn", "pharmacy",
                                                              "other"]
    assert qs["feel"]["statements"] == [{"id": "valued", "label": "I feel valued"},
                                        {"id": "tired", "label": "I feel tired"}]
    assert qs["agree"]["options"] == [{"value": "yes", "label": "Yes"}], "consent: option yes"
    assert "options" not in qs["hours"] and "options" not in qs["comment"]
    assert qs["comment"]["store"] == "sealed"
    for x in qs.values():
        assert set(x) <= {"id", "page", "type", "label", "required", "store", "dimension",
                          "options", "statements"}, x


def test_api_codebook_csv():
    r = api("%s/%s/codebook.csv" % (API, FORM))
    assert r.status == 200
    assert_api_headers(r, "text/csv")
    assert "\r\n" in r.text and "\n" not in r.text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(r.text, newline="")))
    assert rows[0] == ["question", "page", "type", "label", "store", "dimension", "value",
                       "value_label"], rows[0]
    by_q = {}
    for row in rows[1:]:
        by_q.setdefault(row[0], []).append(row)
    assert len(by_q["role"]) == 39 and by_q["role"][0][5] == "role"
    assert [x[6] for x in by_q["feel__valued"]] == ["1", "2", "3"], "scale: statement x option"
    assert by_q["feel__tired"][0][3] == "I feel tired"
    assert by_q["hours"] == [["hours", "your-work", "number", "How many hours a week do you work?",
                              "clear", "", "", ""]], by_q["hours"]
    assert "note" not in by_q and "feel" not in by_q
    # Accept: text/csv works on the plain path too
    r2 = api("%s/%s/codebook" % (API, FORM), headers={"Accept": "text/csv"})
    assert r2.status == 200 and r2.text == r.text


# ------------------------------------------------------------------ counts: shapes and errors

def test_api_counts_json_shape():
    clear()
    try:
        seed(DATA_A)
        body = counts("region,staff_group")
        assert list(body) == ["form", "form_version", "by", "question", "data_as_of",
                              "disclosure", "cells", "totals"], list(body)
        assert body["form"] == FORM and body["form_version"] == 2
        assert body["by"] == ["region", "staff_group"] and body["question"] is None
        assert body["data_as_of"] == today().isoformat(), "counts_lag_days = 0 in tests"
        assert body["disclosure"] == {"suppress_max": 7, "round_to": 5, "secondary": True}
        for c in body["cells"]:
            assert list(c) == ["region", "staff_group", "count", "suppressed"], c
        assert set(body["totals"]) == {"all", "region", "staff_group"}
        b2 = counts("icb", question="setting")
        assert b2["question"] == "setting" and set(b2["totals"]) == {"all", "icb", "setting"}
    finally:
        clear()


def test_api_counts_csv_shape():
    clear()
    try:
        seed(DATA_A)
        r = api("%s/%s/counts.csv?by=region,staff_group" % (API, FORM))
        assert r.status == 200
        assert_api_headers(r, "text/csv")
        assert r.text.endswith("\r\n") and "\n" not in r.text.replace("\r\n", "")
        rows = list(csv.reader(io.StringIO(r.text, newline="")))
        assert rows[0] == ["region", "staff_group", "region_name", "staff_group_name", "count",
                           "suppressed"], rows[0]
        assert ["Y56", "gp", "London", "GPs", "", "true"] in rows, rows
        r2 = api("%s/%s/counts?by=region,staff_group" % (API, FORM),
                 headers={"Accept": "text/csv"})
        assert r2.status == 200 and r2.text == r.text, "Accept: text/csv"
        r3 = api("%s/%s/counts?by=region,staff_group" % (API, FORM),
                 headers={"Accept": "application/json, text/csv;q=0.5"})
        assert r3.header("Content-Type").startswith("application/json")
        r4 = api("%s/%s/counts.csv?by=icb&question=setting" % (API, FORM))
        assert r4.text.startswith("icb,icb_name,setting,count,suppressed\r\n"), r4.text[:80]
    finally:
        clear()


def test_api_counts_errors():
    sw = "%s/staff-wellbeing/counts" % API
    assert_error(api(sw + "?by=icbx"), 400, "unknown_dimension",
                 "by=icbx: unknown dimension; " + DIMS_MSG)
    assert_error(api(sw + "?by=icb,icbx"), 400, "unknown_dimension",
                 "by=icbx: unknown dimension; " + DIMS_MSG)
    assert_error(api(sw + "?by=org_type"), 400, "unknown_dimension")
    assert_error(api(sw), 400, "missing_by")
    assert_error(api(sw + "?by="), 400, "unknown_dimension")
    assert_error(api(sw + "?by=icb,role,region"), 400, "too_many_dimensions")
    assert_error(api(sw + "?by=icb,icb"), 400, "repeated_dimension")
    assert_error(api(sw + "?by=icb&by=role"), 400, "repeated_parameter")
    assert_error(api(sw + "?by=icb&where=QE1"), 400, "unknown_parameter")
    assert_error(api(sw + "?by=icb&question=nope"), 400, "unknown_question")
    assert_error(api(sw + "?by=icb&question=wellbeing"), 400, "question_not_countable")
    assert_error(api(sw + "?by=icb&question=wellbeing__nope"), 400, "unknown_question")
    assert_error(api(sw + "?by=icb&question=helped_most"), 400, "question_not_countable")
    assert_error(api(sw + "?by=icb&question=hours_per_week"), 400, "question_not_countable")
    assert_error(api(sw + "?by=icb&question=role"), 400, "question_not_countable")
    long = "x" * 3000
    body = assert_error(api(sw + "?by=" + long), 400, "unknown_dimension")
    assert len(body["error"]["message"]) < 300, "a quoted value is bounded"
    assert api(sw + "?by=icb&question=wellbeing__valued").status == 200
    assert api(sw + "?by=region,staff_group").status == 200


# ------------------------------------------------------------------ counts: the rule

def test_api_primary_suppression_and_rounding():
    clear()
    try:
        # rule 2: 7 and 7 suppressed; rule 3: 8 -> 10, 30 -> 30, all 52 -> 50.
        # line {} + staff group holds two suppressed cells, so nothing more.
        seed([(7, "QMJ", "gp_partner", {}, 0), (7, "QMJ", "practice_nurse", {}, 0),
              (8, "QMJ", "clinical_pharmacist", {}, 0), (30, "QMJ", "dentist", {}, 0)])
        body = counts("staff_group")
        assert cells(body) == {("gp",): None, ("nursing",): None, ("pharmacy",): 10,
                               ("dental",): 30}, cells(body)
        assert body["totals"]["all"] == 50
        assert "optometry" not in json.dumps(body["cells"]), "0 is left out of cells"
    finally:
        clear()


def test_api_totals_rounded_from_true_counts():
    clear()
    try:
        # 12 -> 10 and 12 -> 10, but the total is 24 -> 25 (not 10 + 10)
        seed([(12, "QMJ", "gp_partner", {}, 0), (12, "QMJ", "practice_nurse", {}, 0)])
        body = counts("region,staff_group")
        assert cells(body) == {("Y56", "gp"): 10, ("Y56", "nursing"): 10}
        assert totals(body, "region") == {"Y56": 25}
        assert totals(body, "staff_group") == {"gp": 10, "nursing": 10}
        assert body["totals"]["all"] == 25
    finally:
        clear()


def test_api_secondary_suppression_rows_and_columns():
    clear()
    try:
        seed(DATA_A)
        # {Y56}+group: 3 alone -> Y56 nursing (20 < 23); {gp}+region: -> Y58 gp (20 < 23);
        # {nursing}+region: Y56 nursing alone -> Y58 nursing (30 < 50).
        body = counts("region,staff_group")
        assert cells(body) == {("Y56", "gp"): None, ("Y56", "nursing"): None,
                               ("Y58", "gp"): None, ("Y58", "nursing"): None}, cells(body)
        assert totals(body, "region") == {"Y56": 25, "Y58": 50}
        assert totals(body, "staff_group") == {"gp": 25, "nursing": 50}
        assert body["totals"]["all"] == 75
        # no row or column is left with exactly one suppressed cell
        for key in (0, 1):
            groups = {}
            for k, v in cells(body).items():
                groups.setdefault(k[key], []).append(v)
            for g, vals in groups.items():
                assert vals.count(None) != 1, "line %s keeps one suppressed cell" % g
    finally:
        clear()


def test_api_hierarchy_region_over_icb():
    clear()
    try:
        # {} + icb: QMJ (3) alone -> QJK (10); {Y56} + its ICBs: QMJ alone -> QMF
        # (20 < 23); {Y58}: QJK alone -> QSL (40 < 50).
        seed([(3, "QMJ", "gp_partner", {}, 0), (20, "QMF", "gp_partner", {}, 0),
              (10, "QJK", "gp_partner", {}, 0), (40, "QSL", "gp_partner", {}, 0)])
        body = counts("icb")
        assert cells(body) == {("QJK",): None, ("QMF",): None, ("QMJ",): None,
                               ("QSL",): None}, cells(body)
        assert [c["icb"] for c in body["cells"]] == ["QJK", "QMF", "QMJ", "QSL"], "byte order"
        assert cells(counts("region")) == {("Y56",): 25, ("Y58",): 50}
        assert counts("role")["totals"]["all"] == 75
    finally:
        clear()


def test_api_one_value_per_figure_across_queries():
    clear()
    try:
        seed(DATA_A)
        seen = {}

        def note(fig, v, where):
            if fig in seen:
                assert seen[fig][0] == v, "figure %r is %r in %s but %r in %s" % (
                    fig, v, where, seen[fig][0], seen[fig][1])
            seen[fig] = (v, where)

        for by in ("region", "staff_group", "icb", "role", "region,staff_group",
                   "staff_group,region", "icb,staff_group", "icb,role", "region,role",
                   "icb,region", "role,staff_group"):
            body = counts(by)
            dims = body["by"]
            for c in body["cells"]:
                fig = dict((d, c[d]) for d in dims)
                # {icb, its region} is {icb}; {role, its staff group} is {role}
                if "icb" in fig:
                    fig.pop("region", None)
                if "role" in fig:
                    fig.pop("staff_group", None)
                note(tuple(sorted(fig.items())), c["count"], by)
            for d in dims:
                for code, v in totals(body, d).items():
                    note(((d, code),), v, by + " totals")
            note((), body["totals"]["all"], by)
        cov = api_json("%s/%s/coverage" % (API, FORM))
        for i in cov["icbs"]:
            note((("icb", i["icb"]),), i["total"], "coverage")
            for g, v in i["counts"].items():
                if v != 0:
                    note((("icb", i["icb"]), ("staff_group", g)), v, "coverage")
        note((), cov["total"], "coverage")
    finally:
        clear()


def test_api_data_as_of_excludes_the_day_not_yet_over():
    clear()
    try:
        # rule 5 with counts_lag_days = 0: up to today (UTC), never tomorrow
        seed([(10, "QMJ", "gp_partner", {}, 0), (9, "QMJ", "gp_partner", {}, -1),
              (12, "QMJ", "gp_partner", {}, 1)])
        body = counts("icb")
        assert body["data_as_of"] == today().isoformat()
        assert body["totals"]["all"] == 20, "19 -> 20; tomorrow's 12 would give 30"
        assert api_json(API + "/" + FORM + "/coverage")["data_as_of"] == today().isoformat()
    finally:
        clear()


def test_api_counts_change_when_responses_change():
    clear()
    try:
        seed([(20, "QMJ", "gp_partner", {}, 0)])
        assert counts("icb")["totals"]["all"] == 20
        seed([(10, "QMJ", "gp_partner", {}, 0)])
        for _ in range(4):      # every worker, whatever it cached
            assert counts("icb")["totals"]["all"] == 30
    finally:
        clear()


# ---- the published lattice, built once and shared (perf.md B3, figures.c)

def published_rows(form=FORM):
    return lib.sql("SELECT marker_n, marker_max, length(blob) FROM pcs.published "
                   "WHERE form_id = %s" % q(form))


def top_id(form=FORM):
    """The marker's highest counted id (0006_change_marker.sql)."""
    return lib.sql_value("SELECT max(id) FROM pcs.response WHERE form_id = %s" % q(form))


def events(text, name, form=FORM):
    """The pcsurvey.log lines of event `name` for form."""
    return [ln for ln in text.splitlines()
            if " %s pid=" % name in ln and " form=%s " % form in ln]


def parallel_counts(n, by="icb,role"):
    """n calls at once, so that several workers answer."""
    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        return list(ex.map(lambda _: counts(by), range(n)))


def test_api_published_built_once_and_shared():
    clear()
    try:
        seed([(20, "QMJ", "gp_partner", {}, 0), (3, "QE1", "gp_partner", {}, 0)])
        off = lib.log_size("pcsurvey.log")
        first = counts("icb,role")
        rows = published_rows()
        assert len(rows) == 1 and rows[0][1] == top_id(), \
            "one shared lattice of the rows after one call: %r" % rows
        for _ in range(3):
            assert all(g == first for g in parallel_counts(8)), "one value per figure"
        log = lib.log_since("pcsurvey.log", off)
        built, loaded = events(log, "figures_built"), events(log, "figures_loaded")
        assert len(built) == 1 and "shared=stored" in built[0], \
            "built once for all workers, not once per worker: %r" % built
        builder = re.search(r"pid=(\d+)", built[0]).group(1)
        assert loaded and all("pid=%s " % builder not in ln for ln in loaded), \
            "the other workers load the stored lattice: %r" % loaded
        # the rows change: cold workers at once still build it once (the lock)
        seed([(5, "QMJ", "gp_partner", {}, 0)])
        off = lib.log_size("pcsurvey.log")
        got = parallel_counts(8)
        assert all(g == got[0] for g in got) and got[0]["totals"]["all"] == 30
        built = events(lib.log_since("pcsurvey.log", off), "figures_built")
        assert len(built) == 1, "8 cold calls, one build: %r" % built
        rows = published_rows()
        assert len(rows) == 1 and rows[0][1] == top_id(), "the older lattice is deleted: %r" % rows
    finally:
        clear()


def test_api_published_damaged_blob_rebuilt():
    clear()
    try:
        seed([(20, "QMJ", "gp_partner", {}, 0), (3, "QE1", "gp_partner", {}, 0)])
        first = counts("icb,role")
        key = lib.sql("SELECT data_as_of, marker_n, marker_max, marker_sum, shape, "
                      "encode(blob, 'hex') FROM pcs.published WHERE form_id = %s" % q(FORM))
        assert len(key) == 1
        day, n, mx, sm, shape, blob = key[0]
        # more rows move every worker to another lattice (the first is deleted) ...
        seed([(5, "QMJ", "gp_partner", {}, 0)])
        assert counts("icb,role")["totals"]["all"] == 30
        # ... the rows go back to the first ones (a deletion: the marker's n moves) ...
        lib.sql("DELETE FROM pcs.response WHERE form_id = %s AND id > %s" % (q(FORM), mx))
        n = lib.sql_value("SELECT n FROM pcs.response_deletions")
        # ... and the first lattice is found under that marker, one bit flipped
        lib.sql("INSERT INTO pcs.published (form_id, data_as_of, marker_n, marker_max, "
                "marker_sum, shape, blob) SELECT %s, %s, %s, %s, %s, %s, "
                "set_byte(b, length(b) / 2, get_byte(b, length(b) / 2) # 4) "
                "FROM decode(%s, 'hex') b"
                % (q(FORM), q(day), n, mx, sm, shape, q(blob)))
        off = lib.log_size("pcsurvey.log")
        got = parallel_counts(8)
        assert all(g == first for g in got), "the damaged blob is never served"
        log = lib.log_since("pcsurvey.log", off)
        assert events(log, "figures_rejected"), "the damage is noticed and logged"
        assert len(events(log, "figures_built")) == 1, "and the lattice rebuilt once"
        now = lib.sql_value("SELECT encode(blob, 'hex') FROM pcs.published WHERE form_id = %s"
                            % q(FORM))
        assert len(now) == len(blob), "the damaged blob is replaced"
    finally:
        clear()


def test_api_question_splits():
    clear()
    try:
        seed([(20, "QMJ", "gp_partner", {"setting": "practice", "support": ["eap", "peer"],
                                          "feel__valued": "3"}, 0),
              (10, "QMJ", "gp_partner", {"setting": "pcn", "support": ["none"],
                                          "feel__valued": "1"}, 0)])
        body = counts("icb", question="support")
        # choices: one row per ticked option
        assert cells(body) == {("QMJ", "eap"): 20, ("QMJ", "none"): 10, ("QMJ", "peer"): 20}
        assert totals(body, "support") == {"eap": 20, "none": 10, "peer": 20}
        assert body["totals"]["all"] == 30 and totals(body, "icb") == {"QMJ": 30}
        for c in body["cells"]:
            assert list(c) == ["icb", "support", "count", "suppressed"], c
        body = counts("region", question="feel__valued")
        assert cells(body) == {("Y56", "1"): 10, ("Y56", "3"): 20}
        assert totals(body, "feel__valued") == {"1": 10, "3": 20}
    finally:
        clear()


def test_api_bad_stored_values_never_break_counts():
    clear()
    try:
        seed([(20, "QMJ", "gp_partner", {"setting": "practice", "support": ["eap"],
                                          "feel__valued": "3"}, 0),
              # T-16: unknown option, duplicate element, a number, a string for a
              # choices answer, answers that are not an object, an unknown ICB
              (8, "QMJ", "gp_partner", {"setting": "bogus", "support": ["eap", "eap", "zzz"]}, 0),
              (8, "QMJ", "gp_partner", {"setting": 5, "support": "eap"}, 0),
              (2, "QMJ", "gp_partner", "[]", 0),
              (2, "QMJ", "gp_partner", "\"text\"", 0),
              (8, "NOPE", "gp_partner", {"setting": ["practice"]}, 0)])
        body = counts("icb", question="setting")
        assert cells(body) == {("QMJ", "practice"): 20}, cells(body)
        assert totals(body, "setting") == {"practice": 20}
        assert totals(body, "icb") == {"QMJ": 40}, "an unknown ICB counts in no ICB"
        assert body["totals"]["all"] == 50, "48 responses -> 50"
        body = counts("icb", question="support")
        # 20 + 8 (the duplicate counted once) = 28 -> 30; "eap" as a string counts nowhere
        assert totals(body, "support") == {"eap": 30}, totals(body, "support")
        body = counts("role", question="feel__valued")
        assert totals(body, "feel__valued") == {"3": 20}
    finally:
        clear()


# ------------------------------------------------------------------ coverage

def test_api_coverage_study_form_every_icb():
    body = api_json("%s/staff-wellbeing/coverage" % API)
    assert list(body) == ["form", "data_as_of", "disclosure", "staff_groups", "icbs",
                          "staff_group_totals", "total"], list(body)
    groups = list(reference("staff_groups.csv", "staff_group"))
    assert body["staff_groups"] == groups
    icbs = study_icbs()
    regions = reference("regions.csv", "region_code")
    assert len(body["icbs"]) == 42 and {i["icb"] for i in body["icbs"]} == set(icbs)
    want = sorted(icbs.values(), key=lambda r: (regions[r["region_code"]]["name"], r["name"]))
    assert [i["icb"] for i in body["icbs"]] == [r["icb_code"] for r in want], \
        "ordered by region, then name"
    for i in body["icbs"]:
        assert set(i) == {"icb", "name", "region", "counts", "total"}, i
        assert i["name"] == icbs[i["icb"]]["name"] and i["region"] == icbs[i["icb"]]["region_code"]
        assert list(i["counts"]) == groups
        for v in list(i["counts"].values()) + [i["total"]]:
            assert v is None or (isinstance(v, int) and v % 5 == 0 and (v == 0 or v > 7)), i
    assert list(body["staff_group_totals"]) == groups
    r = api("%s/staff-wellbeing/coverage.csv" % API)
    rows = list(csv.reader(io.StringIO(r.text, newline="")))
    assert rows[0] == ["icb", "icb_name", "region", "region_name"] + groups + ["total"]
    assert len(rows) == 43 and [x[0] for x in rows[1:]] == [i["icb"] for i in body["icbs"]]


def test_api_coverage_values_and_zeros():
    clear()
    try:
        seed(DATA_A)
        body = api_json("%s/%s/coverage" % (API, FORM))
        by = {i["icb"]: i for i in body["icbs"]}
        assert len(by) == 42
        assert by["QMJ"]["counts"]["gp"] is None and by["QMJ"]["counts"]["nursing"] is None
        assert by["QJK"]["counts"]["gp"] is None and by["QJK"]["counts"]["nursing"] is None
        assert by["QMJ"]["counts"]["dental"] == 0, "0 is written as 0, never null"
        assert by["QMJ"]["total"] == 25 and by["QJK"]["total"] == 50
        assert by["QE1"]["total"] == 0 and set(by["QE1"]["counts"].values()) == {0}
        assert body["staff_group_totals"]["gp"] == 25 and body["staff_group_totals"]["nursing"] == 50
        assert body["total"] == 75
        assert_error(api("%s/%s/coverage?by=icb" % (API, FORM)), 400, "unknown_parameter")
    finally:
        clear()


# ------------------------------------------------------------------ responses.csv

FORMULAS = ["=1+2", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx"]


def test_api_responses_csv_streamed_and_formula_safe():
    clear()
    try:
        seed([(1, "QMJ", "gp_partner", {"role": "gp_partner", "icb": "QMJ", "setting": v,
                                         "support": ["eap", "peer"], "hours": 37}, 0)
              for v in FORMULAS])
        r = api("%s/%s/responses.csv" % (API, FORM), scope="export")
        assert r.status == 200, r.status
        assert_api_headers(r, "text/csv")
        assert r.header("Content-Length") is None, "streamed, not buffered"
        assert "attachment" in (r.header("Content-Disposition") or "")
        rows = list(csv.reader(io.StringIO(r.text, newline="")))
        assert rows[0][:3] == ["response_id", "form_version", "submitted"]
        assert rows[0][3:] == ["role", "icb", "setting", "setting__other", "support",
                               "feel__valued", "feel__tired", "hours", "comment", "agree"]
        got = sorted(row[5] for row in rows[1:])
        assert got == sorted("'" + v for v in FORMULAS), got
        for row in rows[1:]:
            assert re.fullmatch(r"[0-9a-f]{32}", row[0]) and row[1] == "2"
            assert row[2] == today().isoformat() and row[7] == "eap;peer" and row[10] == "37"
        ids = lib.sql("SELECT encode(rid, 'hex') FROM pcs.response WHERE form_id = %s" % q(FORM))
        assert sorted(x[0] for x in ids) == sorted(row[0] for row in rows[1:])
    finally:
        clear()


def test_api_responses_csv_100k_rows_through_nginx():
    clear()
    try:
        lib.sql("INSERT INTO pcs.response (rid, form_id, form_version, submitted, receipt_hash, "
                "icb, region, role, staff_group, answers) SELECT "
                "substring(sha256(('big' || g)::bytea) for 16), %s, 2, (now() AT TIME ZONE 'UTC')::date, "
                "sha256(('bigh' || g)::bytea), 'QMJ', 'Y56', 'gp_partner', 'gp', "
                "jsonb_build_object('setting', 'pcn', 'comment', jsonb_build_object('sealed', "
                "encode(sha256(('c' || g)::bytea), 'base64'))) FROM generate_series(1, 100000) g"
                % q(FORM))
        h = {"Authorization": "Bearer " + token("export")}
        conn = __import__("http.client").client.HTTPConnection(lib.HOST, lib.PORT, timeout=120)
        conn.request("GET", "%s/%s/responses.csv" % (API, FORM), headers=h)
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader("Content-Length") is None
        lines = n = 0
        while True:
            chunk = resp.read(1 << 16)
            if not chunk:
                break
            n += len(chunk)
            lines += chunk.count(b"\n")
        conn.close()
        assert lines == 100001, "%d lines, want 100000 rows and a header" % lines
        assert n > 100000 * 60
    finally:
        clear()


def journey_with_text(text):
    """The real respondent journey on staff-wellbeing, with a sealed answer."""
    c = Client()
    base = "/f/staff-wellbeing"
    g = c.get(base)
    r = c.post(base + "/start", {"csrf": csrf(g.text)})
    assert r.status == 303, r.status
    pages = [("before-you-start", {"consent": "yes"}),
             ("about-your-work", {"role": "gp_salaried", "icb": "QE1"}),
             ("support", {}), ("how-work-feels", {}),
             ("your-ideas", {"helped_most": text})]
    for page, fields in pages:
        g = c.get("%s/p/%s" % (base, page))
        assert g.status == 200, "GET %s: %d" % (page, g.status)
        r = c.post("%s/p/%s" % (base, page), dict(fields, csrf=csrf(g.text)))
        assert r.status == 303, "POST %s: %d" % (page, r.status)
    chk = c.get(base + "/check")
    r = c.post(base + "/submit", {"csrf": csrf(chk.text)})
    assert r.status == 303, "submit: %d" % r.status


def test_api_responses_csv_decrypt_round_trip():
    marker = lib.unique("seal")
    text = '=HYPERLINK("http://x","y") ' + marker
    journey_with_text(text)
    rid = None
    try:
        r = api("/api/v1/forms/staff-wellbeing/responses.csv", scope="export")
        assert r.status == 200
        assert marker not in r.text, "a sealed answer is exported in clear"
        rows = list(csv.reader(io.StringIO(r.text, newline="")))
        col = rows[0].index("helped_most")
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "export.csv")
            with open(src, "wb") as f:
                f.write(r.body)
            p = subprocess.run([SAN, "decrypt", "--secret-key",
                                os.path.join(lib.VAR, "custodian", "research.sec"), src],
                               capture_output=True, timeout=60)
            assert p.returncode == 0, p.stderr.decode()
        out = list(csv.reader(io.StringIO(p.stdout.decode(), newline="")))
        mine = [row for row in out[1:] if marker in row[col]]
        assert len(mine) == 1, "the answer did not come back from decrypt"
        assert mine[0][col] == "'" + text, "decrypt keeps the formula prefix: %r" % mine[0][col]
        rid = mine[0][0]
        # a box starting with '+' (1 in 64) carries the CSV-injection "'" prefix
        raw = [row for row in rows[1:] if row[0] == rid]
        assert len(raw) == 1 and re.fullmatch(r"'?[A-Za-z0-9+/]+=*", raw[0][col]) and \
            len(raw[0][col]) > len(text), "the export holds the sealed box, as base64"
    finally:
        if rid:
            lib.sql("DELETE FROM pcs.response WHERE rid = decode(%s, 'hex')" % q(rid))


# ------------------------------------------------------------------ constant memory

def fcgi_request(path, params, on_chunk):
    """A minimal FastCGI client (responder role, one request)."""
    def record(rtype, content):
        return struct.pack(">BBHHBx", 1, rtype, 1, len(content), 0) + content

    def nv(name, value):
        out = b""
        for x in (name, value):
            out += struct.pack(">B", len(x)) if len(x) < 128 else struct.pack(">I", len(x) | 1 << 31)
        return out + name + value

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(120)
    s.connect(path)
    body = b"".join(nv(k.encode(), v.encode()) for k, v in params.items())
    s.sendall(record(1, struct.pack(">HB5x", 1, 0)) + record(4, body) + record(4, b"") +
              record(5, b""))
    buf = b""
    done = False
    while not done:
        data = s.recv(1 << 16)
        if not data:
            break
        buf += data
        while len(buf) >= 8:
            _, rtype, _, clen, plen = struct.unpack(">BBHHBx", buf[:8])
            if len(buf) < 8 + clen + plen:
                break
            if rtype == 6 and clen:
                on_chunk(buf[8:8 + clen])
            if rtype == 3:
                done = True
            buf = buf[8 + clen + plen:]
    s.close()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def test_api_export_memory_flat_100k_rows():
    """perf.md B4: the worker's RSS does not grow with the export.  Measured
    on the optimised build (bin/pcsurvey, one worker on its own socket): the
    sanitizer build's quarantine keeps freed memory resident by design."""
    if not os.access(OPT, os.X_OK):
        raise lib.Skip("bin/pcsurvey not built")
    clear()
    d = tempfile.mkdtemp(prefix="pcs-mem-")
    sock = os.path.join(d, "s.sock")
    conf = os.path.join(d, "pcsurvey.conf")
    with open(CONF) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(re.sub(r"(?m)^(socket|workers|log_level) =.*$", "", text) +
                "\nsocket = %s\nworkers = 1\nlog_level = warn\n" % sock)
    srv = subprocess.Popen([OPT, "serve", "--config", conf], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        lib.sql("INSERT INTO pcs.response (rid, form_id, form_version, submitted, receipt_hash, "
                "icb, region, role, staff_group, answers) SELECT "
                "substring(sha256(('mem' || g)::bytea) for 16), %s, 2, (now() AT TIME ZONE 'UTC')::date, "
                "sha256(('memh' || g)::bytea), 'QMJ', 'Y56', 'gp_partner', 'gp', "
                "jsonb_build_object('setting', 'pcn', 'comment', jsonb_build_object('sealed', "
                "encode(sha256(('a' || g)::bytea) || sha256(('b' || g)::bytea) || "
                "sha256(('c' || g)::bytea) || sha256(('d' || g)::bytea), 'base64'))) "
                "FROM generate_series(1, 100000) g" % q(FORM))
        assert lib.wait_for(lambda: os.path.exists(sock) and children(srv.pid), 10), "no worker"
        worker = children(srv.pid)[0]
        params = {"REQUEST_METHOD": "GET", "DOCUMENT_URI": "/api/v1/forms/%s/responses.csv" % FORM,
                  "QUERY_STRING": "", "HTTP_AUTHORIZATION": "Bearer " + token("export")}
        got = [0]

        def count(chunk):
            got[0] += len(chunk)

        fcgi_request(sock, dict(params, DOCUMENT_URI="/api/v1/forms"), count)  # warm up
        base = rss_kib(worker)
        peak = [base]
        got[0] = 0

        def sample(chunk):
            got[0] += len(chunk)
            if got[0] % (1 << 20) < len(chunk):
                peak[0] = max(peak[0], rss_kib(worker))

        fcgi_request(sock, params, sample)
        peak[0] = max(peak[0], rss_kib(worker))
        assert got[0] > 20 * 1024 * 1024, "export of %d bytes is too small to tell" % got[0]
        grew = peak[0] - base
        assert grew < 8 * 1024, "worker RSS grew by %d KiB exporting %d MiB" % (
            grew, got[0] >> 20)
    finally:
        srv.terminate()
        try:
            srv.wait(20)
        except subprocess.TimeoutExpired:
            srv.kill()
        clear()
        subprocess.run(["rm", "-rf", d])


# ------------------------------------------------------------------ /research pages

def assert_own_scripts(page):
    """T-19: no <script> but our own files from /assets/, nothing inline."""
    tags = re.findall(r"<script\b[^>]*>[^<]*</script>", page, re.I)
    assert page.lower().count("<script") == len(tags), "a script tag that is not closed at once"
    for tag in tags:
        assert re.fullmatch(r'<script\b[^>]*\bsrc="/assets/[^"]+"[^>]*></script>', tag), \
            "a script that is not our own file: %r" % tag


def login(c=None, tok=None):
    c = c or Client()
    g = c.get("/research/login")
    assert g.status == 200, g.status
    r = c.post("/research/login", {"csrf": csrf(g.text), "token": tok or token("aggregate")})
    assert r.status == 303 and r.location == "/research", "login: %d %r" % (r.status, r.location)
    return c, r


def sessions():
    return int(lib.sql_value("SELECT count(*) FROM pcs.research_session"))


def test_research_login_cookie_and_new_id_each_time():
    n0 = sessions()
    c, r = login()
    ck = r.cookie("pcs_session")
    assert ck is not None, "no pcs_session cookie"
    attrs = {k.lower() for k in ck.attrs}
    assert attrs >= {"httponly", "samesite", "path", "max-age"}, ck.raw
    assert ck.attrs["samesite"] == "Strict" and ck.attrs["path"] == "/research" and \
        ck.attrs["max-age"] == "28800", ck.raw
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", ck.value)
    assert sessions() == n0 + 1
    assert ck.value not in lib.pg_dump(), "the session id is stored in clear"
    assert r.header("Cache-Control") == "no-store"
    first = ck.value
    _, r2 = login(c)            # the same browser signs in again
    assert r2.cookie("pcs_session").value != first, "a new session id at every login"
    assert sessions() == n0 + 1, "the old session ends at the new login"
    old = Client()
    old.jar[("pcs_session", "/research")] = lib.Cookie("pcs_session=%s; Path=/research" % first)
    assert old.get("/research").status == 303, "the old session id still works"
    assert c.get("/research").status == 200


def test_research_login_refusals():
    c = Client()
    g = c.get("/research/login")
    assert 'name="token"' in g.text and g.header("Cache-Control") == "no-store"
    r = c.post("/research/login", {"csrf": csrf(g.text), "token": "x" * 43})
    assert r.status == 200 and "nhsuk-error-summary" in r.text and "not valid" in r.text
    assert r.cookie("pcs_session") is None
    r = c.post("/research/login", {"csrf": "0" * 32, "token": token("aggregate")})
    assert r.status == 403 and r.cookie("pcs_session") is None, "login without its CSRF token"
    r = c.post("/research/login", {"csrf": csrf(g.text), "token": ""})
    assert r.status == 200 and "Enter your API token" in r.text
    row = lib.sql("SELECT via, what, status FROM pcs.access_audit WHERE via = 'login' "
                  "ORDER BY id DESC LIMIT 1")
    assert row == [("login", "login", "401")], row


def test_research_pages_need_a_session():
    c = Client()
    for path in ("/research", "/research/coverage?form=staff-wellbeing",
                 "/research/preview/" + FORM, "/research/preview/%s/p/about-you" % FORM):
        r = c.get(path)
        assert r.status == 303 and r.location == "/research/login", "%s: %d" % (path, r.status)
    # a respondent's draft cookie is no session
    c.jar[("pcs_draft", "/")] = lib.Cookie("pcs_draft=ABCDEFGHJKMNPQRS; Path=/")
    assert c.get("/research").status == 303


def test_research_coverage_page():
    clear()
    try:
        seed(DATA_A)
        c, _ = login()
        r = c.get("/research/coverage?form=" + FORM)
        assert r.status == 200, r.status
        assert r.header("Cache-Control") == "no-store"
        page = r.text
        assert_own_scripts(page)
        assert not re.search(r"\sstyle\s*=", page, re.I), "a style attribute"
        assert "/assets/pcsurvey-research.css" in page
        assert "* hidden to protect privacy" in page
        assert "Office for National Statistics licensed under the Open Government Licence" in page
        svg = re.search(r"<svg\b.*?</svg>", page, re.S).group(0)
        paths = re.findall(r'<path class="pcs-map__icb ([^"]*)" d="[^"]+"><title>([^<]*)</title>',
                           svg)
        assert len(paths) == 42, "%d ICB paths on the map" % len(paths)
        titles = {html.unescape(t): cls for cls, t in paths}
        icbs = study_icbs()
        for r_ in icbs.values():
            assert any(t.startswith(r_["name"] + ":") for t in titles), r_["name"]
        assert titles["NHS North Central London Integrated Care Board: 25 responses"] != \
            "pcs-map__none"
        assert titles["NHS Devon Integrated Care Board: 50 responses"].startswith("pcs-shade-")
        none = [cls for t, cls in titles.items() if t.endswith(": 0 responses")]
        assert len(none) == 40 and set(none) == {"pcs-map__none"}, "no response: outlined"
        table = lib.text_of(re.search(r"<table\b.*?</table>", page, re.S).group(0))
        for r_ in icbs.values():
            assert r_["short_name"] in table, "ICB %s missing from the table" % r_["short_name"]
        row = re.search(r"North Central London</th>(.*?)</tr>", page, re.S).group(1)
        vals = re.findall(r"<td[^>]*>([^<]*)</td>", row)
        assert vals[:2] == ["*", "*"] and vals[-1] == "25", vals
        assert len(vals) == 9 and vals[2:8] == ["0"] * 6, "every cell written, 0 as 0"
        # regions in name order, then ICBs in name order within each
        regions = re.findall(r'colspan="\d+" class="nhsuk-table__header">([^<]*)</th>', page)
        assert regions == sorted(regions) and len(regions) == 7, regions
        got = lib.sql("SELECT via, what, form_id FROM pcs.access_audit ORDER BY id DESC LIMIT 1")
        assert got == [("session", "coverage", FORM)], got
    finally:
        clear()


def test_research_coverage_staff_group_filter():
    clear()
    try:
        seed([(20, "QMJ", "gp_partner", {}, 0), (30, "QJK", "practice_nurse", {}, 0)])
        c, _ = login()
        page = c.get("/research/coverage?form=%s&staff_group=nursing" % FORM).text
        assert re.search(r'<option value="nursing" selected>', page)
        assert "NHS Devon Integrated Care Board: 30 responses" in page
        assert "NHS North Central London Integrated Care Board: 0 responses" in page, \
            "the map shows nursing only"
        assert c.get("/research/coverage?form=%s&staff_group=nope" % FORM).status == 400
        assert c.get("/research/coverage?form=no-such").status == 404
        page = c.get("/research/coverage?form=" + FORM).text
        assert "NHS North Central London Integrated Care Board: 20 responses" in page
    finally:
        clear()


def test_research_logout_ends_the_session_server_side():
    c, r = login()
    sid = r.cookie("pcs_session").value
    n = sessions()
    home = c.get("/research")
    assert home.status == 200
    bad = c.post("/research/logout", {"csrf": "0" * 32})
    assert bad.status == 403 and sessions() == n, "logout needs the session's CSRF token"
    out = c.post("/research/logout", {"csrf": csrf(home.text)})
    assert out.status == 303 and out.location == "/research/login"
    assert out.cookie("pcs_session").attrs.get("max-age") == "0"
    assert sessions() == n - 1
    old = Client()
    old.jar[("pcs_session", "/research")] = lib.Cookie("pcs_session=%s; Path=/research" % sid)
    assert old.get("/research").status == 303, "the session still works after logout"


def test_research_revoked_token_ends_its_sessions():
    name = lib.unique("rev")
    t = new_token("aggregate", name)
    c, _ = login(tok=t)
    assert c.get("/research").status == 200
    rc, _, err = cli("token", "revoke", str(token_id(name)))
    assert rc == 0, err
    assert c.get("/research").status == 303


def test_research_preview_of_a_draft_form():
    assert Client().get("/f/" + FORM).status == 404, "a draft form is not public"
    n_resp = lib.count("pcs.response")
    n_draft = lib.count("pcs.draft")
    c, _ = login()
    idx = c.get("/research/preview/" + FORM)
    assert idx.status == 200 and "Test draft" in idx.text and "draft" in idx.text
    p1 = c.get("/research/preview/%s/p/about-you" % FORM)
    assert p1.status == 200
    assert 'name="role"' in p1.text and 'name="icb"' in p1.text
    assert "Save and come back later" not in p1.text, "a preview has no Save button"
    assert_own_scripts(p1.text)
    r = c.post("/research/preview/%s/p/about-you" % FORM, {"csrf": csrf(p1.text)})
    assert r.status == 200 and "nhsuk-error-summary" in r.text, "required answers are checked"
    r = c.post("/research/preview/%s/p/about-you" % FORM,
               {"csrf": csrf(p1.text), "role": "gp_partner", "icb": "QE1"})
    assert r.status == 303 and r.location == "/research/preview/%s/p/your-work" % FORM
    p2 = c.get(r.location)
    assert 'name="feel__valued"' in p2.text and "These questions are about" in p2.text
    p3 = c.get("/research/preview/%s/p/comments" % FORM)
    r = c.post("/research/preview/%s/p/comments" % FORM, {"csrf": csrf(p3.text), "agree": "yes"})
    assert r.status == 303 and r.location == "/research/preview/" + FORM
    r = c.post("/research/preview/%s/p/about-you" % FORM, {"csrf": "0" * 32, "role": "x"})
    assert r.status == 403
    assert c.get("/research/preview/%s/p/nope" % FORM).status == 404
    assert c.get("/research/preview/no-such-form").status == 404
    assert lib.count("pcs.response") == n_resp and lib.count("pcs.draft") == n_draft, \
        "a preview stored something"
