#!/usr/bin/env python3
"""seed.py: writes the hand-made seed inputs of tests/fuzz/corpus/<harness>/.

Run from anywhere: python3 tests/fuzz/seed.py.  Each seed is named
seed-<what>; files that libFuzzer's merge added (hex names) are left alone.
The form seeds are the study forms of forms/ renamed to id "fuzz" (the
harness loads "fuzz.json"), a few hostile files, and tests/unit/forms-bad/.
"""

import glob
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def put(harness, name, data):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


URLENC = {
    "simple": "a=1&b=2",
    "csrf": "csrf=0123456789abcdef0123456789abcdef&consent=yes",
    "repeat": "q1=1&q1=5",                      # T-13
    "case": "q1=1&Q1=5",
    "overlong": "x=%C0%AF",                     # T-10
    "surrogate": "x=%ED%A0%80",
    "f5": "x=%F5%80%80%80",
    "truncated": "x=%E2%82",
    "nul": "x=a%00b",                            # T-11
    "esc": "x=%1B%5B31m",
    "crlf": "text=line1%0D%0Aline2&t=%09tab",
    "plus": "a+b=c+d",
    "empty": "=&&&=x&y",
    "badpct": "x=%zz",
    "pct-end": "x=%",
    "pct-end2": "x=%4",
    "emoji": "name=%F0%9F%98%80&other=%E2%80%AE",
    "raw-utf8": "x=\u00e9\u202e",
    "mass": "respondent_id=1&created_at=now&survey_id=other&is_test=false",
    "sqli": "x=%27%3B+SELECT+pg_sleep(5)--&y=%24%24&z=E%27%5C%5C%27",
    "long-name": "n" * 201 + "=1",
    "many": "&".join("f%d=%d" % (i, i) for i in range(1100)),
}
COOKIES = {
    "draft": "pcs_draft=ABCD-EFGH-JKMN-PQRS",
    "two": "a=1; b=2",
    "quoted": ' pcs_draft = "0123456789ABCDEF" ',
    "bare": "x",
    "semis": ";;;=;a=",
    "lookalike": "pcs_draft=oIlL0123456789ab",
    "tabs": "\tpcs_draft=abcd efgh jkmn pqrs\t; pcs_session=x",
    "many": "; ".join("c%d=%d" % (i, i) for i in range(40)),
    "u": "pcs_draft=UUUUUUUUUUUUUUUU",
}
REQUEST = {
    "page": "GET\0/f/staff-wellbeing/p/support\0a=1\0pcs_draft=X\0application/x-www-form-urlencoded",
    "dotdot": "POST\0/f/../etc/passwd\0\0\0text/plain",
    "empty-seg": "GET\0/f//x\0",
    "deep": "GET\0/a/b/c/d/e/f/g/h/i\0",
    "dot": "GET\0/./f\0",
    "put": "PUT\0/f/x\0",
    "charset": "POST\0/withdraw\0q=%00\0\0application/x-www-form-urlencoded; charset=iso-8859-1",
    "charset-ok": "POST\0/withdraw\0\0\0Application/X-WWW-Form-Urlencoded; charset=UTF-8",
    "ctl-path": "GET\0/f/\x1b[31m\0",
    "bad-utf8-path": b"GET\0/f/\xc0\xaf\0".decode("latin-1"),
    "trailing": "HEAD\0/f/x/\0a&b&&c=\0",
    "root": "GET\0/\0",
    "no-slash": "GET\0f/x\0",
    "invite": "GET\0/i/ABCD-EFGH-JKMN-PQRS\0x=1\0",
}
STR = {
    "zero": "0", "neg": "-1", "num": "42", "max18": "999999999999999999",
    "over": "9999999999999999999", "plus": "+3", "suffix": "3abc", "hex": "0x3",
    "blank": " 3", "dec": "3.0", "exp": "1e309", "nan": "NaN", "lead0": "007",
    "minus0": "-0", "dash": "-", "empty": "",
    "nonleap": "2026-02-29", "leap": "2024-02-29", "year0": "0000-01-01",
    "max-date": "9999-12-31", "bad-month": "2026-13-01", "neg-month": "2026--1-01",
    "day31": "2026-04-31", "century": "1900-02-29", "y2k": "2000-02-29",
    "overlong": b"\xc0\xaf", "surrogate": b"\xed\xa0\x80", "past": b"\xf4\x90\x80\x80",
    "e9": "\u00e9", "esc": "\x1b[31m", "del": "a\x7fb", "tab": "a\tb\r\n",
    "emoji": "\U0001F600", "trunc": b"\xe2\x82",
}
CSV = {
    "export": ("response_id,form_version,submitted,role,helped_most\r\n"
               "0a1b,1,2026-11-23,gp_partner," + "A" * 88 + "==\r\n"
               "0a1c,1,2026-W47,,\r\n"),
    "quotes": 'a,"b""c",d\r\n"x\r\ny",z\n',
    "formula": "=HYPERLINK(\"http://x\",\"y\"),+1,-2,@SUM(A1),\tx,\rq\r\n",
    "prefixed": "\"'=1+2\",ok\r\n",
    "unterminated": 'a,"b\r\n',
    "after-quote": '"a"b,c\r\n',
    "bare-cr": "a,b\rc\r\n",
    "quote-inside": 'a,b"c\r\n',
    "empty-lines": "\r\n\n\r\n",
    "no-eol": "a,b,c",
    "base64": "YWJj,YWJ,YW==,YWI=,Y===,@@@@\n",
    "many-cells": ",".join(["x"] * 5000) + "\r\n",
}


