"""docs/openapi.yaml against the real researcher API: the file parses (a
small YAML subset parser below: python3 has no yaml module), every $ref
resolves, its examples fit its own schemas, it documents every researcher
path of http-api.md, and for every path under /api/v1 the real answers
(200 with the right token, 401 without one, 403 for the wrong scope, 404
for an unknown form, 400 for a bad parameter) have a documented status,
the documented headers, a JSON body that validates against the documented
schema, and CSV whose header row is the documented one."""

import csv
import io
import json
import os
import re
import sys
import time

import lib
from lib import Client

sys.path.insert(0, os.path.join(lib.ROOT, "tests", "attack"))

SPEC = os.path.join(lib.ROOT, "docs", "openapi.yaml")
FORM = "staff-wellbeing"


# ------------------------------------------------------------------ YAML subset

class YamlError(Exception):
    pass


def _strip_comment(line):
    """The line without a trailing # comment (outside quotes)."""
    q = None
    for i, ch in enumerate(line):
        if q:
            if ch == q:
                q = None
        elif ch in "\"'":
            if i == 0 or line[i - 1] in " \t[{,:":
                q = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def _depth(text):
    """Bracket depth change of a flow fragment (outside quotes)."""
    d, q = 0, None
    for i, ch in enumerate(text):
        if q:
            if ch == q:
                q = None
        elif ch in "\"'" and (i == 0 or text[i - 1] in " \t[{,:"):
            q = ch
        elif ch in "[{":
            d += 1
        elif ch in "]}":
            d -= 1
    return d


class _Flow:
    """Flow collections and scalars: {a: b, c: [d, e]}, "x", 'y', plain."""

    def __init__(self, s):
        self.s, self.i = s, 0

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] in " \t\n":
            self.i += 1

    def value(self, stop=",]}"):
        self.ws()
        if self.i >= len(self.s):
            return None
        ch = self.s[self.i]
        if ch == "{":
            self.i += 1
            out = {}
            while True:
                self.ws()
                if self.s[self.i] == "}":
                    self.i += 1
                    return out
                k = self.value(stop=":,}")
                self.ws()
                if self.s[self.i] == ":":
                    self.i += 1
                    v = self.value()
                else:
                    v = None
                out[k if isinstance(k, str) else str(k)] = v
                self.ws()
                if self.s[self.i] == ",":
                    self.i += 1
                elif self.s[self.i] != "}":
                    raise YamlError("flow mapping: %r" % self.s[self.i:self.i + 30])
        if ch == "[":
            self.i += 1
            out = []
            while True:
                self.ws()
                if self.s[self.i] == "]":
                    self.i += 1
                    return out
                out.append(self.value())
                self.ws()
                if self.s[self.i] == ",":
                    self.i += 1
                elif self.s[self.i] != "]":
                    raise YamlError("flow sequence: %r" % self.s[self.i:self.i + 30])
        if ch in "\"'":
            return self.quoted()
        j = self.i
        while j < len(self.s):
            c = self.s[j]
            if c in stop and (c != ":" or j + 1 >= len(self.s) or self.s[j + 1] in " \t\n"):
                break
            j += 1
        text = self.s[self.i:j].strip()
        self.i = j
        return scalar(text)

    def quoted(self):
        q = self.s[self.i]
        self.i += 1
        out = []
        while True:
            if self.i >= len(self.s):
                raise YamlError("unterminated string")
            ch = self.s[self.i]
            if q == "'" and ch == "'":
                if self.s[self.i + 1:self.i + 2] == "'":
                    out.append("'")
                    self.i += 2
                    continue
                self.i += 1
                return "".join(out)
            if q == '"' and ch == "\\":
                nxt = self.s[self.i + 1]
                out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\", "/": "/"}.get(nxt, nxt))
                self.i += 2
                continue
            if q == '"' and ch == '"':
                self.i += 1
                return "".join(out)
            out.append(ch)
            self.i += 1


def scalar(text):
    if text in ("null", "~", ""):
        return None
    if text in ("true", "True"):
        return True
    if text in ("false", "False"):
        return False
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    if re.fullmatch(r"[-+]?\d+\.\d*", text):
        return float(text)
    return text


