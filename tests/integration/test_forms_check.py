"""`pcsurvey check` at the command line (cli.md, forms.md: Limits the
checker enforces): every broken file of tests/unit/forms-bad/ exits 1 with
its `file: path: message` line (the expected lines are read from the
table bad[] of tests/unit/test_form.c, so the two suites cannot drift
apart); the four study forms and the test forms exit 0 and print nothing;
each count limit of forms.md is checked at the limit and one past it.
Needs no server: it runs the built binary."""

import copy
import glob
import json
import os
import re
import subprocess
import tempfile

import lib

BAD_DIR = os.path.join("tests", "unit", "forms-bad")


def binary():
    for p in (os.path.join(lib.ROOT, "build", "san", "pcsurvey"),
              os.path.join(lib.ROOT, "bin", "pcsurvey")):
        if os.access(p, os.X_OK):
            return p
    raise lib.Skip("no pcsurvey binary built")


def check(*files, cwd=None):
    """(exit code, stdout lines, stderr) of `pcsurvey check FILES`."""
    p = subprocess.run([binary(), "check"] + list(files), capture_output=True, timeout=120,
                       cwd=cwd or lib.ROOT, env=dict(os.environ, ASAN_OPTIONS="detect_leaks=1"))
    out = p.stdout.decode("utf-8", "replace")
    return p.returncode, [l for l in out.split("\n") if l], p.stderr.decode("utf-8", "replace")


