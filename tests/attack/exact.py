"""Exact bounds by exhaustive search, for small models (lp.Model): every
integer point that satisfies every row is visited (depth-first, with
interval propagation), and each target's smallest and largest value over
them is kept.  No solver needed, no rounding: the check that lp.bounds()
(glpsol) gives the attacker's true best on small tables."""


class TooBig(Exception):
    pass


def _propagate(m, dom, rows_of):
    """Tightens dom (list of [lo, hi]) by every row until nothing changes;
    False when some domain becomes empty."""
    queue = list(range(len(m.rows)))
    queued = set(queue)
    while queue:
        r = queue.pop()
        queued.discard(r)
        coeffs, lo, hi, _ = m.rows[r]
        again = True
        while again:
            again = False
            smin = smax = 0
            for v, c in coeffs.items():
                a, b = dom[v]
                if c > 0:
                    smin += c * a
                    smax += c * b
                else:
                    smin += c * b
                    smax += c * a
            if (lo is not None and smax < lo) or (hi is not None and smin > hi):
                return False
            if (lo is None or smin >= lo) and (hi is None or smax <= hi):
                break                       # the row holds whatever the values
            for v, c in coeffs.items():
                a, b = dom[v]
                rmin = smin - (c * a if c > 0 else c * b)   # the row without v
                rmax = smax - (c * b if c > 0 else c * a)
                na, nb = a, b
                if c > 0:
                    if hi is not None:
                        nb = min(nb, (hi - rmin) // c)
                    if lo is not None:
                        na = max(na, -((rmax - lo) // c))      # ceil((lo - rmax) / c)
                else:
                    if hi is not None:
                        na = max(na, -((hi - rmin) // -c))     # ceil((rmin - hi) / -c)
                    if lo is not None:
                        nb = min(nb, (rmax - lo) // -c)
                if na > nb:
                    return False
                if (na, nb) != (a, b):
                    dom[v] = [na, nb]
                    again = True
                    for r2 in rows_of[v]:
                        if r2 != r and r2 not in queued:
                            queued.add(r2)
                            queue.append(r2)
    return True


def _feasible(m, dom, rows_of, nodes, max_nodes):
    """True if some integer point lies in dom and satisfies every row."""
    nodes[0] += 1
    if nodes[0] > max_nodes:
        raise TooBig("more than %d search nodes" % max_nodes)
    if not _propagate(m, dom, rows_of):
        return False
    free = [v for v in range(len(dom)) if dom[v][0] < dom[v][1]]
    if not free:
        return True
    v = min(free, key=lambda x: dom[x][1] - dom[x][0])
    for val in range(dom[v][0], dom[v][1] + 1):
        d2 = [list(x) for x in dom]
        d2[v] = [val, val]
        if _feasible(m, d2, rows_of, nodes, max_nodes):
            return True
    return False


def bounds(m, targets, cap=64, max_nodes=2_000_000):
    """({key: (lo, hi)}, search nodes): the smallest and largest value of
    each target over all integer solutions.  For each target, the values
    are tried one by one from the propagated bound inwards, each by a
    depth-first search for one solution with target == value: the first
    value with a solution is the exact bound.  Every variable is capped at
    `cap` if no row bounds it.  Raises TooBig past max_nodes in all."""
    n = len(m)
    base = [[m.lo[v], m.hi[v] if m.hi[v] is not None else cap] for v in range(n)]
    rows_of = [[] for _ in range(n)]
    for i, (coeffs, _, _, _) in enumerate(m.rows):
        for v in coeffs:
            rows_of[v].append(i)
    nodes = [0]
    if not _propagate(m, base, rows_of):
        return {k: (None, None) for k in targets}, nodes[0]
    out = {}
    for k, coeffs in targets.items():
        smin = sum(c * base[v][0 if c > 0 else 1] for v, c in coeffs.items())
        smax = sum(c * base[v][1 if c > 0 else 0] for v, c in coeffs.items())
        m.rows.append((coeffs, None, None, "target"))
        r = len(m.rows) - 1
        for v in coeffs:
            rows_of[v].append(r)
        try:
            found = []
            for order in (range(smin, smax + 1), range(smax, smin - 1, -1)):
                got = None
                for val in order:
                    m.rows[r] = (coeffs, val, val, "target")
                    if _feasible(m, [list(x) for x in base], rows_of, nodes, max_nodes):
                        got = val
                        break
                found.append(got)
            out[k] = tuple(found)
        finally:
            m.rows.pop()
            for v in coeffs:
                rows_of[v].pop()
    return out, nodes[0]
