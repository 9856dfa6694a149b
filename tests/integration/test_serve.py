"""pcsurvey serve as an operator sees it (cli.md: serve; forms.md: loading):
SIGHUP reloads forms, a broken form is refused with its message while the
others keep serving, and a worker that dies is replaced."""
import json
import os
import signal
import time

from lib import Client, VAR, log_since, log_size, wait_for

FORMS = os.path.join(VAR, "forms")
PIDFILE = os.path.join(VAR, "run", "pcsurvey.pid")

NEW_FORM = {
    "id": "test-reload", "version": 1, "title": "Reload check", "audience": "staff",
    "status": "open", "access": "open", "privacy_notice": "We keep nothing.",
    "pages": [{"id": "one", "title": "One", "questions": [
        {"id": "q", "type": "choice", "label": "Pick", "options": [
            {"value": "a", "label": "A"}]}]}],
}


def supervisor():
    with open(PIDFILE) as f:
        return int(f.read().split()[0])


def workers(sup):
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == sup and fields[0] != "Z":
            out.append(int(pid))
    return sorted(out)


def hup_and_wait(sup, before):
    os.kill(sup, signal.SIGHUP)
    assert wait_for(lambda: workers(sup) and not set(workers(sup)) & set(before), 15), \
        "workers were not replaced after SIGHUP"


def test_sighup_reloads_forms():
    c = Client()
    path = os.path.join(FORMS, "test-reload.json")
    assert c.get("/f/test-reload").status == 404
    sup = supervisor()
    try:
        with open(path, "w") as f:
            json.dump(NEW_FORM, f)
        hup_and_wait(sup, workers(sup))
        assert wait_for(lambda: c.get("/f/test-reload").status == 200, 10)
        assert "Reload check" in c.get("/f/test-reload").text
    finally:
        os.unlink(path)
        hup_and_wait(sup, workers(sup))
    assert wait_for(lambda: c.get("/f/test-reload").status == 404, 10)


def test_broken_form_refused_others_keep_serving():
    c = Client()
    path = os.path.join(FORMS, "test-broken.json")
    bad = dict(NEW_FORM, id="test-broken")
    bad["pages"] = [{"id": "one", "title": "One", "questions": [
        {"id": "q", "type": "choice", "lable": "typo", "options": [{"value": "a", "label": "A"}]}]}]
    off = log_size("pcsurvey.log")
    sup = supervisor()
    try:
        with open(path, "w") as f:
            json.dump(bad, f)
        hup_and_wait(sup, workers(sup))
        log = log_since("pcsurvey.log", off)
        assert "test-broken.json" in log and "lable" in log, log[-2000:]
        assert c.get("/f/test-broken").status == 404
        assert c.get("/f/staff-wellbeing").status == 200
    finally:
        os.unlink(path)
        hup_and_wait(sup, workers(sup))


def test_dead_worker_is_replaced():
    c = Client()
    sup = supervisor()
    before = workers(sup)
    assert before, "no workers found"
    os.kill(before[0], signal.SIGKILL)
    assert wait_for(lambda: len(workers(sup)) == len(before) and before[0] not in workers(sup), 5), \
        "the supervisor did not restart the worker"
    for _ in range(2 * len(before)):
        assert c.get("/healthz").status == 200