def c_string(lit):
    """The value of a C string literal's body (the escapes the table uses)."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), lit)


def bad_table():
    """[(file, want)] from bad[] in tests/unit/test_form.c."""
    with open(os.path.join(lib.ROOT, "tests", "unit", "test_form.c"), encoding="utf-8") as f:
        src = f.read()
    start = src.index("} bad[] = {")
    end = src.index("\n};", start)
    rows = re.findall(r'\{\s*"((?:[^"\\]|\\.)*)",\s*"((?:[^"\\]|\\.)*)"\s*\}', src[start:end])
    return [(c_string(a), c_string(b)) for a, b in rows]


def test_every_forms_bad_file_exit_1_with_file_path_message():
    table = bad_table()
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(lib.ROOT, BAD_DIR, "*.json")))
    assert len(table) >= 100, "only %d rows read from test_form.c" % len(table)
    assert sorted(f for f, _ in table) == files, "bad[] and forms-bad/ differ: %r" % (
        sorted(set(files) ^ set(f for f, _ in table)))
    failures = []
    for name, want in table:
        rel = os.path.join(BAD_DIR, name)
        rc, lines, err = check(rel)
        prefix = rel + ": "
        if rc != 1:
            failures.append("%s: exit %d (want 1)" % (name, rc))
            continue
        if not lines or any(not l.startswith(prefix) for l in lines):
            failures.append("%s: lines not all '%s<path>: <message>': %r" % (name, prefix, lines[:3]))
            continue
        if not any(want in l for l in lines):
            failures.append("%s: no line with %r in %r" % (name, want, lines[:3]))
        if "AddressSanitizer" in err or "runtime error" in err:
            failures.append("%s: sanitizer report" % name)
    assert not failures, "%d of %d: %s" % (len(failures), len(table), "; ".join(failures[:5]))


def test_forms_example_message_exactly():
    rel = os.path.join(BAD_DIR, "cond-typo.json")
    rc, lines, _ = check(rel)
    assert rc == 1 and lines == [rel + ': pages[2].questions[0].show_if.question: "rol" is not a question '
                                 'on an earlier page (did you mean "role"?)'], "got %r" % lines


def test_study_and_test_forms_pass():
    forms = sorted(glob.glob(os.path.join("forms", "*.json"), root_dir=lib.ROOT))
    assert len(forms) == 4, "expected the four study forms, found %r" % forms
    rc, lines, err = check(*forms)
    assert rc == 0 and lines == [], "study forms: exit %d: %r %s" % (rc, lines[:5], err[-300:])
    mine = sorted(glob.glob(os.path.join("tests", "forms", "test-journey-*.json"), root_dir=lib.ROOT))
    rc, lines, err = check(*mine)
    assert rc == 0 and lines == [], "test forms: exit %d: %r" % (rc, lines[:5])


def test_many_files_one_run_reports_each_and_exits_1():
    files = ["forms/staff-wellbeing.json", os.path.join(BAD_DIR, "cond-typo.json"),
             "forms/patient-voice.json", os.path.join(BAD_DIR, "bad-type.json")]
    rc, lines, err = check(*files)
    assert rc == 1, "exit %d" % rc
    assert any(l.startswith(files[1] + ": ") for l in lines) and any(l.startswith(files[3] + ": ") for l in lines), \
        "a broken file is not reported: %r" % lines
    assert not any(l.startswith("forms/") for l in lines), "a good file is reported: %r" % lines


def test_no_file_is_a_usage_error():
    rc, lines, err = check()
    assert rc == 2, "check without files: exit %d" % rc
    assert err.strip() and len(err.strip().splitlines()) == 1, "usage error should be one line: %r" % err


BASE = {"id": "x", "version": 1, "title": "T", "audience": "staff", "status": "open", "access": "open",
        "privacy_notice": "P", "pages": [{"id": "p1", "title": "P1", "questions": [
            {"id": "q1", "type": "choice", "label": "Q1",
             "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]}]}]}


def text_q(qid):
    return {"id": qid, "type": "text", "label": "L"}


def pages_of(n):
    return [{"id": "p%d" % i, "title": "P", "questions": [text_q("q%d" % i)]} for i in range(n)]


def questions_of(n):
    return [text_q("q%d" % i) for i in range(n)]


def form_of(nq):
    pages, i = [], 0
    while i < nq:
        k = min(100, nq - i)
        pages.append({"id": "p%d" % len(pages), "title": "P",
                      "questions": [text_q("q%d" % (i + j)) for j in range(k)]})
        i += k
    return pages


def scale(nst):
    return {"id": "s", "type": "scale", "label": "S", "options": [{"value": "1", "label": "1"}],
            "statements": [{"id": "s%d" % i, "label": "S"} for i in range(nst)]}


def not_n(n):
    c = {"question": "q1", "equals": "a"}
    for _ in range(n - 1):
        c = {"not": c}
    return c


# forms.md limits: (name, change, None if fine at this size else (path, message fragment))
LIMITS = [
    ("pages-50", lambda f: f.update(pages=pages_of(50)), None),
    ("pages-51", lambda f: f.update(pages=pages_of(51)), ("pages", "the limit is 50")),
    ("page-q-100", lambda f: f["pages"][0].update(questions=questions_of(100)), None),
    ("page-q-101", lambda f: f["pages"][0].update(questions=questions_of(101)),
     ("pages[0].questions", "the limit is 100")),
    ("form-q-1000", lambda f: f.update(pages=form_of(1000)), None),
    ("form-q-1001", lambda f: f.update(pages=form_of(1001)), ("pages", "the limit is 1000 per form")),
    ("opts-200", lambda f: f["pages"][0]["questions"][0].update(
        options=[{"value": "o%d" % i, "label": "O"} for i in range(200)]), None),
    ("opts-201", lambda f: f["pages"][0]["questions"][0].update(
        options=[{"value": "o%d" % i, "label": "O"} for i in range(201)]),
     ("pages[0].questions[0].options", "the limit is 200")),
    ("stmts-30", lambda f: f["pages"][0]["questions"].__setitem__(0, scale(30)), None),
    ("stmts-31", lambda f: f["pages"][0]["questions"].__setitem__(0, scale(31)),
     ("pages[0].questions[0].statements", "the limit is 30")),
    ("depth-8", lambda f: f["pages"].append({"id": "p2", "title": "P", "show_if": not_n(8),
                                             "questions": [text_q("q2")]}), None),
    ("depth-9", lambda f: f["pages"].append({"id": "p2", "title": "P", "show_if": not_n(9),
                                             "questions": [text_q("q2")]}),
     ("pages[1].show_if" + ".not" * 8, "nested at most 8 deep")),
    ("qid-63", lambda f: f["pages"][0]["questions"][0].update(id="q" + "a" * 62), None),
    ("qid-64", lambda f: f["pages"][0]["questions"][0].update(id="q" + "a" * 63),
     ("pages[0].questions[0].id", "is not a valid question id")),
    ("page-typo", lambda f: f["pages"].append({"id": "p2", "title": "P", "show_if": {"question": "q", "equals": "a"},
                                               "questions": [text_q("q2")]}),
     ("pages[1].show_if.question", '"q" is not a question on an earlier page (did you mean "q1"?)')),
    ("choices-max-below-min", lambda f: f["pages"][0]["questions"].__setitem__(0, {
        "id": "c", "type": "choices", "label": "C", "min_selected": 2, "max_selected": 1,
        "options": [{"value": v, "label": v} for v in "abc"]}),
     ("pages[0].questions[0].min_selected", "is more than max_selected")),
    ("choices-max-over", lambda f: f["pages"][0]["questions"].__setitem__(0, {
        "id": "c", "type": "choices", "label": "C", "max_selected": 5,
        "options": [{"value": v, "label": v} for v in "ab"]}),
     ("pages[0].questions[0].max_selected", "there are only 2 options")),
    ("info-required", lambda f: f["pages"][0]["questions"].__setitem__(0, {
        "id": "i", "type": "info", "text": "T", "required": True}),
     ("pages[0].questions[0].required", "does not apply to an info question")),
    ("email-pattern", lambda f: f["pages"][0]["questions"].__setitem__(0, {
        "id": "e", "type": "email", "label": "E", "pattern": "x"}),
     ("pages[0].questions[0].pattern", "does not apply to an email question")),
    ("closes-not-date", lambda f: f.update(closes="2026-13-01"), ("closes", "is not a date")),
]


def test_limits_at_and_one_past():
    failures = []
    with tempfile.TemporaryDirectory() as d:
        for name, change, want in LIMITS:
            f = copy.deepcopy(BASE)
            f["id"] = name
            change(f)
            path = os.path.join(d, name + ".json")
            with open(path, "w", encoding="utf-8") as fp:
                json.dump(f, fp)
            rc, lines, err = check(path)
            if want is None:
                if rc != 0 or lines:
                    failures.append("%s: should pass, exit %d %r" % (name, rc, lines[:2]))
                continue
            line = "%s: %s: " % (path, want[0])
            if rc != 1 or not any(l.startswith(line) and want[1] in l for l in lines):
                failures.append("%s: exit %d, want %r ... %r, got %r" % (name, rc, line, want[1], lines[:2]))
        # File <= 1 MiB: measured in bytes, at the limit and one past
        for size, ok in ((1024 * 1024, True), (1024 * 1024 + 1, False)):
            f = copy.deepcopy(BASE)
            f["id"] = "size-%d" % size
            f["intro"] = ""
            pad = size - len(json.dumps(f).encode())
            f["intro"] = "a" * pad
            path = os.path.join(d, f["id"] + ".json")
            with open(path, "w", encoding="utf-8") as fp:
                json.dump(f, fp)
            assert os.path.getsize(path) == size
            rc, lines, err = check(path)
            if ok and (rc != 0 or lines):
                failures.append("%d bytes: should pass, exit %d %r" % (size, rc, lines[:1]))
            if not ok and (rc != 1 or not any(l.startswith(path + ": (file): ") and "1 MiB" in l for l in lines)):
                failures.append("%d bytes: exit %d %r" % (size, rc, lines[:1]))
    assert not failures, "; ".join(failures)
