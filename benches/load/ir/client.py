#!/usr/bin/env python3
"""Deterministic HTTP/1.1 client for instruction counting (see ir.sh).

Sends exactly N requests on one keep-alive connection and reads exactly N
responses (Content-Length framed), then closes. Exits non-zero on any
non-200 response or short read.

    client.py PORT SCENARIO N

SCENARIO: plaintext (GET /hello, one at a time), pipelined (16 GET /hello
per write; N must be a multiple of 16), json (GET /json), promoted
(GET /async/hello, one at a time: the first request promotes the connection
to a dispatch actor, the rest are served there), sync-sleep (GET
/sync/sleep?ms=0, a sync route). A learning route has no scenario: under
callgrind its handler runs far slower than its promotion thresholds assume,
so what it would count is not what a learning route costs.
"""
import socket
import sys

PATHS = {
    "plaintext": "/hello",
    "pipelined": "/hello",
    "json": "/json",
    "promoted": "/async/hello",
    "sync-sleep": "/sync/sleep?ms=0",
}


def main():
    port, scenario, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % PATHS[scenario]).encode()
    batch = 16 if scenario == "pipelined" else 1
    if n % batch:
        sys.exit("N must be a multiple of %d" % batch)
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    done = 0
    while done < n:
        s.sendall(req * batch)
        got = 0
        while got < batch:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                chunk = s.recv(65536)
                if not chunk:
                    sys.exit("connection closed after %d responses" % (done + got))
                buf += chunk
                continue
            head = buf[:end].decode("latin-1")
            if not head.startswith("HTTP/1.1 200"):
                sys.exit("unexpected response: %r" % head)
            clen = 0
            for line in head.split("\r\n")[1:]:
                k, _, v = line.partition(":")
                if k.strip().lower() == "content-length":
                    clen = int(v)
            total = end + 4 + clen
            while len(buf) < total:
                chunk = s.recv(65536)
                if not chunk:
                    sys.exit("connection closed mid-body")
                buf += chunk
            buf = buf[total:]
            got += 1
        done += batch
    s.close()
    print("%s: %d responses" % (scenario, done))


if __name__ == "__main__":
    main()