def _inline(text):
    text = text.strip()
    if not text:
        return None
    p = _Flow(text)
    v = p.value(stop="")
    p.ws()
    if p.i != len(text):
        if text[0] in "\"'[{":
            raise YamlError("trailing text after %r" % text)
        return scalar(text)
    return v


def yaml_load(text):
    """Parses the block/flow YAML subset docs/openapi.yaml uses: mappings,
    sequences, flow collections (also over several lines), quoted and plain
    scalars, `|` and `>` block scalars, comments."""
    raw = text.split("\n")
    lines = []                          # (indent, text, raw index)
    i = 0
    while i < len(raw):
        ln = raw[i]
        if not ln.strip() or ln.lstrip().startswith("#"):
            lines.append((None, "", i))
            i += 1
            continue
        s = _strip_comment(ln)
        ind = len(s) - len(s.lstrip(" "))
        body = s.strip()
        d = _depth(body)
        while d > 0 and i + 1 < len(raw):   # a flow collection continues
            i += 1
            more = _strip_comment(raw[i]).strip()
            body += " " + more
            d += _depth(more)
        lines.append((ind, body, i))
        i += 1

    def next_content(k):
        while k < len(lines) and lines[k][0] is None:
            k += 1
        return k

    def block_scalar(k, parent_ind, style):
        out = []
        ind = None
        while k < len(lines):
            r = raw[lines[k][2]]
            if r.strip() == "":
                out.append("")
                k += 1
                continue
            this = len(r) - len(r.lstrip(" "))
            if this <= parent_ind:
                break
            if ind is None:
                ind = this
            out.append(r[ind:])
            k += 1
        while out and out[-1] == "":
            out.pop()
        if style.startswith(">"):
            return " ".join(x for x in out if x) + "\n", k
        return "\n".join(out) + "\n", k

    def split_key(body):
        m = re.match(r'^("(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'|[^\s"\'][^:]*?)\s*:(?:\s+(.*))?$', body)
        if not m:
            return None
        k = m.group(1)
        if k[0] in "\"'":
            k = _Flow(k).quoted()
        return k, (m.group(2) or "").strip()

    def parse(k, ind):
        k = next_content(k)
        if k >= len(lines):
            return None, k
        if lines[k][1].startswith("- ") or lines[k][1] == "-":
            return parse_seq(k, lines[k][0])
        return parse_map(k, lines[k][0])

    def value_after(k, ind, rest):
        """Value of `key: rest` at indent ind whose line is k - 1."""
        if rest in ("|", "|-", "|+", ">", ">-"):
            return block_scalar(k, ind, rest)
        if rest:
            return _inline(rest), k
        k2 = next_content(k)
        if k2 < len(lines) and (lines[k2][0] > ind or (
                lines[k2][0] == ind and lines[k2][1].startswith("- "))):
            return parse(k2, lines[k2][0])
        return None, k

    def parse_map(k, ind, first=None):
        out = {}
        if first is not None:
            key, rest, k = first
            out[key], k = value_after(k, ind, rest)
        while True:
            k = next_content(k)
            if k >= len(lines) or lines[k][0] != ind or lines[k][1].startswith("- "):
                if k < len(lines) and lines[k][0] is not None and lines[k][0] > ind:
                    raise YamlError("line %d: unexpected indentation" % (lines[k][2] + 1))
                return out, k
            kv = split_key(lines[k][1])
            if kv is None:
                raise YamlError("line %d: expected key: value, got %r" % (lines[k][2] + 1, lines[k][1]))
            key, rest = kv
            if key in out:
                raise YamlError("line %d: duplicate key %r" % (lines[k][2] + 1, key))
            out[key], k = value_after(k + 1, ind, rest)

    def parse_seq(k, ind):
        out = []
        while True:
            k = next_content(k)
            if k >= len(lines) or lines[k][0] != ind or not (lines[k][1].startswith("- ") or lines[k][1] == "-"):
                return out, k
            rest = lines[k][1][1:].strip()
            item_ind = ind + 2
            if not rest:
                v, k = parse(k + 1, item_ind)
                out.append(v)
                continue
            kv = split_key(rest) if rest[0] not in "[{\"'" else None
            if kv is not None:
                item_ind = ind + (len(lines[k][1]) - len(rest))
                v, k = parse_map(k + 1, item_ind, first=(kv[0], kv[1], k + 1))
                out.append(v)
            else:
                out.append(_inline(rest))
                k += 1

    v, k = parse(0, 0)
    k = next_content(k)
    if k < len(lines):
        raise YamlError("line %d: not parsed: %r" % (lines[k][2] + 1, lines[k][1]))
    return v


# ------------------------------------------------------------------ JSON Schema subset

def resolve(spec, node, seen=()):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), "only local $ref: %r" % ref
        assert ref not in seen, "$ref loop at %r" % ref
        seen = seen + (ref,)
        cur = spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            assert isinstance(cur, dict) and part in cur, "unresolvable $ref %r" % ref
            cur = cur[part]
        node = cur
    return node


def _type_ok(t, v):
    return {"string": isinstance(v, str),
            "integer": isinstance(v, int) and not isinstance(v, bool),
            "number": isinstance(v, (int, float)) and not isinstance(v, bool),
            "boolean": isinstance(v, bool),
            "array": isinstance(v, list),
            "object": isinstance(v, dict),
            "null": v is None}[t]


def validate(spec, schema, v, path="$"):
    """Errors of v against schema (the keywords openapi.yaml uses)."""
    s = resolve(spec, schema)
    errs = []
    if not isinstance(s, dict):
        return errs
    t = s.get("type")
    if t is not None:
        ts = t if isinstance(t, list) else [t]
        if not any(_type_ok(x, v) for x in ts):
            return ["%s: %r is not %s" % (path, v if not isinstance(v, (dict, list)) else type(v).__name__, t)]
    if "const" in s and v != s["const"]:
        errs.append("%s: %r is not %r" % (path, v, s["const"]))
    if "enum" in s and v not in s["enum"]:
        errs.append("%s: %r not in %r" % (path, v, s["enum"]))
    if isinstance(v, (int, float)) and not isinstance(v, bool) and "minimum" in s and v < s["minimum"]:
        errs.append("%s: %r < %r" % (path, v, s["minimum"]))
    if isinstance(v, str):
        if "pattern" in s and not re.search(s["pattern"], v):
            errs.append("%s: %r does not match %s" % (path, v, s["pattern"]))
        if s.get("format") == "date" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            errs.append("%s: %r is not a date" % (path, v))
    if isinstance(v, list):
        if "minItems" in s and len(v) < s["minItems"]:
            errs.append("%s: %d items < %d" % (path, len(v), s["minItems"]))
        if "maxItems" in s and len(v) > s["maxItems"]:
            errs.append("%s: %d items > %d" % (path, len(v), s["maxItems"]))
        if "items" in s:
            for i, x in enumerate(v):
                errs += validate(spec, s["items"], x, "%s[%d]" % (path, i))
    if isinstance(v, dict):
        for k in s.get("required", []):
            if k not in v:
                errs.append("%s: required key %r missing" % (path, k))
        props = s.get("properties", {})
        for k, x in v.items():
            if k in props:
                errs += validate(spec, props[k], x, "%s.%s" % (path, k))
            else:
                ap = s.get("additionalProperties", True)
                if ap is False:
                    errs.append("%s: key %r not documented" % (path, k))
                elif isinstance(ap, dict):
                    errs += validate(spec, ap, x, "%s.%s" % (path, k))
    return errs


# ------------------------------------------------------------------ helpers

_spec = None


def spec():
    global _spec
    if _spec is None:
        if not os.path.exists(SPEC):
            raise lib.Skip("docs/openapi.yaml is not there yet")
        with open(SPEC, encoding="utf-8") as f:
            _spec = yaml_load(f.read())
    return _spec


def need_api():
    import realapi
    realapi.require_api()
    return realapi


def tok(scope):
    return need_api().token(scope)


def call(path, token=None, accept=None, patient=True):
    """One GET; a 429 from the request rate limit is waited out unless
    patient is False."""
    h = {}
    if token:
        h["Authorization"] = "Bearer " + token
    if accept:
        h["Accept"] = accept
    for _ in range(100):
        r = Client().get(path, headers=h)
        if r.status != 429 or not patient:
            return r
        time.sleep(0.25)
    return r


def template_of(sp, path):
    """The documented path template matching a real path (query dropped)."""
    p = path.split("?")[0]
    for tpl in sp["paths"]:
        rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(tpl)) + "$"
        if re.match(rx, p):
            return tpl
    return None


