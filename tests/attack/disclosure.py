"""A reference implementation of privacy.md "Disclosure control on every
count" (rules 1-4), written from the contract alone, in the Python standard
library.  The attack tests use it two ways:

* to publish a synthetic table exactly as the API should, so the attacker
  (attack.py) and the solvers (lp.py, exact.py) can be checked without a
  server (SyntheticAPI answers like GET /api/v1/forms/{form}/counts);
* to recompute, from the true responses in the database, the one value every
  figure must have, and compare it with what the real API published.

Vocabulary (privacy.md rule 4).  A *figure* is a set of coordinates: at most
two dimensions and at most one question option.  Here a figure is a tuple

    (dims, qo)   dims: ((dim, code), ...) in DIMS order; qo: (question, option) or None

Figures are canonical: {icb=i, region=r} counts the same responses as
{icb=i} (region is derived from icb; likewise role and staff_group), so a
child dimension next to its own parent keeps the child only
(canonical()).  A *line* is a margin F with the figures that refine F by one
more coordinate (one line per coordinate that can be added), and, for the
hierarchies region > icb and staff_group > role, F with region=r together
with the figures that replace region=r by each ICB of r.
"""

DIMS = ("icb", "region", "role", "staff_group", "org_type")
RANK = {d: i for i, d in enumerate(DIMS)}
PARENT = {"icb": "region", "role": "staff_group"}      # child -> parent dimension
CHILD = {"region": "icb", "staff_group": "role"}       # parent -> child dimension
GRAND = ((), None)                                     # the grand total {}


def b(s):
    """Byte order of a code (privacy.md: codes in byte order)."""
    return s.encode("utf-8")


class Shape:
    """What coordinates a form's figures can have.

    dims: the form's dimensions, derived ones included (e.g. icb, region,
    role, staff_group); codes: {dim: [codes]}; parent_code: {"icb": {icb:
    region}, "role": {role: staff_group}}; questions: {qid: (options, multi)}
    where qid is a question id or "Q__statement" and multi says a response
    may tick several options (a `choices` question).
    """

    def __init__(self, dims, codes, parent_code, questions):
        self.dims = tuple(d for d in DIMS if d in dims)
        self.codes = {d: sorted(codes[d], key=b) for d in self.dims}
        self.parent_code = {c: dict(m) for c, m in parent_code.items()}
        self.questions = {q: (sorted(o, key=b), bool(m)) for q, (o, m) in questions.items()}
        self.qids = sorted(self.questions, key=b)

    def children(self, child_dim, parent_value):
        pc = self.parent_code.get(child_dim, {})
        return [c for c in self.codes.get(child_dim, ()) if pc.get(c) == parent_value]


# ------------------------------------------------------------------ figures

def canonical(coords, qo=None, shape=None):
    """A figure from {dim: code} (and a question option): a child with its
    own parent keeps the child.  Returns None when the coordinates cannot
    hold together (an ICB with another region's code): that figure is 0."""
    c = dict(coords)
    for child, parent in PARENT.items():
        if child in c and parent in c:
            if shape is not None:
                want = shape.parent_code.get(child, {}).get(c[child])
                if want is not None and want != c[parent]:
                    return None
            del c[parent]
    return (tuple(sorted(c.items(), key=lambda kv: RANK[kv[0]])), qo)


def order_key(fig):
    """privacy.md rule 4: margins with fewer coordinates first; among equals,
    coordinate by coordinate in the order icb, region, role, staff_group,
    org_type, then the question, codes in byte order (a present coordinate
    before an absent one, which is the same as comparing the lists of
    coordinates)."""
    dims, qo = fig
    n = len(dims) + (qo is not None)
    d = dict(dims)
    k = [n]
    for dim in DIMS:
        k.append((0, b(d[dim])) if dim in d else (1, b""))
    k.append((0, b(qo[0]), b(qo[1])) if qo else (1, b"", b""))
    return tuple(k)


