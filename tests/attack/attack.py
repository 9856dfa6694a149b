"""The attacker of issue 6: collects every figure the counts API publishes
(every allowed breakdown, totals, coverage), turns each published value
into an interval constraint on the unknown true counts, and asks a solver
(lp.py: glpsol; exact.py: exhaustive search) for the tightest bounds it can
prove on every suppressed figure.

What a published value tells the attacker (privacy.md rules 2-3):

* 0 (or a combination a query lists nothing for: http-api.md lists every
  combination with a true count > 0): the true count is exactly 0;
* a suppressed count (null): the true count is >= 1.  It is 1..suppress_max
  when the cell was suppressed by rule 2, but rule 4 (secondary
  suppression) also hides larger counts and the attacker cannot tell which
  rule hid a cell, so only ">= 1" is sound;
* a shown count c > 0: the true n rounds to c.  With r = round_to and
  h = floor(r / 2), "nearest multiple of r" means c - h <= n <= c + h when
  r is odd (no ties: n +- r/2 is never an integer); when r is even the tie
  n = c +- r/2 goes one way or the other depending on the tie rule, which
  the contract does not fix, so both ends are kept (a sound, slightly wider
  interval).  A shown count was not suppressed, so also n >= suppress_max + 1.

The unknowns.  A *base cell* is one combination of the finest codes a
response can carry: an ICB (which fixes its region) or no ICB, a role
(which fixes its staff group) or none, an org type or none.  n[b] is the
number of responses in base cell b; for each countable question q and
option o, y[b,q,o] is the number of those that answered o.  For a
single-answer question (choice, select, a scale statement) sum_o y[b,q,o]
<= n[b] (the rest did not answer); for `choices` (several ticks) each
y[b,q,o] <= n[b].  Every figure is a sum of these, so "margins are sums of
refinements", "a region is the sum of its ICBs" and "a staff group is the
sum of its roles" all hold by construction.  This is exact for figures: a
figure involves at most one question, and any per-question split of n[b]
can be realised by real responses, so nothing the attacker could deduce
from the published figures is lost.
"""

import itertools

import disclosure as D
import lp


class Observations:
    """Every published figure: {figure: [(value, where), ...]}, value an
    int or None (suppressed)."""

    def __init__(self, shape, rule):
        self.shape = shape
        self.rule = rule
        self.values = {}
        self.covered = set()        # (frozenset of dims, qid or None): zero when unlisted
        self.queries = []           # (by, question, status)
        self.anomalies = []         # shape errors in the answers

    def add(self, fig, value, where):
        if fig is None:
            if value not in (0, None):
                self.anomalies.append("%s: a figure that cannot exist has %r" % (where, value))
            return
        self.values.setdefault(fig, []).append((value, where))

    def entry_value(self, e, where):
        """(value, ok) of one {"count", "suppressed"} entry."""
        c, s = e.get("count"), e.get("suppressed")
        if s is True and c is None:
            return None
        if s is False and isinstance(c, int) and not isinstance(c, bool):
            return c
        if s is None and (c is None or isinstance(c, int)):   # coverage: a bare number or null
            return c
        self.anomalies.append("%s: count %r with suppressed %r" % (where, c, s))
        return None if c is None else c

    def add_counts(self, by, question, doc):
        where = "counts?by=%s%s" % (",".join(by), "&question=" + question if question else "")
        dims = D.canonical({d: "x" for d in by})[0]
        self.covered.add((frozenset(d for d, _ in dims), question))
        for cell in doc.get("cells", []):
            coords = {d: cell.get(d) for d in by}
            qo = (question, cell.get(question)) if question else None
            self.add(D.canonical(coords, qo, self.shape), self.entry_value(cell, where), where)
        tot = doc.get("totals") or {}
        if "all" in tot:
            a = tot["all"]
            v = self.entry_value(a, where + " totals.all") if isinstance(a, dict) else a
            self.add(D.GRAND, v, where + " totals.all")
        for d in by:
            for e in tot.get(d, []) or []:
                self.add(D.canonical({d: e.get(d)}), self.entry_value(e, where + " totals." + d),
                         where + " totals." + d)
        if question:
            for e in tot.get(question, []) or []:
                self.add(((), (question, e.get(question))),
                         self.entry_value(e, where + " totals." + question),
                         where + " totals." + question)

    def add_coverage(self, doc):
        where = "coverage"
        for row in doc.get("icbs", []):
            i = row.get("icb")
            for g, v in (row.get("counts") or {}).items():
                self.add(D.canonical({"icb": i, "staff_group": g}), v, where)
            self.add(D.canonical({"icb": i}), row.get("total"), where)
        for g, v in (doc.get("staff_group_totals") or {}).items():
            self.add(D.canonical({"staff_group": g}), v, where)
        if "total" in doc:
            self.add(D.GRAND, doc["total"], where)

    def add_total(self, value, where):
        self.add(D.GRAND, value, where)

    # -- what the attacker knows about one figure

    def is_zero(self, fig):
        vals = self.values.get(fig)
        if vals:
            return all(v == 0 for v, _ in vals)
        dims, qo = fig
        return (frozenset(d for d, _ in dims), qo[0] if qo else None) in self.covered

    def interval(self, fig):
        """(lo, hi) the true count must lie in, hi None for no bound; the
        intersection over every place the figure was published."""
        vals = self.values.get(fig)
        if not vals:
            return (0, 0) if self.is_zero(fig) else (0, None)
        lo, hi = 0, None
        for v, _ in vals:
            a, b = value_interval(v, self.rule)
            lo = max(lo, a)
            hi = b if hi is None else (hi if b is None else min(hi, b))
        return lo, hi

    def inconsistent(self):
        """Figures published with more than one value (rule 4 forbids it)."""
        out = []
        for f, vals in self.values.items():
            if len(set(v for v, _ in vals)) > 1:
                out.append((f, vals))
        return out

    def suppressed(self):
        return sorted((f for f, vals in self.values.items() if any(v is None for v, _ in vals)),
                      key=D.order_key)