def documented(sp, path, status):
    """(operation, response object) documented for a GET of path and
    status, or raises AssertionError."""
    tpl = template_of(sp, path)
    assert tpl, "GET %s: no path of openapi.yaml matches" % path
    op = sp["paths"][tpl].get("get")
    assert op, "openapi.yaml: %s has no get" % tpl
    resps = op.get("responses", {})
    r = resps.get(str(status)) or resps.get(status)
    if r is None:
        r = resps.get("%dXX" % (status // 100)) or resps.get("default")
    assert r is not None, "GET %s answered %d, which openapi.yaml does not document for %s (documents %s)" % (
        path, status, tpl, sorted(str(k) for k in resps))
    return op, resolve(sp, r)


def check_answer(sp, path, r, what=""):
    """Checks one real answer against what openapi.yaml says about it."""
    op, resp = documented(sp, path, r.status)
    where = "GET %s %s(%d)" % (path, what, r.status)
    for name, h in (resp.get("headers") or {}).items():
        h = resolve(sp, h)
        got = r.header(name)
        assert got is not None, "%s: documented header %s missing" % (where, name)
        sch = resolve(sp, h.get("schema", {}))
        errs = validate(sp, sch, got)
        assert not errs, "%s: header %s: %s" % (where, name, errs)
    content = resp.get("content") or {}
    ct = (r.header("Content-Type") or "").split(";")[0].strip().lower()
    if not content:
        return None
    assert ct in content, "%s: Content-Type %r, documented %s" % (where, ct, sorted(content))
    sch = content[ct].get("schema")
    if ct == "application/json":
        try:
            doc = json.loads(r.text)
        except ValueError:
            raise AssertionError("%s: body is not JSON: %r" % (where, r.text[:200]))
        if sch is not None:
            errs = validate(sp, sch, doc)
            assert not errs, "%s: body does not fit the schema: %s" % (where, errs[:6])
        return doc
    return r.text


def csv_header(text):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0] if rows else []


def documented_columns(sp, path, status=200):
    """A comma-separated column list in the CSV description, if any."""
    _, resp = documented(sp, path, status)
    texts = [resp.get("description") or ""]
    for ct, c in (resp.get("content") or {}).items():
        if ct == "text/csv":
            texts.append((resolve(sp, c.get("schema") or {}) or {}).get("description") or "")
    for t in texts:
        m = re.search(r"\b([a-z_*]+(?:,[a-z_*]+){2,})", t or "")
        if m:
            return m.group(1).split(",")
    return None


# ------------------------------------------------------------------ the file itself

def test_openapi_yaml_parser_handles_the_subset():
    doc = yaml_load('a: 1\nb: {c: [x, "y: z"], d: \'it\'\'s\'}\nl:\n  - k: v\n    m: [1,\n      2]\n  - plain text\n'
                    't: |\n  line one\n  line two\nu: "#/x" # note\n"200": {$ref: "#/r"}\n')
    assert doc == {"a": 1, "b": {"c": ["x", "y: z"], "d": "it's"},
                   "l": [{"k": "v", "m": [1, 2]}, "plain text"], "t": "line one\nline two\n",
                   "u": "#/x", "200": {"$ref": "#/r"}}, doc


def test_openapi_file_parses_and_refs_resolve():
    sp = spec()
    assert str(sp.get("openapi", "")).startswith("3."), "openapi version %r" % sp.get("openapi")
    assert isinstance(sp.get("paths"), dict) and sp["paths"], "no paths"
    refs = []

    def walk(n):
        if isinstance(n, dict):
            if "$ref" in n:
                refs.append(n["$ref"])
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)
    walk(sp)
    assert refs, "no $ref at all"
    for ref in refs:
        resolve(sp, {"$ref": ref})
    for tpl, item in sp["paths"].items():
        assert tpl.startswith("/api/v1/"), "path %s outside /api/v1" % tpl
        for method, op in item.items():
            assert method in ("get", "parameters"), "%s %s: the API is GET only" % (method, tpl)
            if method == "get":
                assert "200" in op.get("responses", {}), "%s: no 200" % tpl
                assert "401" in op["responses"], "%s: 401 not documented" % tpl


