"""Bounds of linear expressions over integer points of a polytope, with GLPK's
glpsol (Debian package glpk-utils; deploy/install-deps.sh installs it).

    m = Model()
    x = m.var("x", lo=0)                   # every variable is an integer >= lo
    m.row({x: 1, y: 1}, lo=8, hi=12)       # 8 <= x + y <= 12 (None: no bound)
    res = bounds(m, {"cell": {x: 1}})      # {"cell": Bound(lo, hi, how)}

For each target, glpsol minimises and maximises it, first as an LP (its
optimum rounded inwards: ceil of the minimum, floor of the maximum, which
is a valid bound for integers) and then as a MIP with a time limit; a proven
MIP optimum replaces the LP bound.  `how` says which one each bound is:
"mip" (proven integer optimum: the attacker's exact best), "lp" (LP
relaxation rounded: a bound the integer optimum can only tighten).
"""

import concurrent.futures
import math
import os
import shutil
import subprocess
import tempfile
import time

GLPSOL = shutil.which("glpsol")


class Infeasible(Exception):
    """The constraints admit no solution (the published figures contradict
    each other, or the model is wrong)."""


class Model:
    def __init__(self):
        self.names = []
        self.lo = []
        self.hi = []
        self.rows = []          # (coeffs {var: coef}, lo, hi, label)

    def var(self, name, lo=0, hi=None):
        self.names.append(name)
        self.lo.append(lo)
        self.hi.append(hi)
        return len(self.names) - 1

    def row(self, coeffs, lo=None, hi=None, label=""):
        coeffs = {v: c for v, c in coeffs.items() if c}
        if not coeffs:
            if (lo is not None and lo > 0) or (hi is not None and hi < 0):
                raise Infeasible("empty row %s needs %s..%s" % (label, lo, hi))
            return
        self.rows.append((coeffs, lo, hi, label))

    def __len__(self):
        return len(self.names)


def _term(c, v):
    if c == 1:
        return "+ x%d" % v
    if c == -1:
        return "- x%d" % v
    return "%s %s x%d" % ("+" if c > 0 else "-", abs(c), v)


def _expr(coeffs):
    return " ".join(_term(c, v) for v, c in sorted(coeffs.items()))


def cplex_lp_body(m, integer=True):
    """Everything after the objective: constraints, bounds, integrality."""
    out = ["Subject To"]
    k = 0
    for coeffs, lo, hi, _label in m.rows:
        e = _expr(coeffs)
        if lo is not None and hi is not None and lo == hi:
            k += 1
            out.append(" r%d: %s = %d" % (k, e, lo))
            continue
        if lo is not None:
            k += 1
            out.append(" r%d: %s >= %d" % (k, e, lo))
        if hi is not None:
            k += 1
            out.append(" r%d: %s <= %d" % (k, e, hi))
    if k == 0:
        out.append(" r0: x0 >= 0")
    out.append("Bounds")
    for v in range(len(m)):
        lo, hi = m.lo[v], m.hi[v]
        if hi is not None:
            out.append(" %d <= x%d <= %d" % (lo, v, hi))
        else:
            out.append(" x%d >= %d" % (v, lo))
    if integer:
        out.append("General")
        for i in range(0, len(m), 20):
            out.append(" " + " ".join("x%d" % v for v in range(i, min(i + 20, len(m)))))
    out.append("End")
    return "\n".join(out) + "\n"


def _objective(sense, coeffs):
    return "%s\n obj: %s\n" % ("Minimize" if sense == "min" else "Maximize", _expr(coeffs))


def _solve(tmp, tag, body, sense, coeffs, integer, tmlim):
    """One glpsol run: (status, objective) with status 'opt' (proven
    optimum), 'feas' (time limit: not proven), 'infeas' or 'err'."""
    lp = os.path.join(tmp, "%s.lp" % tag)
    sol = os.path.join(tmp, "%s.sol" % tag)
    with open(lp, "w") as f:
        f.write(_objective(sense, coeffs))
        f.write(body)
    cmd = [GLPSOL, "--lp", lp, "-w", sol]
    if not integer:
        cmd.append("--nomip")
    else:
        cmd += ["--tmlim", str(tmlim)]
    p = subprocess.run(cmd, capture_output=True, timeout=tmlim + 60)
    try:
        with open(sol) as f:
            text = f.read()
    except OSError:
        text = ""
    finally:
        for x in (lp, sol):
            try:
                os.unlink(x)
            except OSError:
                pass
    status = None
    integral = True
    for line in text.splitlines():
        bits = line.split()
        if not bits:
            continue
        if bits[0] == "j":              # a column: LP "j COL STAT VALUE DUAL", MIP "j COL VALUE"
            v = float(bits[3] if len(bits) >= 5 else bits[2])
            if abs(v - round(v)) > 1e-9:
                integral = False
            continue
        if bits[0] != "s":
            continue
        if bits[1] == "mip":            # s mip ROWS COLS STATUS OBJ
            st, obj = bits[4], float(bits[5])
            status = ({"o": "opt", "f": "feas", "n": "infeas"}.get(st, "err"), obj)
        elif bits[1] == "bas":          # s bas ROWS COLS PRIM DUAL OBJ
            prim, dual, obj = bits[4], bits[5], float(bits[6])
            if prim == "n":
                status = ("infeas", obj)
            elif prim == "f" and dual == "f":
                status = ("opt", obj)
            else:
                status = ("err", obj)
    if status is not None:
        if not integer and status[0] == "opt" and integral:
            return "opt-int", status[1]  # the LP optimum is an integer point: the MIP optimum too
        return status
    if b"PROBLEM HAS NO PRIMAL FEASIBLE SOLUTION" in p.stdout or \
            b"PROBLEM HAS NO INTEGER FEASIBLE SOLUTION" in p.stdout:
        return "infeas", None
    return "err", p.stdout.decode("utf-8", "replace")[-400:]