def value_interval(v, rule):
    """privacy.md rules 2-3, read backwards (module docstring)."""
    if v is None:
        return 1, None
    if v == 0:
        return 0, 0
    h = rule.round_to // 2 if rule.round_to > 1 else 0
    return max(v - h, rule.suppress_max + 1), v + h


# ------------------------------------------------------------------ the model

def _groups(shape, declared):
    """Hierarchy groups of the form: (child dim or None, parent dim or None)."""
    out = []
    for child, parent in (("icb", "region"), ("role", "staff_group"), ("org_type", None)):
        c = child if child in shape.dims else None
        p = parent if parent in shape.dims else None
        if c or p:
            out.append((c, p, p is not None and (c is None or p in declared)))
    return out


def base_cells(shape, obs, declared):
    """Every base cell not known to be empty, as a row {dim: code}."""
    choices = []
    for child, parent, parent_alone in _groups(shape, declared):
        vals = [{}]
        if child:
            for c in shape.codes[child]:
                if obs.is_zero(D.canonical({child: c})):
                    continue
                r = {child: c}
                if parent:
                    r[parent] = shape.parent_code[child].get(c)
                vals.append(r)
        if parent_alone:
            for p in shape.codes[parent]:
                if not obs.is_zero(D.canonical({parent: p})):
                    vals.append({parent: p})
        choices.append(vals)
    cells = []
    for combo in itertools.product(*choices):
        row = {}
        for part in combo:
            row.update(part)
        if any(obs.is_zero(f) for f in D.projections(shape, row)):
            continue
        cells.append(row)
    return cells


