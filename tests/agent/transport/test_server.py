#!/usr/bin/env python3
"""Scripted HTTPS control plane for the agent transport tests (stdlib only).

Usage: test_server.py --cert CERT --key KEY   -> HTTPS server on 127.0.0.1, port 0
       test_server.py --proxy                 -> plain-HTTP CONNECT proxy on 127.0.0.1, port 0
Prints "PORT <n>" on the first line of stdout once listening, then serves until killed.

Behaviour (state is per process; POST /control/reset restores the defaults):
  POST /agent/v1/enroll         secret "s3cret" -> 200 {node_key: "key-N", agent_id: "agent-1"};
                                anything else -> 401 unauthorized. Each enroll issues a new key
                                and revokes the previous ones.
  POST /agent/v1/poll           NodeKey must be the current key, else 401 node_invalid.
                                While fail_503 > 0 it answers 503 unavailable and decrements it.
                                Otherwise 200 with the scripted jobs.
  POST /agent/v1/jobs/ID/result same auth; 200 {"status":"ok"}; unknown job "missing" -> 404.
  POST /control/set             JSON merged into the state (e.g. {"fail_503": 3, "valid_key": "x"}).
  GET  /control/stats           the state plus counters and the last Authorization/body seen.
  POST /echo                    200 with the request method, path, headers and body as JSON.
  POST /slow?ms=N               sleeps N ms, then 200.
  GET  /big?bytes=N             N bytes of "x".
  GET  /html500                 500 with a non-JSON body.
"""
import argparse
import json
import select
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.Lock()


def default_state():
    return {
        "secret": "s3cret",
        "valid_key": "",
        "issued": 0,
        "fail_503": 0,
        "jobs": [],
        "enroll_count": 0,
        "poll_count": 0,
        "result_count": 0,
        "auth_seen": [],
        "last_result": None,
        "enroll_delay_ms": 0,
        "slow_started": 0,
    }


STATE = default_state()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, obj=None, raw=None, ctype="application/json"):
        data = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, code, message):
        self._send(status, {"error": code, "message": message})

    def _key(self):
        auth = self.headers.get("Authorization") or ""
        return auth[len("NodeKey "):] if auth.startswith("NodeKey ") else None

    def do_GET(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        if u.path == "/control/stats":
            with LOCK:
                self._send(200, STATE)
        elif u.path == "/big":
            n = int(q.get("bytes", ["0"])[0])
            self._send(200, raw=b"x" * n, ctype="text/plain")
        elif u.path == "/html500":
            self._send(500, raw=b"<html><body>Bad Gateway</body></html>", ctype="text/html")
        else:
            self._error(404, "not_found", "no such path")

    def do_POST(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        body = self._body()
        if u.path == "/control/reset":
            with LOCK:
                STATE.clear()
                STATE.update(default_state())
            return self._send(200, {"status": "ok"})
        if u.path == "/control/set":
            with LOCK:
                STATE.update(json.loads(body or b"{}"))
            return self._send(200, {"status": "ok"})
        if u.path == "/echo":
            return self._send(200, {"method": self.command, "path": self.path,
                                    "client_port": self.client_address[1],
                                    "headers": {k.lower(): v for k, v in self.headers.items()},
                                    "body": body.decode("utf-8", "replace")})
        if u.path == "/slow":
            with LOCK:
                STATE["slow_started"] += 1
            time.sleep(int(q.get("ms", ["1000"])[0]) / 1000.0)
            return self._send(200, {"status": "ok"})
        if u.path == "/agent/v1/enroll":
            req = json.loads(body or b"{}")
            with LOCK:
                STATE["enroll_count"] += 1
                delay = STATE["enroll_delay_ms"]
            if delay:
                time.sleep(delay / 1000.0)
            with LOCK:
                if req.get("enroll_secret") != STATE["secret"]:
                    return self._error(401, "unauthorized", "bad enroll secret")
                STATE["issued"] += 1
                key = "key-%d" % STATE["issued"]
                STATE["valid_key"] = key
                return self._send(200, {"node_key": key, "agent_id": "agent-1"})
        if u.path == "/agent/v1/poll" or (u.path.startswith("/agent/v1/jobs/")
                                          and u.path.endswith("/result")):
            key = self._key()
            with LOCK:
                STATE["auth_seen"].append(key)
                if key is None or key != STATE["valid_key"] or STATE.get("reject_all"):
                    return self._error(401, "node_invalid", "unknown node key")
                if u.path == "/agent/v1/poll":
                    STATE["poll_count"] += 1
                    if STATE["fail_503"] > 0:
                        STATE["fail_503"] -= 1
                        return self._error(503, "unavailable", "draining")
                    return self._send(200, {"jobs": STATE["jobs"]})
                STATE["result_count"] += 1
                job_id = u.path[len("/agent/v1/jobs/"):-len("/result")]
                if job_id == "missing":
                    return self._error(404, "not_found", "no such job")
                STATE["last_result"] = {"job_id": job_id, "body": json.loads(body or b"{}")}
                return self._send(200, {"status": "ok"})
        self._error(404, "not_found", "no such path")


class ProxyHandler(BaseHTTPRequestHandler):
    """Just enough of an HTTP CONNECT proxy: tunnels bytes and records each target."""
    protocol_version = "HTTP/1.1"
    targets = []

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        if self.path == "/targets":
            data = json.dumps(ProxyHandler.targets).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send_error(404)

    def do_CONNECT(self):
        with LOCK:
            ProxyHandler.targets.append(self.path)
        host, port = self.path.rsplit(":", 1)
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
        except OSError:
            self.send_error(502)
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        conns = [self.connection, upstream]
        try:
            while True:
                readable, _, _ = select.select(conns, [], [], 30)
                if not readable:
                    break
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()
            self.close_connection = True


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # failed handshakes and dropped clients are expected in these tests


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--proxy", action="store_true")
    args = ap.parse_args()
    if args.proxy:
        server = QuietServer(("127.0.0.1", 0), ProxyHandler)
    else:
        server = QuietServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        # Handshake in the handler thread, so a client that fails verification cannot stall accept().
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