def describe(fig):
    dims, qo = fig
    parts = ["%s=%s" % kv for kv in dims]
    if qo:
        parts.append("%s=%s" % qo)
    return "{" + ", ".join(parts) + "}"


def projections(shape, row):
    """Every figure one response counts in.  row: {dim: code} for the
    dimensions it has (derived ones included) and 'answers': {qid: value or
    list of values}."""
    have = [d for d in shape.dims if row.get(d) is not None]
    dimsets = [()]
    for i, d in enumerate(have):
        dimsets.append(((d, row[d]),))
        for e in have[i + 1:]:
            if PARENT.get(d) == e or PARENT.get(e) == d:
                continue
            dimsets.append(((d, row[d]), (e, row[e])))
    qos = [None]
    answers = row.get("answers") or {}
    for q in shape.qids:
        opts, _multi = shape.questions[q]
        v = answers.get(q)
        if v is None:
            continue
        vals = v if isinstance(v, (list, tuple)) else [v]
        for o in dict.fromkeys(vals):
            if o in opts:
                qos.append((q, o))
    return [(ds, qo) for ds in dimsets for qo in qos]


def true_counts(shape, rows):
    """{figure: true count} for every figure with a count >= 1."""
    out = {}
    for r in rows:
        for f in projections(shape, r):
            out[f] = out.get(f, 0) + 1
    return out


# ------------------------------------------------------------------ lines

def lines_of(shape, margin):
    """The lines whose margin is `margin`, in the order of the coordinate
    they add (icb, region, role, staff_group, org_type, then the questions
    in byte order).  Each line: [margin, refinement, ...], refinements in
    byte order of their new code."""
    dims, qo = margin
    have = dict(dims)
    out = []
    for d in shape.dims:
        if d in have:
            continue
        if CHILD.get(d) in have:
            continue                        # {icb=i} plus its region is {icb=i}
        up = PARENT.get(d)
        if up is not None and up in have:   # hierarchy line
            refs = []
            for c in shape.children(d, have[up]):
                nd = dict(have)
                del nd[up]
                nd[d] = c
                refs.append(canonical(nd, qo))
            out.append([margin] + refs)
            continue
        if len(have) >= 2:
            continue                        # rule 1: at most two dimensions
        refs = []
        for c in shape.codes[d]:
            nd = dict(have)
            nd[d] = c
            refs.append(canonical(nd, qo))
        out.append([margin] + refs)
    if qo is None:
        for q in shape.qids:
            opts, _ = shape.questions[q]
            out.append([margin] + [(dims, (q, o)) for o in opts])
    return [ln for ln in out if len(ln) > 1]


