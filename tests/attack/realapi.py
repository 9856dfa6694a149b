"""The real researcher API as an attack source (attack.collect), plus what
the attack tests need around it: a token, the form's shape from its
codebook and the public reference lists, seeding responses by SQL, and the
true responses read back from the database.  Uses tests/integration/lib.py
(run.py puts it on sys.path)."""

import csv
import json
import os
import subprocess
import time
import urllib.parse

import lib
import disclosure as D

API = "/api/v1"
_tokens = {}


def binary():
    for p in (os.path.join(lib.ROOT, "build", "san", "pcsurvey"),
              os.path.join(lib.ROOT, "bin", "pcsurvey")):
        if os.access(p, os.X_OK):
            return p
    raise lib.Skip("no pcsurvey binary built")


def api_present():
    """True once GET /api/v1/forms answers 401 without a token (not 404)."""
    try:
        r = lib.Client().get(API + "/forms")
    except OSError:
        return False
    return r.status == 401


def require_api():
    if not api_present():
        raise lib.Skip("the researcher API is not there yet (GET /api/v1/forms without a token "
                       "does not answer 401)")


def token(scope="aggregate"):
    """A fresh token of this scope (one per scope per test process)."""
    if scope in _tokens:
        return _tokens[scope]
    conf = os.path.join(lib.VAR, "pcsurvey.conf")
    p = subprocess.run([binary(), "token", "create", "--name", "attack-test-%s-%d" % (scope, os.getpid()),
                        "--scope", scope, "--config", conf], capture_output=True, timeout=60)
    out = p.stdout.decode("utf-8", "replace").strip().splitlines()
    if p.returncode != 0 or not out:
        raise lib.Skip("pcsurvey token create failed (exit %d): %s" % (
            p.returncode, p.stderr.decode("utf-8", "replace")[-300:]))
    _tokens[scope] = out[-1].strip()
    return _tokens[scope]


class Source:
    """attack.collect() source over HTTP."""

    def __init__(self, form, tok=None):
        self.form = form
        self.tok = tok or token()
        self.calls = 0
        self.throttled = 0

    def get(self, path, headers=None):
        """One GET; a 429 (nginx's request rate limit, shared by every
        client on 127.0.0.1) is waited out: the attacker is patient."""
        h = {"Authorization": "Bearer " + self.tok}
        h.update(headers or {})
        for _ in range(100):
            self.calls += 1
            r = lib.Client().get(path, headers=h)
            if r.status != 429:
                return r
            self.throttled += 1
            time.sleep(0.25)
        return r

    def get_json(self, path):
        r = self.get(path)
        doc = None
        if r.header("Content-Type", "").startswith("application/json"):
            try:
                doc = json.loads(r.text)
            except ValueError:
                doc = None
        return r.status, doc

    def counts_path(self, by, question=None, csv_=False):
        q = [("by", ",".join(by))]
        if question:
            q.append(("question", question))
        return "%s/forms/%s/counts%s?%s" % (API, self.form, ".csv" if csv_ else "",
                                             urllib.parse.urlencode(q, safe=","))

    def counts_query(self, by, question=None):
        return self.get_json(self.counts_path(by, question))

    def coverage(self):
        return self.get_json("%s/forms/%s/coverage" % (API, self.form))

    def codebook(self):
        return self.get_json("%s/forms/%s/codebook" % (API, self.form))

    def forms(self):
        return self.get_json(API + "/forms")


# ------------------------------------------------------------------ the form's shape

def reference():
    """Public reference lists: ({icb: region}, {role: staff_group}, regions,
    staff groups, org types)."""
    ref = os.path.join(lib.ROOT, "sql", "reference")

    def rows(name):
        with open(os.path.join(ref, name), encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    icb = {r["icb_code"]: r["region_code"] for r in rows("icbs.csv")}
    role = {r["role_code"]: r["staff_group"] for r in rows("staff_roles.csv")}
    regions = [r["region_code"] for r in rows("regions.csv")]
    groups = [r["staff_group"] for r in rows("staff_groups.csv")]
    orgs = [r["org_type_code"] for r in rows("organisation_types.csv")]
    return icb, role, regions, groups, orgs


COUNTABLE = ("choice", "select", "choices", "consent")


def shape_of(codebook):
    """(Shape, declared dimensions, question ids) of a form from its
    codebook: dimensions it declares plus the derived region and
    staff_group; countable questions: clear choice/select/choices that are
    not dimensions, and each statement of a clear scale (Q__statement)."""
    icb, role, regions, groups, orgs = reference()
    declared = set()
    questions = {}
    for q in codebook.get("questions", []):
        if q.get("dimension"):
            declared.add(q["dimension"])
            continue
        if q.get("store", "clear") != "clear":
            continue
        opts = [o["value"] for o in q.get("options") or []]
        if q.get("type") == "consent" and not opts:
            opts = ["yes"]
        if q.get("type") in COUNTABLE and opts:
            questions[q["id"]] = (opts, q["type"] == "choices")
        elif q.get("type") == "scale" and opts:
            for s in q.get("statements") or []:
                questions["%s__%s" % (q["id"], s["id"])] = (opts, False)
    dims = set(declared)
    if "icb" in dims:
        dims.add("region")
    if "role" in dims:
        dims.add("staff_group")
    codes = {"icb": list(icb), "region": regions, "role": list(role),
             "staff_group": groups, "org_type": orgs}
    shape = D.Shape(dims, {d: codes[d] for d in dims}, {"icb": icb, "role": role}, questions)
    return shape, declared


# ------------------------------------------------------------------ the database

def true_rows(form, as_of=None):
    """Every counted response of the form as a row for disclosure.true_counts."""
    where = "form_id = '%s'" % form.replace("'", "''")
    if as_of:
        where += " AND submitted <= DATE '%s'" % as_of
    out = []
    for icb, region, role, sg, org, ans in lib.sql(
            "SELECT coalesce(icb,''), coalesce(region,''), coalesce(role,''), coalesce(staff_group,''), "
            "coalesce(org_type,''), answers::text FROM pcs.response WHERE %s" % where):
        out.append({"icb": icb or None, "region": region or None, "role": role or None,
                    "staff_group": sg or None, "org_type": org or None,
                    "answers": json.loads(ans)})
    return out


def seed(form, rows, marker):
    """Inserts rows ({icb, role, answers, days_ago}) as submitted responses;
    rid starts with the 4 bytes of marker (hex) so cleanup() finds them."""
    icb, role, *_ = reference()
    values = []
    for r in rows:
        rid = marker + os.urandom(12).hex()
        values.append("('\\x%s', '%s', 1, current_date - %d, '\\x%s', %s, %s, %s, %s, NULL, '%s'::jsonb)" % (
            rid, form, r.get("days_ago", 1), os.urandom(32).hex(),
            _lit(r.get("icb")), _lit(icb.get(r.get("icb"))),
            _lit(r.get("role")), _lit(role.get(r.get("role"))),
            json.dumps(r.get("answers", {})).replace("'", "''")))
    for i in range(0, len(values), 200):
        lib.sql("INSERT INTO pcs.response (rid, form_id, form_version, submitted, receipt_hash, "
                "icb, region, role, staff_group, org_type, answers) VALUES " + ", ".join(values[i:i + 200]))


def cleanup(marker):
    lib.sql("DELETE FROM pcs.response WHERE substring(rid from 1 for 4) = '\\x%s'::bytea" % marker)


def _lit(v):
    return "NULL" if v is None else "'%s'" % v.replace("'", "''")