class Attack:
    """The constraint model of everything published, and the bounds the
    attacker proves on each suppressed figure."""

    def __init__(self, shape, obs, declared=()):
        self.shape, self.obs = shape, obs
        self.model = m = lp.Model()
        self.cells = base_cells(shape, obs, set(declared))
        self.n = {}                     # cell index -> var
        self.y = {}                     # (cell index, q, o) -> var
        self.of_fig = {}                # no-question figure -> [cell index]
        for i, row in enumerate(self.cells):
            self.n[i] = m.var("n%d" % i)
            for f in D.projections(shape, row):
                self.of_fig.setdefault(f[0], []).append(i)
        asked = set(q for (_, q) in obs.covered if q) | set(
            f[1][0] for f in obs.values if f[1])
        self.questions = [q for q in shape.qids if q in asked]
        for i, row in enumerate(self.cells):
            dimsets = [f[0] for f in D.projections(shape, row)]
            for q in self.questions:
                opts, multi = shape.questions[q]
                vs = []
                for o in opts:
                    if any(obs.is_zero((ds, (q, o))) for ds in dimsets):
                        continue
                    v = m.var("y%d_%s_%s" % (i, q, o))
                    self.y[i, q, o] = v
                    vs.append(v)
                    if multi:
                        m.row({v: 1, self.n[i]: -1}, hi=0, label="tick<=n")
                if vs and not multi:
                    c = {v: 1 for v in vs}
                    c[self.n[i]] = -1
                    m.row(c, hi=0, label="answers<=n")
        self.contradictions = []
        for f in obs.values:
            lo, hi = obs.interval(f)
            if hi is not None and lo > hi:
                self.contradictions.append("%s: published values %r admit no count" %
                                           (D.describe(f), obs.values[f]))
                continue
            coeffs = self.coeffs(f)
            if not coeffs:
                if lo > 0:
                    self.contradictions.append(
                        "%s published %r but every response it could count is known to be 0" %
                        (D.describe(f), [v for v, _ in obs.values[f]]))
                continue
            try:
                m.row(coeffs, lo=lo if lo > 0 else None, hi=hi, label=D.describe(f))
            except lp.Infeasible as e:
                self.contradictions.append(str(e))

    def coeffs(self, fig):
        dims, qo = fig
        idx = self.of_fig.get(dims, [])
        if qo is None:
            return {self.n[i]: 1 for i in idx}
        return {self.y[i, qo[0], qo[1]]: 1 for i in idx if (i, qo[0], qo[1]) in self.y}

    def targets(self, figs=None):
        figs = self.obs.suppressed() if figs is None else figs
        return {f: self.coeffs(f) for f in figs}

    def solve(self, figs=None, integer=True, tmlim=10):
        return lp.bounds(self.model, self.targets(figs), integer=integer, tmlim=tmlim)


# ------------------------------------------------------------------ collecting

def breakdowns(dims, questions, pairs=True):
    """Every (by, question) the API allows: one or two dimensions (each
    unordered pair once, in DIMS order), without a question and with each
    countable question (or scale statement)."""
    bys = [(d,) for d in dims]
    if pairs:
        bys += [(a, c) for a, c in itertools.combinations(dims, 2)]
    return [(by, q) for by in bys for q in [None] + list(questions)]


def collect(source, shape, rule, queries, coverage=True, total=None):
    """Asks source for every (by, question) in queries and returns the
    Observations.  source.counts_query(by, question) -> (status, doc);
    source.coverage() -> (status, doc)."""
    obs = Observations(shape, rule)
    for by, q in queries:
        st, doc = source.counts_query(by, q)
        obs.queries.append((by, q, st))
        if st == 200:
            obs.add_counts(by, q, doc)
    if coverage and hasattr(source, "coverage"):
        st, doc = source.coverage()
        if st == 200 and doc:
            obs.add_coverage(doc)
    if total is not None:
        obs.add_total(total, "forms")
    return obs


def summarise(bounds, truth, rule, need):
    """Lines of a report and the list of figures pinned below `need`."""
    widths = {}
    pinned = []
    unsound = []
    for f, bd in bounds.items():
        widths.setdefault(bd.width, 0)
        widths[bd.width] += 1
        t = truth.get(f, 0) if truth is not None else None
        if t is not None and not (bd.lo <= t <= bd.hi):
            unsound.append((f, bd, t))
        if bd.width < need:
            pinned.append((f, bd, t))
    lp_only = sum(1 for b in bounds.values() if b.how != "mip")
    lines = ["suppressed figures: %d (%d with an LP bound only); width (max - min) histogram: %s" % (
        len(bounds), lp_only, ", ".join("%d: %d" % kv for kv in sorted(widths.items())))]
    if bounds:
        w = sorted(bounds.items(), key=lambda kv: (kv[1].width, D.order_key(kv[0])))
        lines.append("narrowest: " + "; ".join(
            "%s %s%s" % (D.describe(f), bd, "" if truth is None else " true %d" % truth.get(f, 0))
            for f, bd in w[:8]))
    return lines, pinned, unsound
