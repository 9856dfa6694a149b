"""Issue 4: the four study forms answered in full through nginx, every
question of every page shown, with awkward text (quotes, commas, line
breaks, a leading "=" or "-", non-ASCII and a 4-byte character), then:
the clear fields of pcs.response.answers hold exactly what was chosen, the
dimension columns what forms.md derives, and `pcsurvey export` followed by
`pcsurvey decrypt` gives back, cell by cell, what the respondent typed."""

import csv
import io
import json
import os
import tempfile
import time

import lib
from test_journey import (CONF, Resp, cli, csv_cell, max_response_id, new_rows, why)

REF = os.path.join(lib.ROOT, "sql", "reference")


def load_form(fid):
    with open(os.path.join(lib.ROOT, "forms", fid + ".json"), encoding="utf-8") as f:
        return json.load(f)


def ref_rows(name):
    with open(os.path.join(REF, name), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def cond_holds(c, ans):
    """forms.md Conditions, evaluated on the answers given so far."""
    if "all" in c:
        return all(cond_holds(k, ans) for k in c["all"])
    if "any" in c:
        return any(cond_holds(k, ans) for k in c["any"])
    if "not" in c:
        return not cond_holds(c["not"], ans)
    v = ans.get(c["question"])
    if "answered" in c:
        return (v not in (None, "", [])) == c["answered"]
    if v in (None, "", []):
        return False
    if "equals" in c:
        return str(v) == str(c["equals"])
    if "in" in c:
        return str(v) in [str(x) for x in c["in"]]
    if "includes" in c:
        return c["includes"] in v
    if "at_least" in c:
        return int(v) >= c["at_least"]
    if "at_most" in c:
        return int(v) <= c["at_most"]
    raise AssertionError("unknown condition %r" % c)


def texts(tag):
    """Awkward answers: (one-line text, several lines as posted, as stored)."""
    m = lib.unique(tag)
    one = "=1+2, \"%s\" caf\u00e9 \u2013 \U0001F600 & <b>" % m
    many = "-first line, %s\r\n\r\n  second \"line\"; \u00fc\u00df\r\nthird\ttab" % m
    return m, one, many, many.replace("\r\n", "\n")


def fill(form, overrides, tag):
    """The fields for every question of the form: overrides first, else a
    default per type.  Returns {qid: posted value} (lists for choices)."""
    m, one, many, _ = texts(tag)
    out = dict(overrides)
    for page in form["pages"]:
        for q in page["questions"]:
            qid, t = q["id"], q["type"]
            if qid in overrides:
                out[qid] = overrides[qid]
                continue
            if t == "text":
                out[qid] = one[:q.get("max_length", 200)]
            elif t == "textarea":
                out[qid] = many
            elif t == "email":
                out[qid] = "%s.Name@Example.org" % m
            elif t == "number":
                out[qid] = str(min(q["max"], q["min"] + 7))
            elif t in ("choice", "select"):
                out[qid] = q["options"][0]["value"] if "options" in q else None
            elif t == "choices":
                opts = [o["value"] for o in q.get("options", []) if not o.get("exclusive")]
                out[qid] = opts[:2]
            elif t == "scale":
                pts = [o["value"] for o in q["options"]]
                for i, s in enumerate(q["statements"]):
                    out["%s__%s" % (qid, s["id"])] = pts[i % len(pts)]
            elif t == "consent":
                out[qid] = "yes"
    return out


def walk(r, form, answers):
    """Posts every shown page in order with the answers of its shown
    questions; returns {qid: value} of the questions that were shown."""
    shown = {}
    path = None
    pages = form["pages"]
    i = 0
    while i < len(pages):
        page = pages[i]
        if "show_if" in page and not cond_holds(page["show_if"], shown):
            i += 1
            continue
        if path is not None:
            assert path == r.path(page["id"]), "the server went to %r, expected page %s" % (path, page["id"])
        fields = []
        for q in page["questions"]:
            if "show_if" in q and not cond_holds(q["show_if"], shown):
                continue
            qid = q["id"]
            if q["type"] == "info":
                continue
            if q["type"] == "scale":
                for s in q["statements"]:
                    k = "%s__%s" % (qid, s["id"])
                    fields.append((k, answers[k]))
                    shown[k] = answers[k]
                continue
            v = answers.get(qid)
            if v is None or v == []:
                continue
            if isinstance(v, list):
                fields += [(qid, x) for x in v]
            else:
                fields.append((qid, v))
            shown[qid] = v
            if q.get("other") and v == "other":
                fields.append((qid + "__other", answers[qid + "__other"]))
                shown[qid + "__other"] = answers[qid + "__other"]
        x = r.post(page["id"], fields)
        assert x.status == 303, "POST %s: %s" % (page["id"], why(x))
        path = x.location
        i += 1
    assert path == "/f/%s/check" % form["id"], "the walk ended at %r" % path
    return shown


def questions(form):
    return {q["id"]: q for p in form["pages"] for q in p["questions"]}


def stored_text(q, v):
    """What valid.c keeps of a typed answer: trimmed, line breaks as LF."""
    v = v.strip(" \t\r\n")
    return v.replace("\r\n", "\n").replace("\r", "\n") if q["type"] == "textarea" else v


def expectations(form, shown):
    """(clear answers as JSON values, sealed answers as text, export cells)."""
    qs = questions(form)
    clear, sealed, cells = {}, {}, {}
    for k, v in shown.items():
        base, _, part = k.partition("__")
        q = qs[base]
        if part == "other":
            sealed[k] = stored_text(q, v)
            cells[k] = csv_cell(sealed[k])
            continue
        store = q.get("store", "sealed" if q["type"] in ("text", "textarea", "email") else "clear")
        if store == "sealed":
            sealed[k] = stored_text(q, v)
            cells[k] = csv_cell(sealed[k])
        elif store == "pseudonym":
            continue
        elif q["type"] == "number":
            clear[k] = int(v)
            cells[k] = csv_cell(str(int(v)))
        elif q["type"] == "choices":
            clear[k] = list(v)
            cells[k] = ";".join(v)
        else:
            clear[k] = v
            cells[k] = csv_cell(v)
    return clear, sealed, cells


def export_rows(fid):
    """`pcsurvey export` and `pcsurvey decrypt`: (raw rows, decrypted rows)."""
    with tempfile.TemporaryDirectory() as d:
        exp, dec = os.path.join(d, "e.csv"), os.path.join(d, "d.csv")
        cli("export", "--form", fid, "--out", exp, "--config", CONF)
        cli("decrypt", "--secret-key", os.path.join(lib.VAR, "custodian", "research.sec"), exp, "--out", dec)
        with open(exp, encoding="utf-8", newline="") as f:
            raw = list(csv.DictReader(io.StringIO(f.read())))
        with open(dec, encoding="utf-8", newline="") as f:
            clear = list(csv.DictReader(io.StringIO(f.read())))
    return raw, clear


def export_columns(form):
    cols = []
    for q in questions(form).values():
        if q["type"] == "info":
            continue
        if q["type"] == "scale":
            cols += ["%s__%s" % (q["id"], s["id"]) for s in q["statements"]]
            continue
        cols.append(q["id"])
        if q.get("other"):
            cols.append(q["id"] + "__other")
    return cols


def round_trip(fid, overrides, dims, code=None):
    form = load_form(fid)
    tag = fid.split("-")[0][:6]
    answers = fill(form, overrides, tag)
    r = Resp(fid)
    r.start(code=code)
    shown = walk(r, form, answers)
    last = max_response_id()
    r.submit_ok()
    rows = new_rows(last)
    assert len(rows) == 1, "%s: %d rows" % (fid, len(rows))
    row = rows[0]
    clear, sealed, cells = expectations(form, shown)
    a = row["answers"]
    for k, v in clear.items():
        assert a.get(k) == v, "%s: answers[%r] = %r, typed %r" % (fid, k, a.get(k), v)
    for k in sealed:
        assert isinstance(a.get(k), dict) and set(a[k]) == {"sealed"}, "%s: %s not sealed: %r" % (fid, k, a.get(k))
    assert set(a) == set(clear) | set(sealed), "%s: extra keys %r" % (fid, sorted(set(a) - set(clear) - set(sealed)))
    for d, want in dims.items():
        assert row[d] == want, "%s: column %s = %r, expected %r" % (fid, d, row[d], want)
    assert row["form_version"] == str(form["version"]), "%s: form_version %r" % (fid, row["form_version"])
    raw, dec = export_rows(fid)
    assert list(dec[0].keys()) == ["response_id", "form_version", "submitted"] + export_columns(form), \
        "%s: export columns %r" % (fid, list(dec[0].keys()))
    assert len(raw) == len(dec), "%s: decrypt changed the number of rows" % fid
    mine = [i for i, x in enumerate(dec) if all(x[k] == v for k, v in cells.items() if k in sealed)]
    assert len(mine) == 1, "%s: %d decrypted rows hold the typed text" % (fid, len(mine))
    got, enc = dec[mine[0]], raw[mine[0]]
    for k in export_columns(form):
        want = cells.get(k, "")
        assert got[k] == want, "%s: decrypted cell %s = %r, typed %r" % (fid, k, got[k], want)
        if k in sealed:
            assert enc[k] != got[k] and sealed[k] not in enc[k], "%s: %s is clear in the export" % (fid, k)
        else:
            assert enc[k] == got[k], "%s: decrypt changed clear cell %s" % (fid, k)
    ts = form.get("timestamp", "day")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    want = {"day": today, "month": today[:7]}.get(ts)
    if want:
        assert got["submitted"] in (want, ), "%s: submitted %r at precision %s" % (fid, got["submitted"], ts)
    # nothing typed is in the database or the logs in clear
    dump, logs = lib.pg_dump(), lib.log_text()
    for k, v in sealed.items():
        marker = [w for w in v.replace('"', " ").split() if w.startswith(tag)]
        for mk in marker:
            assert mk not in dump, "%s: %s in the database in clear" % (fid, k)
            assert mk not in logs, "%s: %s in a log" % (fid, k)
    return set(shown)


def assert_all_asked(fid, *shown):
    """Every question of the form was answered by one of the walks."""
    seen = set().union(*shown)
    for q in questions(load_form(fid)).values():
        if q["type"] == "info":
            continue
        keys = ["%s__%s" % (q["id"], s["id"]) for s in q["statements"]] if q["type"] == "scale" else [q["id"]]
        for k in keys:
            assert k in seen, "%s: no walk answered %s: set an override" % (fid, k)


def test_staff_wellbeing_round_trip():
    m, one, many, _ = texts("swo")
    a = round_trip("staff-wellbeing", {
        "role": "other", "role__other": "Wellbeing \"lead\", " + m,
        "icb": "QWO", "work_setting": "other", "work_setting__other": "-Hub, " + m,
        "arrs_funded": "yes", "offered": ["eap", "peer_support", "clinical_supervision"],
        "leave_intention": "yes", "leave_reasons": ["workload", "own_health"],
        "interview": "yes", "hours_per_week": "0", "arrs_practices": "40",
    }, {"role": "other", "staff_group": "other", "icb": "QWO", "region": "Y63"})
    assert_all_asked("staff-wellbeing", a)


def test_organisation_provision_round_trip():
    m, one, many, _ = texts("orgo")
    a = round_trip("organisation-provision", {
        "org_type": "other", "org_type__other": "@Co-op, " + m, "scope": "several_icbs",
        "icbs_covered": ["QE1", "QOP", "QYG"], "staff_groups": ["gp", "pharmacy"],
        "interventions": ["eap", "signposting"], "funding": ["icb", "grants"],
    }, {"org_type": "other", "icb": "", "region": ""})
    b = round_trip("organisation-provision", {"org_type": "pcn", "scope": "one_icb", "icb": "QKK"},
                   {"org_type": "pcn", "icb": "QKK", "region": "Y56"})
    c = round_trip("organisation-provision", {"org_type": "charity", "scope": "region", "region": "Y58"},
                   {"org_type": "charity", "icb": "", "region": "Y58"})
    assert_all_asked("organisation-provision", a, b, c)


def test_patient_voice_round_trip():
    a = round_trip("patient-voice", {"icb": "QHM", "involvement": ["ppg", "other"]},
                   {"icb": "QHM", "region": "Y63", "role": ""})
    assert_all_asked("patient-voice", a)


def test_icb_provision_round_trip():
    rc, out, err = cli("invite", "create", "--form", "icb-provision", "--count", "1", "--label",
                       lib.unique("rt"), "--config", CONF)
    code = out.strip().splitlines()[1].split(",")[0]
    a = round_trip("icb-provision", {
        "icb": "QUE", "staff_groups_covered": ["gp", "nursing", "dental"],
        "interventions_commissioned": ["eap", "schwartz_rounds"], "arrs_offer": "yes",
        "spend_2025_26": "50000000",
    }, {"icb": "QUE", "region": "Y61"}, code=code)
    assert_all_asked("icb-provision", a)