class Rule:
    def __init__(self, suppress_max=7, round_to=5):
        self.suppress_max = suppress_max
        self.round_to = round_to

    def round(self, n):
        """Rule 3: nearest multiple of round_to (halves up)."""
        r = self.round_to
        if r <= 1:
            return n
        return ((n + r // 2) // r) * r


def apply_rule(shape, counts, rule):
    """Rules 2-4 over the whole lattice.  Returns ({figure: state}, passes)
    with state 'shown', 'primary' or 'secondary' for every figure in
    counts (figures not in counts are 0 and published as 0)."""
    state = {f: ("primary" if n <= rule.suppress_max else "shown") for f, n in counts.items()}
    margins = sorted(counts, key=order_key)
    lines = []
    for m in margins:
        for ln in lines_of(shape, m):
            ent = [m] + [f for f in ln[1:] if f in counts]  # zeros are never suppressed
            if len(ent) > 1:
                lines.append(ent)
    passes = 0
    while True:
        passes += 1
        changed = False
        for ent in lines:
            supp = [f for f in ent if state[f] != "shown"]
            # Rule 4 as written suppresses again only for a lone suppressed
            # entry; that lets an attacker solve cells (this test found it).
            # disclose.c also treats a line with a published margin as
            # unprotected while its hidden refinements add up to less than
            # their number plus the rounding width (README).
            hidden = [f for f in ent[1:] if state[f] != "shown"]
            width = rule.round_to - 1 if rule.round_to > 1 else 1
            weak = (len(supp) >= 1 and state[ent[0]] == "shown" and
                    sum(counts[f] for f in hidden) < len(hidden) + width)
            if len(supp) != 1 and not weak:
                continue
            best = None
            for f in ent[1:]:                # refinements first, byte order on ties
                if state[f] == "shown" and (best is None or counts[f] < counts[best]):
                    best = f
            m = ent[0]
            if state[m] == "shown" and m != GRAND and (best is None or counts[m] < counts[best]):
                best = m
            if best is not None:
                state[best] = "secondary"
                changed = True
        if not changed:
            break
    return state, passes


def published(counts, state, rule, fig):
    """The one published value of a figure: an int, or None when suppressed."""
    n = counts.get(fig, 0)
    if n == 0:
        return 0
    if state[fig] != "shown":
        return None
    return rule.round(n)


# ------------------------------------------------------------------ synthetic API

class SyntheticAPI:
    """Answers counts and coverage queries in the JSON shape of
    http-api.md, from the reference rule over synthetic responses."""

    def __init__(self, shape, rows, rule, form="synthetic", as_of="2026-01-01"):
        self.shape, self.rule, self.form, self.as_of = shape, rule, form, as_of
        self.counts = true_counts(shape, rows)
        self.state, self.passes = apply_rule(shape, self.counts, rule)

    def value(self, fig):
        return published(self.counts, self.state, self.rule, fig)

    def _entry(self, coords, fig):
        v = self.value(fig)
        e = dict(coords)
        e["count"] = v
        e["suppressed"] = v is None
        return e

    def counts_query(self, by, question=None):
        s = self.shape
        for d in by:
            if d not in s.dims:
                return 400, {"error": {"status": 400, "code": "unknown_dimension"}}
        if question is not None and question not in s.questions:
            return 400, {"error": {"status": 400, "code": "unknown_question"}}
        opts = s.questions[question][0] if question else [None]
        combos = [{}]
        for d in by:
            combos = [dict(c, **{d: code}) for c in combos for code in s.codes[d]]
        cells = []
        for c in combos:
            for o in opts:
                qo = (question, o) if question else None
                fig = canonical(c, qo, s)
                if fig is None or self.counts.get(fig, 0) == 0:
                    continue
                coords = dict(c)
                if question:
                    coords[question] = o
                cells.append(self._entry(coords, fig))
        totals = {"all": self.value(GRAND)}
        for d in by:
            totals[d] = [self._entry({d: code}, canonical({d: code}))
                         for code in s.codes[d] if self.counts.get(canonical({d: code}), 0)]
        if question:
            totals[question] = [self._entry({question: o}, ((), (question, o)))
                                for o in opts if self.counts.get(((), (question, o)), 0)]
        return 200, {"form": self.form, "form_version": 1, "by": list(by),
                     "question": question, "data_as_of": self.as_of,
                     "disclosure": {"suppress_max": self.rule.suppress_max,
                                    "round_to": self.rule.round_to, "secondary": True},
                     "cells": cells, "totals": totals}

    def coverage(self):
        s = self.shape
        if "icb" not in s.dims or "staff_group" not in s.dims:
            return 404, None
        icbs = []
        for i in s.codes["icb"]:
            icbs.append({"icb": i, "region": s.parent_code["icb"].get(i),
                         "counts": {g: self.value(canonical({"icb": i, "staff_group": g}))
                                    for g in s.codes["staff_group"]},
                         "total": self.value(canonical({"icb": i}))})
        return 200, {"form": self.form, "data_as_of": self.as_of,
                     "staff_groups": list(s.codes["staff_group"]), "icbs": icbs,
                     "staff_group_totals": {g: self.value(canonical({"staff_group": g}))
                                            for g in s.codes["staff_group"]},
                     "total": self.value(GRAND)}