def forms():
    out = {}
    for p in sorted(glob.glob(os.path.join(ROOT, "forms", "*.json"))):
        with open(p, encoding="utf-8") as f:
            doc = json.load(f)
        doc["id"] = "fuzz"
        out["study-" + os.path.basename(p)[:-5]] = json.dumps(doc, indent=1, ensure_ascii=False)
    minimal = {
        "id": "fuzz", "version": 1, "title": "T", "audience": "staff", "status": "open",
        "access": "open", "privacy_notice": "P",
        "pages": [{"id": "p", "title": "P", "questions": [
            {"id": "n", "type": "number", "label": "N", "min": 0, "max": 80},
            {"id": "d", "type": "date", "label": "D", "min": "today"},
            {"id": "c", "type": "choices", "label": "C", "options": [
                {"value": "a", "label": "A"}, {"value": "none", "label": "None", "exclusive": True}]},
            {"id": "t", "type": "text", "label": "T", "pattern": "[A-Z]{2}[0-9]+",
             "show_if": {"all": [{"question": "c", "includes": "a"},
                                 {"not": {"question": "n", "at_least": 10}}]}},
        ]}],
    }
    out["minimal"] = json.dumps(minimal)
    out["deep-33"] = "[" * 33 + "]" * 33                       # T-12
    out["deep-1001"] = "[" * 1001
    out["dup-key"] = '{"id": "fuzz", "id": "fuzz"}'             # T-13
    out["case-key"] = '{"id": "fuzz", "ID": "fuzz", "Pages": []}'
    out["nul-escape"] = '{"id": "fu\\u0000zz"}'                 # T-11
    out["lone-surrogate"] = '{"id": "\\ud800"}'                 # T-10
    out["pair"] = '{"title": "\\ud83d\\ude00"}'
    out["bom"] = "\ufeff{}"
    out["number-64"] = '{"version": ' + "9" * 64 + "}"           # T-16, CVE-2023-26819
    out["number-exp"] = '{"version": 1e309, "x": -0.0e-0}'
    out["leading-zero"] = '{"version": 007}'
    out["many-keys"] = "{" + ",".join('"k%d": %d' % (i, i) for i in range(2000)) + "}"  # T-15
    out["control"] = '{"title": "a\x1b[31mb"}'
    out["escape-ctl"] = '{"title": "\\u001b[31mred", "id\\n": 1}'
    out["single-quote"] = "{'id': 'fuzz'}"
    out["trailing-comma"] = '{"id": "fuzz",}'
    out["garbage-after"] = "{} x"
    with open(os.path.join(ROOT, "forms", "staff-wellbeing.json"), encoding="utf-8") as f:
        sw = json.load(f)
    sw["id"] = "fuzz"
    sw["pages"][1]["questions"][0]["typ"] = sw["pages"][1]["questions"][0].pop("type")
    sw["pages"][2]["questions"][1]["show_if"] = {"not": {"question": "ofered", "includes": "none"}}
    out["typos"] = json.dumps(sw)
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "unit", "forms-bad", "*.json"))):
        with open(p, "rb") as f:
            out["unit-" + os.path.basename(p)[:-5]] = f.read()
    return out


def valid():
    pages = {0: ["before-you-start", "about-your-work", "support", "how-work-feels", "your-ideas"]}
    bodies = [
        (0, 0, "consent=yes"), (0, 0, "consent=no&consent=yes"),
        (0, 1, "role=gp_partner&icb=QE1&hours_per_week=007"),     # the "007" bug
        (0, 1, "role=gp_partner&icb=QE1&hours_per_week=-0"),
        (0, 1, "role=gp_partner&icb=QE1&hours_per_week=3.0"),
        (0, 1, "role=other&role__other=Dr%0AX&icb=QE1&work_setting=other&work_setting__other="),
        (0, 1, "role=gp_partner&ROLE=x&respondent_id=1&consent=yes&hours_per_week=80"),
        (0, 2, "offered=eap&offered=none&providers=employer&access__know_what=6"),
        (0, 2, "offered=eap&offered=eap"),
        (0, 3, "wellbeing__valued=1&wellbeing__valued=5&leave_intention=maybe"),
        (0, 3, "wellbeing__valued=0x3&leave_reasons=workload&leave_intention=yes"),
        (0, 4, "helped_most=%3Cscript%3E&contact_email=a%40b.c&interview=yes"),
        (0, 4, "contact_email=not-an-email&icb_should_provide=" + "x" * 3000),
    ]
    out = {}
    for i, (fi, pi, body) in enumerate(bodies):
        out["%02d" % i] = bytes([fi, pi]) + body.encode()
    for fi in range(1, 4):
        for pi in range(6):
            out["form%d-page%d" % (fi, pi)] = bytes([fi, pi]) + b"x=1"
    return out


def main():
    for k, v in URLENC.items():
        put("urlencoded", k, v)
    for k, v in COOKIES.items():
        put("cookies", k, v)
    for k, v in REQUEST.items():
        put("request", k, v.encode("latin-1") if k == "bad-utf8-path" else v)
    for k, v in STR.items():
        put("str", k, v)
    for k, v in CSV.items():
        put("csv", k, v)
    for k, v in forms().items():
        put("form", k, v)
    for k, v in valid().items():
        put("valid", k, v)
    for h in ("urlencoded", "cookies", "request", "str", "csv", "form", "valid"):
        os.makedirs(os.path.join(HERE, "crashes", h), exist_ok=True)


if __name__ == "__main__":
    main()
