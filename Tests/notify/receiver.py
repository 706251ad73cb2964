#!/usr/bin/env python3
"""A webhook receiver for andond's tests and benchmark, on 127.0.0.1.

Usage: receiver.py PORT_FILE LOG_FILE [--port N] [--host ADDRESS]

Binds 127.0.0.1 (or --host; an ephemeral port unless --port), writes the port to PORT_FILE, and records each POST as one JSON
line in LOG_FILE: path, headers that matter, the body, what it answered, and when (time.time()).

Answers are scripted per path with `PUT /_script/<path>` and a body of comma-separated actions, taken in order for
that path's POSTs: `200`, `500`, `429:2` (with Retry-After: 2), `hang` (never answers). Past the script: 200.
"""
import http.server
import json
import sys
import threading
import time

port_file, log_file = sys.argv[1], sys.argv[2]
port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 0
host = sys.argv[sys.argv.index("--host") + 1] if "--host" in sys.argv else "127.0.0.1"
scripts = {}
lock = threading.Lock()
log = open(log_file, "a", buffering=1)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        path = self.path[len("/_script"):]
        with lock:
            scripts[path] = [a for a in body.split(",") if a]
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            script = scripts.get(self.path, [])
            action = script.pop(0) if script else "200"
            log.write(json.dumps({
                "path": self.path, "t": time.time(), "action": action,
                "key": self.headers.get("Idempotency-Key"), "attempt": self.headers.get("X-Andon-Attempt"),
                "delivery": self.headers.get("X-Andon-Delivery"), "event": self.headers.get("X-Andon-Event"),
                "signature": self.headers.get("X-Andon-Signature"), "type": self.headers.get("Content-Type"),
                "body": body.decode("utf-8", "replace"),
            }) + "\n")
        if action == "hang":
            time.sleep(3600)
            return
        code, _, retry_after = action.partition(":")
        self.send_response(int(code))
        if retry_after:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server((host, port), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