def test_openapi_documents_every_researcher_path_of_the_contract():
    sp = spec()
    want = ["/api/v1/forms", "/api/v1/forms/{form}/codebook", "/api/v1/forms/{form}/counts",
            "/api/v1/forms/{form}/coverage", "/api/v1/forms/{form}/responses.csv"]
    for p in want:
        assert p in sp["paths"], "openapi.yaml lacks %s (http-api.md)" % p
    resp = sp["paths"]["/api/v1/forms/{form}/responses.csv"]["get"]["responses"]
    assert "403" in resp, "responses.csv: 403 (aggregate token) not documented"
    for p in want[1:]:
        assert "404" in sp["paths"][p]["get"]["responses"], "%s: 404 not documented" % p
    by = resolve(sp, {"$ref": "#/components/parameters/By"})
    assert by.get("required") is True and by.get("in") == "query", "by parameter: %r" % by


def test_openapi_examples_fit_their_schemas():
    sp = spec()
    n = 0
    for tpl, item in sp["paths"].items():
        for code, r in item["get"]["responses"].items():
            r = resolve(sp, r)
            for ct, c in (r.get("content") or {}).items():
                if "example" in c and ct == "application/json":
                    errs = validate(sp, c.get("schema", {}), c["example"])
                    assert not errs, "%s %s example: %s" % (tpl, code, errs)
                    n += 1
    for name, r in (sp.get("components", {}).get("responses") or {}).items():
        for ct, c in (r.get("content") or {}).items():
            if "example" in c:
                errs = validate(sp, c.get("schema", {}), c["example"])
                assert not errs, "components.responses.%s example: %s" % (name, errs)
                n += 1
    assert n >= 1, "no JSON example to check"


