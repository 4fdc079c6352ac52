#!/usr/bin/env python3
"""Checks every response of a mixed workload against what it must be.

Usage: client.py HOST PORT SECONDS CONCURRENCY

Each worker thread loops over: GET /hello on a keep-alive connection,
GET /async/hello (which promotes the connection on the loop engines), POST /echo with a random body (1 B .. 256 KiB) that must come back whole,
GET /stream?n=2000 (chunked, every line in order), pipelined GETs, and a
fresh connection now and then. A request that fails at the socket level
(timeout, reset) is counted as failed and its connection replaced; a
response that arrives but is wrong is counted as WRONG, which must never
happen. Prints one line of counts.
"""
import os
import random
import socket
import sys
import threading
import time

HOST, PORT, SECONDS, CONC = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
TIMEOUT = 20.0
lock = threading.Lock()
counts = {"ok": 0, "failed": 0, "wrong": 0, "reconnects": 0}
wrong_examples = []


class Conn:
    def __init__(self):
        self.s = socket.create_connection((HOST, PORT), timeout=TIMEOUT)
        self.buf = b""

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def fill(self):
        d = self.s.recv(1 << 16)
        if not d:
            raise ConnectionError("eof")
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def response(self):
        status = int(self.line().split(b" ")[1])
        headers = {}
        while True:
            l = self.line()
            if not l:
                break
            k, v = l.split(b":", 1)
            headers[k.strip().lower()] = v.strip()
        if headers.get(b"transfer-encoding") == b"chunked":
            body = b""
            while True:
                size = int(self.line().split(b";")[0], 16)
                if size == 0:
                    while self.line():
                        pass
                    break
                body += self.take(size)
                self.take(2)
        else:
            body = self.take(int(headers.get(b"content-length", b"0")))
        return status, body


def record(kind, example=None):
    with lock:
        counts[kind] += 1
        if example and len(wrong_examples) < 5:
            wrong_examples.append(example)


def check(cond, what):
    if cond:
        record("ok")
    else:
        record("wrong", what)


def worker(seed):
    rnd = random.Random(seed)
    conn = None
    end = time.time() + SECONDS
    while time.time() < end:
        try:
            if conn is None or rnd.random() < 0.05:
                if conn:
                    conn.close()
                conn = Conn()
                record("reconnects")
            op = rnd.random()
            if op < 0.4:
                conn.s.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                st, body = conn.response()
                check(st == 200 and body == b"Hello, World!", ("hello", st, body[:64]))
            elif op < 0.5:
                conn.s.sendall(b"GET /async/hello HTTP/1.1\r\nHost: t\r\n\r\n")
                st, body = conn.response()
                check(st == 200 and body == b"Hello, async!", ("async", st, body[:64]))
            elif op < 0.7:
                n = rnd.choice([1, 100, 4096, 70000, 262144])
                payload = os.urandom(n)
                conn.s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % n + payload)
                st, body = conn.response()
                check(st == 200 and body == payload, ("echo", n, st, len(body)))
            elif op < 0.85:
                conn.s.sendall(b"GET /stream?n=2000 HTTP/1.1\r\nHost: t\r\n\r\n")
                st, body = conn.response()
                want = b"".join(b"chunk %d\n" % i for i in range(2000))
                check(st == 200 and body == want, ("stream", st, len(body)))
            else:
                k = rnd.randint(2, 16)
                conn.s.sendall(b"".join(b"GET /users/%d HTTP/1.1\r\nHost: t\r\n\r\n" % i for i in range(k)))
                for i in range(k):
                    st, body = conn.response()
                    check(st == 200 and body == b"user:%d" % i, ("pipelined", i, st, body[:32]))
        except (OSError, ConnectionError, ValueError, IndexError):
            record("failed")
            if conn:
                conn.close()
            conn = None
    if conn:
        conn.close()


threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONC)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok=%d failed=%d wrong=%d reconnects=%d" % (counts["ok"], counts["failed"], counts["wrong"], counts["reconnects"]))
for w in wrong_examples:
    print("WRONG:", w)
sys.exit(1 if counts["wrong"] else 0)
