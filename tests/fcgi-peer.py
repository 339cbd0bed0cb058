#!/usr/bin/env python3
"""fcgi-peer.py -- FastCGI peers that misbehave, for the tests of the read
deadline and of listen_allow.

  fcgi-peer.py hold ADDRESS MODE[:COUNT]... [--max SECONDS]
      open COUNT connections of each MODE at once and keep them open until
      the application closes them (at most --max seconds, default 60):
        idle   connect and send nothing
        half   a begin record and half a params record
        slow   a whole POST /api/auth/login with CONTENT_LENGTH 64, then
               its body one byte every 1.5 s
        drip   such a request, every byte of the stream (records
               included) 0.3 s after the last
        linger a whole GET /health, then a byte every 0.3 s, which the
               application's graceful close reads while it waits for EOF
      prints one line per connection, "MODE closed SECONDS" (by the
      application, seconds after it was opened) or "MODE open" (still open
      at --max); exits 0.

  fcgi-peer.py request ADDRESS [--from SOURCE] [--count N]
      one GET /health (RESPONDER, HTTPS=on) from the local address SOURCE
      (bind(2) before connect(2)); prints the application's Status line, or
      "closed" if it closed the connection without answering; exits 0.
      With --count, N such requests one after the other, a line each.

ADDRESS is a Unix socket path or HOST:PORT.
"""
import socket
import struct
import sys
import time

BEGIN, END, PARAMS, STDIN, STDOUT = 1, 3, 4, 5, 6


def record(rtype, content, req_id=1):
    pad = (8 - len(content) % 8) % 8
    return struct.pack("!BBHHBx", 1, rtype, req_id, len(content), pad) + \
        content + b"\0" * pad


def pairs(params):
    out = b""
    for name, value in params.items():
        n, v = name.encode(), value.encode()
        for length in (len(n), len(v)):
            out += bytes([length]) if length < 128 else \
                struct.pack("!I", length | 0x80000000)
        out += n + v
    return out


def begin(role=1, keep=False):
    return record(BEGIN, struct.pack("!HB5x", role, 1 if keep else 0))


def connect(address, source=None):
    if address.startswith("/"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(address)
        return s
    host, port = address.rsplit(":", 1)
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    if source is not None:
        s.bind((source, 0))
    s.connect((host, int(port)))
    return s


def hold(address, specs, limit):
    conns = []
    for spec in specs:
        mode, _, count = spec.partition(":")
        for _ in range(int(count or 1)):
            s = connect(address)
            if mode == "half":
                params = pairs({"REQUEST_METHOD": "GET", "PATH_INFO": "/validate"})
                s.sendall(begin() + record(PARAMS, params)[:12])
            elif mode == "slow":
                params = pairs({"REQUEST_METHOD": "POST", "PATH_INFO": "/login",
                                "CONTENT_TYPE": "application/json",
                                "CONTENT_LENGTH": "64", "HTTPS": "on"})
                s.sendall(begin() + record(PARAMS, params) + record(PARAMS, b""))
            elif mode == "linger":
                params = pairs({"REQUEST_METHOD": "GET", "PATH_INFO": "/health",
                                "HTTPS": "on"})
                s.sendall(begin() + record(PARAMS, params) + record(PARAMS, b"") +
                          record(STDIN, b""))
                pending = b"\0" * 1000
            elif mode == "drip":
                params = pairs({"REQUEST_METHOD": "POST", "PATH_INFO": "/login",
                                "CONTENT_TYPE": "application/json",
                                "CONTENT_LENGTH": "64", "HTTPS": "on"})
                pending = begin() + record(PARAMS, params) + \
                    record(PARAMS, b"") + record(STDIN, b"{" * 64)
            elif mode != "idle":
                sys.exit("fcgi-peer.py: unknown mode " + mode)
            s.setblocking(False)
            conns.append({"mode": mode, "sock": s, "start": time.monotonic(),
                          "next": time.monotonic() + 1.5, "closed": None,
                          "pending": pending if mode in ("drip", "linger") else b""})
    while time.monotonic() < conns[0]["start"] + limit:
        live = [c for c in conns if c["closed"] is None]
        if not live:
            break
        now = time.monotonic()
        for c in live:
            try:
                data = c["sock"].recv(4096)
                # The graceful close shuts the application's side down
                # before it reads on: for "linger", only a failed send
                # says it closed.
                if data == b"" and c["mode"] != "linger":
                    c["closed"] = now - c["start"]
            except BlockingIOError:
                pass
            except OSError:
                c["closed"] = now - c["start"]
            if c["closed"] is None and c["pending"] and now >= c["next"]:
                try:
                    c["sock"].send(c["pending"][:1])
                except OSError:
                    c["closed"] = now - c["start"]
                c["pending"] = c["pending"][1:]
                c["next"] = now + 0.3
            if c["closed"] is None and c["mode"] == "slow" and now >= c["next"]:
                try:
                    c["sock"].send(record(STDIN, b"x"))
                except OSError:
                    c["closed"] = now - c["start"]
                c["next"] = now + 1.5
        time.sleep(0.05)
    for c in conns:
        if c["closed"] is None:
            print(c["mode"], "open")
        else:
            print(c["mode"], "closed", "%.2f" % c["closed"])
        c["sock"].close()


def request(address, source):
    s = connect(address, source)
    s.settimeout(10)
    params = pairs({"REQUEST_METHOD": "GET", "PATH_INFO": "/health",
                    "HTTPS": "on", "REMOTE_ADDR": "192.0.2.1"})
    try:
        s.sendall(begin() + record(PARAMS, params) + record(PARAMS, b"") +
                  record(STDIN, b""))
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        data = b""
    stdout = b""
    while len(data) >= 8:
        _, rtype, _, clen, pad = struct.unpack("!BBHHBx", data[:8])
        if rtype == STDOUT:
            stdout += data[8:8 + clen]
        data = data[8 + clen + pad:]
    for line in stdout.decode(errors="replace").splitlines():
        if line.lower().startswith("status:"):
            print(line.strip())
            return
    print("closed")


def main(argv):
    if len(argv) >= 3 and argv[1] == "hold":
        limit, specs, rest = 60.0, [], argv[3:]
        while rest:
            if rest[0] == "--max":
                limit = float(rest[1])
                rest = rest[2:]
            else:
                specs.append(rest.pop(0))
        hold(argv[2], specs, limit)
    elif len(argv) >= 3 and argv[1] == "request":
        source, count, rest = None, 1, argv[3:]
        while len(rest) >= 2 and rest[0] in ("--from", "--count"):
            if rest[0] == "--from":
                source = rest[1]
            else:
                count = int(rest[1])
            rest = rest[2:]
        if rest:
            sys.exit(__doc__)
        for _ in range(count):
            request(argv[2], source)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