# ------------------------------------------------------------------ the real API

def real_paths():
    """(path, token scope or None, expected status, what) for every
    documented path, each way it can answer."""
    f = FORM
    out = []
    for p in ("/api/v1/forms", "/api/v1/forms.csv",
              "/api/v1/forms/%s/codebook" % f, "/api/v1/forms/%s/codebook.csv" % f,
              "/api/v1/forms/%s/counts?by=region,staff_group" % f,
              "/api/v1/forms/%s/counts?by=icb&question=arrs_funded" % f,
              "/api/v1/forms/%s/counts?by=role&question=wellbeing__valued" % f,
              "/api/v1/forms/%s/counts.csv?by=region,staff_group" % f,
              "/api/v1/forms/%s/counts.csv?by=icb,role&question=offered" % f,
              "/api/v1/forms/%s/coverage" % f, "/api/v1/forms/%s/coverage.csv" % f):
        out.append((p, "aggregate", 200, "aggregate token"))
        out.append((p, None, 401, "no token"))
        out.append((p, "bogus", 401, "unknown token"))
    out.append(("/api/v1/forms/%s/responses.csv" % f, "export", 200, "export token"))
    out.append(("/api/v1/forms/%s/responses.csv" % f, "aggregate", 403, "aggregate token"))
    out.append(("/api/v1/forms/%s/responses.csv" % f, None, 401, "no token"))
    for p in ("/api/v1/forms/no-such-form/codebook", "/api/v1/forms/no-such-form/counts?by=icb",
              "/api/v1/forms/no-such-form/coverage", "/api/v1/forms/no-such-form/responses.csv"):
        out.append((p, "export", 404, "unknown form"))
    for p in ("/api/v1/forms/%s/counts" % f, "/api/v1/forms/%s/counts?by=icbx" % f,
              "/api/v1/forms/%s/counts?by=icb,role,region" % f,
              "/api/v1/forms/%s/counts?by=icb,icb" % f,
              "/api/v1/forms/%s/counts?by=icb&question=nope" % f,
              "/api/v1/forms/%s/counts?by=icb&question=contact_email" % f,
              "/api/v1/forms/%s/counts?by=icb&where=x" % f,
              "/api/v1/forms/%s/counts?by=icb&by=role" % f):
        out.append((p, "aggregate", 400, "bad parameter"))
    out.append(("/api/v1/forms/test-journey-cond/coverage", "aggregate", 400, "form without icb"))
    out.append(("/api/v1/forms/test-journey-cond/coverage.csv", "aggregate", 400, "form without icb"))
    return out


