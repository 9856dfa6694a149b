"""A small fault-injecting TCP proxy for the PostgreSQL wire protocol
(Python 3 standard library only), for adversarial.md T-34 (in-doubt COMMIT).

    px = PgProxy("/path/pgsock/.s.PGSQL.15532")    # or ("127.0.0.1", 5432)
    px.start()                                      # listens on 127.0.0.1:px.port
    px.cut_after(bind_stmt("submit"))               # one shot, see below
    ... the client sends its statement ...
    px.wait_fired(5); px.wait_backend_done(5)
    px.info                                         # what the backend answered
    px.disarm()                                     # back to `pass`
    px.stop()                                       # closes everything

It listens on 127.0.0.1 only and relays each client connection to the
upstream server.  It reads just enough of the protocol to act on a trigger:
the startup packet (an SSLRequest or GSSENCRequest is refused with 'N', so
the client goes on in plain text over the same connection, which libpq does
with the default sslmode=prefer), then length-prefixed messages both ways
(type byte, int32 length).

Modes (each armed once: the first frontend message that matches fires it,
on whichever connection, and the proxy is `pass` again for everything else):

  pass                  relay everything (the default)
  cut_after(m)          forward the matching message upstream, and the rest of
                        its batch (up to and including the next Sync; a simple
                        Query is a batch of its own), then drop everything the
                        server answers; once the server has sent ReadyForQuery
                        (so the transaction really ended, committed or not) and
                        `delay` seconds more, close both sides.  The client
                        sees its statement vanish: the in-doubt COMMIT.
  blackhole_after(m)    forward the matching message and its batch upstream,
                        then relay nothing in either direction, and close
                        nothing: both TCP connections stay up (this proxy's
                        kernel still answers keepalives) until release() or
                        stop(), or until the client closes its side.

A matcher m is bytes/str (a substring of a Bind or simple Query message's
body) or a function (type_byte, body) -> bool; bind_stmt(name) and
query_is(text) are exact ones.

Bounded: every thread is a daemon, every socket has a timeout and every
loop ends when the proxy stops; stop() closes every socket and joins the
threads with a deadline.
"""

import socket
import struct
import threading
import time

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
POLL = 0.25                     # seconds: how often blocked reads look at the stop flag
MAX_MESSAGE = 64 * 1024 * 1024  # a length above this is a protocol error here


def bind_stmt(name):
    """Matches a Bind ('B') of the prepared statement `name` (unnamed portal
    or not: the second NUL-terminated field of the body)."""
    want = name.encode() if isinstance(name, str) else name

    def m(typ, body):
        if typ != b"B":
            return False
        parts = body.split(b"\0", 2)
        return len(parts) >= 2 and parts[1] == want
    m.__doc__ = "Bind of %r" % name
    return m


def query_is(text):
    """Matches a statement whose text is `text` (case and surrounding spaces
    and a trailing ';' ignored), e.g. query_is("COMMIT"): a simple Query
    ('Q'), or a Parse ('P': statement name, then the text) of the extended
    protocol, which pcsurvey uses for every statement without values."""
    want = (text.encode() if isinstance(text, str) else text).strip().rstrip(b";").upper()

    def norm(q):
        return q.strip().rstrip(b";").strip().upper()

    def m(typ, body):
        if typ == b"Q":
            return norm(body.rstrip(b"\0")) == want
        if typ == b"P":
            parts = body.split(b"\0", 2)
            return len(parts) >= 2 and norm(parts[1]) == want
        return False
    m.__doc__ = "Query %r" % text
    return m


def _matcher(pattern):
    if callable(pattern):
        return pattern
    pat = pattern.encode() if isinstance(pattern, str) else bytes(pattern)

    def m(typ, body):
        return typ in (b"B", b"Q") and pat in body
    m.__doc__ = "B/Q containing %r" % pattern
    return m


class _Closed(Exception):
    pass


