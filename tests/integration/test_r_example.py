"""The R example of docs/api.md (its fenced ```r block) runs as written
against the test instance: the base URL is pointed at this instance and the
token comes from PCSURVEY_TOKEN, as the example expects.  Needs Rscript
(r-base-core, not installed by deploy/install-deps.sh: too big); without it
the run test skips, and only the extraction is checked."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

import lib

sys.path.insert(0, os.path.join(lib.ROOT, "tests", "attack"))

DOC = os.path.join(lib.ROOT, "docs", "api.md")


def r_blocks():
    if not os.path.exists(DOC):
        raise lib.Skip("docs/api.md is not there yet")
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    return [m.group(1) for m in re.finditer(r"^```[ \t]*[rR][ \t]*\n(.*?)^```[ \t]*$", text, re.S | re.M)]


def localise(code):
    """The example with its base URL on this instance (whatever host the
    documentation shows), everything else untouched."""
    out, n = re.subn(r"https?://[^\"'/\s]+(?=/api/v1)", lib.BASE, code)
    return out, n


def test_r_example_is_in_the_docs_and_points_at_the_api():
    blocks = r_blocks()
    assert blocks, "docs/api.md has no ```r block"
    code = "\n".join(blocks)
    _, n = localise(code)
    assert n >= 1, "the R example has no http(s)://.../api/v1 URL to point at a server"
    assert "PCSURVEY_TOKEN" in code or "Sys.getenv" in code, \
        "the R example should read the token from the environment, not hold it"
    assert "Bearer" in code, "the R example does not send Authorization: Bearer"
    assert not re.search(r"[A-Za-z0-9_-]{43}", code), "the R example seems to hold a token"


def test_r_example_runs_with_rscript():
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise lib.Skip("Rscript not installed (apt-get install r-base-core to run the docs' R example)")
    import realapi
    realapi.require_api()
    token = realapi.token("aggregate")
    code, _ = localise("\n".join(r_blocks()))
    uses_jsonlite = "jsonlite" in code
    if uses_jsonlite:
        p = subprocess.run([rscript, "-e", "quit(status = !requireNamespace('jsonlite', quietly = TRUE))"],
                           capture_output=True, timeout=60)
        if p.returncode != 0:
            # the example says install.packages("jsonlite"); there is no CRAN here
            code = "\n".join(ln for ln in code.split("\n") if "jsonlite" not in ln)
    code += "\n" + "\n".join([
        'stopifnot(is.data.frame(counts), nrow(counts) >= 0)',
        'stopifnot(all(c("count", "suppressed") %in% names(counts)))',
        'stopifnot(is.logical(counts$suppressed), any(counts$suppressed), !all(counts$suppressed))',
        'stopifnot(all(is.na(counts$count) == counts$suppressed))',
        'if (exists("valued")) stopifnot(is.data.frame(valued))',
        'if (exists("totals")) stopifnot(length(totals) >= 1)',
        'cat("R example ok:", nrow(counts), "rows\\n")',
    ]) + "\n"
    # A known data set, so that by=region,staff_group has shown and
    # suppressed cells: the form's other rows are parked under another form
    # id meanwhile (rule 4 can hide every cell of the sparse rows other tests
    # leave, which made this check depend on the order of the tests).  Three
    # regions with 40 GPs, nurses and dentists each, and 2 pharmacists that
    # rule 2 hides.
    marker = os.urandom(4).hex()
    rows = []
    for icb in ("QT6", "QYG", "QNC"):
        rows += [{"icb": icb, "role": "gp_partner", "answers": {"wellbeing__valued": "4"}}] * 40
        rows += [{"icb": icb, "role": "practice_nurse", "answers": {"wellbeing__valued": "2"}}] * 40
        rows += [{"icb": icb, "role": "dentist", "answers": {"wellbeing__valued": "3"}}] * 40
    rows += [{"icb": "QT6", "role": "clinical_pharmacist", "answers": {}}] * 2
    parked = "parked-r-" + marker
    lib.sql("UPDATE pcs.response SET form_id = '%s' WHERE form_id = 'staff-wellbeing'" % parked)
    try:
        realapi.seed("staff-wellbeing", rows, marker)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "example.R")
            with open(path, "w", encoding="utf-8") as f:
                f.write(code)
            env = dict(os.environ, PCSURVEY_TOKEN=token, HOME=d, R_LIBS_USER=d)
            p = subprocess.run([rscript, "--vanilla", path], capture_output=True, timeout=110,
                               env=env, cwd=d)
    finally:
        realapi.cleanup(marker)
        lib.sql("UPDATE pcs.response SET form_id = 'staff-wellbeing' WHERE form_id = '%s'" % parked)
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    assert token not in out, "the token was printed"
    assert p.returncode == 0, "Rscript failed (%d): %s" % (p.returncode, out[-800:])
    assert "R example ok" in out, out[-400:]