def _token_for(scope):
    if scope is None:
        return None
    if scope == "bogus":
        return "A" * 43
    return tok(scope)


def test_openapi_every_path_answers_as_documented():
    need_api()
    sp = spec()
    problems = []
    for path, scope, want, what in real_paths():
        r = call(path, _token_for(scope))
        if want is not None and r.status != want:
            problems.append("GET %s (%s): %d, expected %d" % (path, what, r.status, want))
            continue
        try:
            check_answer(sp, path, r, what + " ")
        except AssertionError as e:
            problems.append(str(e))
    assert not problems, "%d problems: %s" % (len(problems), " | ".join(problems[:6]))


def test_openapi_every_api_answer_has_no_store_and_json_errors():
    """http-api.md: every API response carries Cache-Control: no-store;
    errors are JSON {"error": {"status", "code", "message"}} with the
    status repeated; 401 carries WWW-Authenticate: Bearer."""
    need_api()
    sp = spec()
    problems = []
    for path, scope, want, what in real_paths():
        r = call(path, _token_for(scope))
        cc = [x.strip().lower() for x in ",".join(r.headers_all("Cache-Control")).split(",")]
        if "no-store" not in cc:
            problems.append("GET %s (%s, %d): Cache-Control %r" % (path, what, r.status, r.headers_all("Cache-Control")))
        if r.status >= 400:
            try:
                doc = json.loads(r.text)
            except ValueError:
                problems.append("GET %s (%d): error body not JSON: %r" % (path, r.status, r.text[:80]))
                continue
            errs = validate(sp, {"$ref": "#/components/schemas/Error"}, doc)
            if errs or doc["error"]["status"] != r.status:
                problems.append("GET %s (%d): error body %r %s" % (path, r.status, doc, errs))
            if r.status == 401 and (r.header("WWW-Authenticate") or "").split(" ")[0] != "Bearer":
                problems.append("GET %s: 401 WWW-Authenticate %r" % (path, r.header("WWW-Authenticate")))
            if "A" * 43 in r.text:
                problems.append("GET %s: the token is quoted in the answer" % path)
    assert not problems, "%d problems: %s" % (len(problems), " | ".join(problems[:6]))


