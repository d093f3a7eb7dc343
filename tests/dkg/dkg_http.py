#!/usr/bin/env python3
"""Helpers for dkg_http.sh.

post URL FILE            POST FILE's bytes to URL; print "<status> <first line of the answer>".
splitview UPSTREAM R1 VICTIM SLOT
                         a hostile coordinator in front of the real one (UPSTREAM): it relays
                         every request, except that participant VICTIM's GET /bundle gets the
                         bundle with SLOT's message replaced by the one in the round1 file R1
                         (a split view).  Prints its URL on the first line, then serves.
"""
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def call(url, body=None):
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def post(url, path):
    with open(path, "rb") as f:
        status, body = call(url, f.read())
    print(status, body.decode("ascii", "replace").split("\n")[0])


def data_line(path):
    with open(path, "rb") as f:
        return [l for l in f.read().split(b"\n") if l.startswith(b"data ")][0]


def splitview(upstream, r1, victim, slot):
    other = data_line(r1)

    class H(BaseHTTPRequestHandler):
        def relay(self, body=None):
            status, data = call(upstream + self.path, body)
            if status == 200 and self.path == "/bundle?participant=%d" % victim:
                lines = data.split(b"\n")
                k = [i for i, l in enumerate(lines) if l.startswith(b"data ")][slot - 1]
                lines[k] = other
                data = b"\n".join(lines)
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.relay()

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            self.relay(self.rfile.read(n))

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    print("http://127.0.0.1:%d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "post":
        post(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "splitview":
        splitview(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(2)