class _Conn:
    """One client connection and its upstream connection: two relay threads."""

    def __init__(self, proxy, cid, client, upstream):
        self.proxy = proxy
        self.cid = cid
        self.client = client
        self.upstream = upstream
        self.mode = "pass"              # pass | cut | hole
        self.batch_open = False         # after a trigger: forwarding the rest of its batch
        self.closed = threading.Event()
        self.lock = threading.Lock()
        self.threads = []

    # -- socket helpers

    def _recv_exact(self, sock, n):
        buf = b""
        while len(buf) < n:
            if self.closed.is_set() or self.proxy._stopping.is_set():
                raise _Closed()
            try:
                b = sock.recv(n - len(buf))
            except socket.timeout:
                continue
            except OSError:
                raise _Closed()
            if not b:
                raise _Closed()
            buf += b
        return buf

    def _send(self, sock, data):
        try:
            sock.sendall(data)
        except OSError:
            raise _Closed()

    def close(self, why):
        with self.lock:
            if self.closed.is_set():
                return
            self.closed.set()
        for s in (self.client, self.upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
        self.proxy._event(self.cid, "closed: %s" % why)

    # -- the two directions

    def frontend(self):
        """client -> upstream: the startup packet(s), then typed messages."""
        try:
            while True:
                head = self._recv_exact(self.client, 4)
                (n,) = struct.unpack("!I", head)
                if n < 8 or n > 10000:
                    raise _Closed()
                body = self._recv_exact(self.client, n - 4)
                (code,) = struct.unpack("!I", body[:4])
                if code in (SSL_REQUEST, GSSENC_REQUEST):
                    self._send(self.client, b"N")       # no encryption: go on in clear
                    continue
                self._send(self.upstream, head + body)
                if code == CANCEL_REQUEST:
                    self.proxy._event(self.cid, "cancel request")
                break
            while True:
                head = self._recv_exact(self.client, 5)
                typ = head[:1]
                (n,) = struct.unpack("!I", head[1:])
                if n < 4 or n > MAX_MESSAGE:
                    raise _Closed()
                body = self._recv_exact(self.client, n - 4)
                if self.mode == "pass":
                    self.proxy._maybe_fire(self, typ, body)
                if self.mode == "pass" or self.batch_open:
                    self._send(self.upstream, head + body)
                    if self.batch_open and typ in (b"S", b"Q"):
                        self.batch_open = False
                        self.proxy._event(self.cid, "batch forwarded, now %s" % self.mode)
                else:
                    self.proxy._dropped_frontend(self, typ)
        except _Closed:
            pass
        self.close("client side ended" if self.mode == "pass" else "client side ended (%s)" % self.mode)

    def backend(self):
        """upstream -> client: typed messages (after a trigger: dropped)."""
        try:
            while True:
                head = self._recv_exact(self.upstream, 5)
                typ = head[:1]
                (n,) = struct.unpack("!I", head[1:])
                if n < 4 or n > MAX_MESSAGE:
                    raise _Closed()
                body = self._recv_exact(self.upstream, n - 4)
                if self.mode == "pass":
                    self._send(self.client, head + body)
                else:
                    self.proxy._dropped_backend(self, typ, body)
        except _Closed:
            pass
        self.close("upstream ended")


class PgProxy:
    """See the module's docstring."""

    def __init__(self, upstream, host="127.0.0.1", connect_timeout=5.0):
        self.upstream = upstream        # a unix socket path, or (host, port)
        self.host = host
        self.port = None
        self.connect_timeout = connect_timeout
        self._lsock = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._armed = None              # (mode, matcher, delay)
        self._conns = []
        self._threads = []
        self._next_id = 0
        self.fired = threading.Event()
        self.backend_done = threading.Event()
        self.info = {}                  # about the last trigger: see _maybe_fire
        self.events = []                # (seconds since start, conn id, text)
        self._t0 = time.monotonic()

    # -- life cycle

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, 0))
        s.listen(64)
        s.settimeout(POLL)
        self._lsock = s
        self.port = s.getsockname()[1]
        t = threading.Thread(target=self._accept_loop, name="pgproxy-accept", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self, join_timeout=5.0):
        """Stops accepting, closes every connection, joins the threads."""
        self._stopping.set()
        try:
            self._lsock.close()
        except (OSError, AttributeError):
            pass
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            c.close("proxy stopped")
        deadline = time.monotonic() + join_timeout
        for t in list(self._threads):
            t.join(max(0.0, deadline - time.monotonic()))

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                cl, _ = self._lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            try:
                if isinstance(self.upstream, str):
                    up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                else:
                    up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                up.settimeout(self.connect_timeout)
                up.connect(self.upstream)
            except OSError as e:
                self._event(None, "upstream connect failed: %s" % e)
                cl.close()
                continue
            cl.settimeout(POLL)
            up.settimeout(POLL)
            with self._lock:
                self._next_id += 1
                c = _Conn(self, self._next_id, cl, up)
                self._conns = [x for x in self._conns if not x.closed.is_set()] + [c]
            self._event(c.cid, "connected")
            for fn, name in ((c.frontend, "fe"), (c.backend, "be")):
                t = threading.Thread(target=fn, name="pgproxy-%d-%s" % (c.cid, name), daemon=True)
                t.start()
                c.threads.append(t)
                self._threads.append(t)

    # -- modes

    def _arm(self, mode, pattern, delay):
        with self._lock:
            self.fired.clear()
            self.backend_done.clear()
            self.info = {}
            self._armed = (mode, _matcher(pattern), delay)

    def cut_after(self, pattern, delay=0.3):
        """One shot: see the module's docstring."""
        self._arm("cut", pattern, delay)

    def blackhole_after(self, pattern):
        """One shot: see the module's docstring."""
        self._arm("hole", pattern, 0)

    def disarm(self):
        """Back to `pass` for what has not fired yet (a connection already
        cut or blackholed stays so: release() closes those)."""
        with self._lock:
            self._armed = None

    def release(self):
        """Closes every connection that a trigger cut or blackholed."""
        with self._lock:
            conns = [c for c in self._conns if c.mode != "pass"]
        for c in conns:
            c.close("released")
        return len(conns)

    def connections(self):
        """Open connections: [(id, mode)]."""
        with self._lock:
            return [(c.cid, c.mode) for c in self._conns if not c.closed.is_set()]

    def wait_fired(self, timeout):
        return self.fired.wait(timeout)

    def wait_backend_done(self, timeout):
        """Waits until the server sent ReadyForQuery after the trigger."""
        return self.backend_done.wait(timeout)

    # -- called by the connections

    def _event(self, cid, text):
        with self._lock:
            self.events.append((round(time.monotonic() - self._t0, 3), cid, text))
            del self.events[:-500]

    def _maybe_fire(self, conn, typ, body):
        with self._lock:
            armed = self._armed
            if armed is None or not armed[1](typ, body):
                return
            self._armed = None
            mode, m, delay = armed
            # before the message goes upstream, so no answer slips through
            conn.mode = mode
            conn.batch_open = True
            self.info = {"mode": mode, "conn": conn.cid, "trigger": (m.__doc__ or "?"),
                         "message": typ.decode("latin-1"), "fired_at": time.monotonic(),
                         "backend": [], "error": False, "ready_status": None,
                         "closed_client_at": None}
        self._event(conn.cid, "fired %s on %s" % (mode, m.__doc__))
        self.fired.set()
        if mode == "cut":
            t = threading.Thread(target=self._cutter, args=(conn, delay), name="pgproxy-cut", daemon=True)
            t.start()
            self._threads.append(t)

    def _cutter(self, conn, delay):
        # the server has ended the transaction (ReadyForQuery), or 10 s passed
        self.backend_done.wait(10)
        end = time.monotonic() + delay
        while time.monotonic() < end and not self._stopping.is_set():
            time.sleep(0.02)
        self.info["closed_client_at"] = time.monotonic()
        conn.close("cut")

    def _dropped_frontend(self, conn, typ):
        if typ == b"X":
            self._event(conn.cid, "client sent Terminate (dropped)")

    def _dropped_backend(self, conn, typ, body):
        if self.info.get("conn") != conn.cid:
            return
        self.info["backend"].append(typ.decode("latin-1"))
        if typ == b"E":
            self.info["error"] = True
        elif typ == b"C":
            self.info.setdefault("tags", []).append(body.rstrip(b"\0").decode("latin-1"))
        elif typ == b"Z":
            self.info["ready_status"] = body[:1].decode("latin-1")
            self.info["backend_done_at"] = time.monotonic()
            self._event(conn.cid, "server ReadyForQuery (dropped): %s" % "".join(self.info["backend"]))
            self.backend_done.set()

    def committed(self):
        """True if the server answered the trigger's batch without an error
        (a COMMIT of a failed transaction answers the tag ROLLBACK) and ended
        it idle (ReadyForQuery 'I'): the work was committed."""
        return (self.backend_done.is_set() and not self.info.get("error")
                and "ROLLBACK" not in self.info.get("tags", [])
                and self.info.get("ready_status") == "I")