def test_openapi_csv_headers_are_the_documented_ones():
    """Each CSV's header row is the one http-api.md and openapi.yaml give."""
    need_api()
    sp = spec()
    t = tok("aggregate")
    cases = [
        ("/api/v1/forms.csv", ["id", "version", "title", "audience", "status", "responses"]),
        ("/api/v1/forms/%s/codebook.csv" % FORM,
         ["question", "page", "type", "label", "store", "dimension", "value", "value_label"]),
        ("/api/v1/forms/%s/counts.csv?by=region,staff_group" % FORM,
         ["region", "staff_group", "region_name", "staff_group_name", "count", "suppressed"]),
        ("/api/v1/forms/%s/counts.csv?by=icb&question=arrs_funded" % FORM,
         ["icb", "icb_name", "arrs_funded", "count", "suppressed"]),
        ("/api/v1/forms/%s/counts.csv?by=role,icb&question=wellbeing__valued" % FORM,
         ["role", "icb", "role_name", "icb_name", "wellbeing__valued", "count", "suppressed"]),
    ]
    problems = []
    for path, want in cases:
        r = call(path, t)
        if r.status != 200:
            problems.append("GET %s: %d" % (path, r.status))
            continue
        ct = r.header("Content-Type", "")
        if ct.replace(" ", "").lower() != "text/csv;charset=utf-8":
            problems.append("GET %s: Content-Type %r" % (path, ct))
        if not r.text.endswith("\r\n") or "\n" in r.text.replace("\r\n", ""):
            problems.append("GET %s: lines not ended by CRLF" % path)
        got = csv_header(r.text)
        if got != want:
            problems.append("GET %s: header %r, contract %r" % (path, got, want))
        doc_cols = documented_columns(sp, path)
        if doc_cols and "*" not in ",".join(doc_cols) and "question=" not in path and got != doc_cols:
            problems.append("GET %s: header %r, openapi.yaml says %r" % (path, got, doc_cols))
    # coverage.csv: icb,icb_name,region,region_name, one column per staff group, total
    r = call("/api/v1/forms/%s/coverage.csv" % FORM, t)
    cov = call("/api/v1/forms/%s/coverage" % FORM, t)
    if r.status == 200 and cov.status == 200:
        groups = cov.json().get("staff_groups", [])
        want = ["icb", "icb_name", "region", "region_name"] + list(groups) + ["total"]
        got = csv_header(r.text)
        if got != want:
            problems.append("coverage.csv header %r, documented %r" % (got, want))
        nrows = len(list(csv.reader(io.StringIO(r.text, newline="")))) - 1
        if nrows != len(cov.json().get("icbs", [])):
            problems.append("coverage.csv has %d rows, JSON %d ICBs" % (nrows, len(cov.json().get("icbs", []))))
    else:
        problems.append("coverage: %d / %d" % (r.status, cov.status))
    # Accept: text/csv gives the CSV too
    r = call("/api/v1/forms/%s/counts?by=region" % FORM, t, accept="text/csv")
    if r.status != 200 or not r.header("Content-Type", "").startswith("text/csv"):
        problems.append("counts with Accept: text/csv: %d %r" % (r.status, r.header("Content-Type")))
    # responses.csv: response_id, form_version, submitted first
    r = call("/api/v1/forms/%s/responses.csv" % FORM, tok("export"))
    if r.status == 200:
        got = csv_header(r.text)
        if got[:3] != ["response_id", "form_version", "submitted"]:
            problems.append("responses.csv header starts %r" % got[:5])
    else:
        problems.append("responses.csv with an export token: %d" % r.status)
    assert not problems, "%d problems: %s" % (len(problems), " | ".join(problems[:6]))


def test_openapi_coverage_lists_every_icb_of_the_reference_date():
    """http-api.md: every ICB valid on the form's reference_date (the 42 for
    the study forms) is always present, even with no responses, with a
    count (0 when none) for every staff group listed."""
    need_api()
    sp = spec()
    r = call("/api/v1/forms/%s/coverage" % FORM, tok("aggregate"))
    doc = check_answer(sp, "/api/v1/forms/%s/coverage" % FORM, r)
    icbs = doc["icbs"]
    assert len(icbs) == 42, "coverage lists %d ICBs, the contract says 42" % len(icbs)
    assert len(set(i["icb"] for i in icbs)) == 42, "an ICB listed twice"
    for i in icbs:
        assert sorted(i["counts"]) == sorted(doc["staff_groups"]), "%s: counts for %r" % (i["icb"], sorted(i["counts"]))


def test_openapi_rate_limited_api_answer_is_json_and_no_store():
    """http-api.md: API errors are JSON and every API response carries
    Cache-Control: no-store; a 429 from the request rate limit is an API
    response too (and a status openapi.yaml should then document)."""
    need_api()
    sp = spec()
    t = tok("aggregate")
    path = "/api/v1/forms/%s/counts?by=icb" % FORM
    r = None
    for _ in range(1000):
        r = call(path, t, patient=False)
        if r.status == 429:
            break
    time.sleep(5)                       # let the limit's burst refill for the tests after this one
    if r is None or r.status != 429:
        raise lib.Skip("1000 quick requests were not rate limited")
    problems = []
    ct = r.header("Content-Type", "")
    if not ct.startswith("application/json"):
        problems.append("429 Content-Type %r (body starts %r)" % (ct, r.text[:60]))
    else:
        errs = validate(sp, {"$ref": "#/components/schemas/Error"}, json.loads(r.text))
        if errs:
            problems.append("429 body: %s" % errs)
    if "no-store" not in ",".join(r.headers_all("Cache-Control")):
        problems.append("429 without Cache-Control: no-store (%r)" % r.headers_all("Cache-Control"))
    try:
        documented(sp, path, 429)
    except AssertionError as e:
        problems.append(str(e))
    assert not problems, "GET %s rate limited: %s" % (path, " | ".join(problems))