class Bound:
    def __init__(self, lo, hi, how_lo, how_hi):
        self.lo, self.hi, self.how_lo, self.how_hi = lo, hi, how_lo, how_hi

    @property
    def width(self):
        return self.hi - self.lo

    @property
    def how(self):
        return "mip" if self.how_lo == self.how_hi == "mip" else "lp/mip"

    def __repr__(self):
        return "[%s..%s %s]" % (self.lo, self.hi, self.how)


def bounds(m, targets, integer=True, tmlim=10, jobs=None, eps=1e-6, budget=60):
    """{key: Bound} for each target {key: {var: coef}}.  Raises Infeasible
    when the constraints have no solution.  MIP runs still waiting after
    `budget` seconds are skipped (their bounds stay the LP's, marked "lp")."""
    if GLPSOL is None:
        raise RuntimeError("glpsol not found: apt-get install glpk-utils")
    jobs = jobs or max(2, os.cpu_count() or 2)
    lp_body = cplex_lp_body(m, integer=False)
    mip_body = cplex_lp_body(m, integer=True) if integer else None
    empty = [k for k in targets if not targets[k]]     # no variable left: known to be 0
    # figures that are the same sum of unknowns are solved once
    same = {}
    for k in targets:
        if targets[k]:
            same.setdefault(tuple(sorted(targets[k].items())), []).append(k)
    keys = [ks[0] for ks in same.values()]
    tmp = tempfile.mkdtemp(prefix="pcs-attack-")
    try:
        with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
            def lp_job(i, sense):
                return _solve(tmp, "lp%d%s" % (i, sense), lp_body, sense, targets[keys[i]], False, tmlim)

            deadline = time.monotonic() + budget

            def mip_job(i, sense):
                if time.monotonic() > deadline:
                    return "skip", None
                return _solve(tmp, "mip%d%s" % (i, sense), mip_body, sense, targets[keys[i]], True, tmlim)

            lp = {}
            mip = {}
            futs = {ex.submit(lp_job, i, s): (i, s) for i in range(len(keys)) for s in ("min", "max")}
            for f in concurrent.futures.as_completed(futs):
                i, s = futs[f]
                st, obj = f.result()
                if st == "infeas":
                    raise Infeasible("LP infeasible (%s %s)" % (s, keys[i]))
                if st not in ("opt", "opt-int"):
                    raise RuntimeError("glpsol LP %s %s: %s" % (s, keys[i], obj))
                lp[i, s] = math.ceil(obj - eps) if s == "min" else math.floor(obj + eps)
                if st == "opt-int":
                    mip[i, s] = int(round(obj))
            if integer:
                deadline = time.monotonic() + budget     # the MIP phase's own budget
                futs = {ex.submit(mip_job, i, s): (i, s) for i in range(len(keys)) for s in ("min", "max")
                        if (i, s) not in mip}
                for f in concurrent.futures.as_completed(futs):
                    i, s = futs[f]
                    st, obj = f.result()
                    if st == "infeas":
                        raise Infeasible("no integer solution (%s %s)" % (s, keys[i]))
                    if st == "opt":
                        mip[i, s] = int(round(obj))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = {k: Bound(0, 0, "mip", "mip") for k in empty}
    for i, k in enumerate(keys):
        lo = mip.get((i, "min"), lp[i, "min"])
        hi = mip.get((i, "max"), lp[i, "max"])
        for k2 in same[tuple(sorted(targets[k].items()))]:
            out[k2] = Bound(lo, hi, "mip" if (i, "min") in mip else "lp",
                            "mip" if (i, "max") in mip else "lp")
    return out
