"""A slow or silent reader never holds a worker, and a signal never cuts a
response: a write that would block is finished by the event loop (bytes parked
per connection, files sent with sendfile by the loop), time-outs are measured
by the clock (Mono's GC suspends threads with signals, which interrupt poll)."""
import concurrent.futures
import hashlib
import os
import socket
import threading
import time

import harness
from common import check, conf_server, eq

MIB = 1 << 20
BIG = 64 * MIB
WRITE_TIMEOUT = 3

# Allocates in a loop (small arrays, some kept, a forced collection) so that the
# GC stops the world, and with it every Mono thread, many times a second.
ALLOC_ASHX = """<%@ WebHandler Language="C#" Class="AllocHandler" %>
using System;
using System.Collections.Generic;
using System.Web;

public class AllocHandler : IHttpHandler
{
    public bool IsReusable { get { return true; } }

    public void ProcessRequest(HttpContext context)
    {
        var keep = new List<byte[]>();
        long total = 0;
        for (int i = 0; i < 20000; i++) {
            var a = new byte[1024 + (i % 7) * 1024];
            total += a.Length;
            if (i % 16 == 0)
                keep.Add(a);
            if (keep.Count > 200)
                keep.Clear();
            if (i % 5000 == 0)
                GC.Collect();
        }
        context.Response.ContentType = "text/plain";
        context.Response.Write("allocated=" + total);
    }
}
"""


def slow_app(env):
    """A copy of samples/hello with a 64 MiB static file and alloc.ashx; returns
    (app dir, sha256 of big.bin)."""
    def make():
        app = harness.copy_sample(env.work.path, "slow-app")
        data = os.urandom(BIG)
        open(os.path.join(app, "big.bin"), "wb").write(data)
        open(os.path.join(app, "alloc.ashx"), "w").write(ALLOC_ASHX)
        return app, hashlib.sha256(data).hexdigest()
    return env.once("slow_app", make)


def slow_server(env):
    """Two workers, a short write_timeout, the default write_buffer."""
    def make():
        app, _ = slow_app(env)
        srv = conf_server(env, "slow.conf", f"threads = 2\nwrite_timeout = {WRITE_TIMEOUT}\n",
                          apps={"slow": f"vpath = /\npath = {app}\n"})
        eq(harness.request(srv.port, "GET", "/hello.ashx").status, 200, "warm-up")
        eq(harness.request(srv.port, "GET", "/alloc.ashx").status, 200, "warm-up (compiles alloc.ashx)")
        return srv
    return env.once("slow_server", make)


def small_window_socket(port):
    """A client socket whose receive window is small: the server's writes stall early."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    return s


def timed_hello(port):
    t = time.monotonic()
    r = harness.request(port, "GET", "/hello.ashx", timeout=30)
    eq(r.status, 200, "a normal request beside stalled readers")
    return time.monotonic() - t


class Reader:
    """Reads one HTTP response from a socket; the body is hashed as it comes."""

    def __init__(self, sock, rate=None):
        self.sock, self.rate = sock, rate
        self.buf = b""
        self.got = 0
        self.start = time.monotonic()

    def _recv(self):
        b = self.sock.recv(65536)
        self.got += len(b)
        if self.rate:
            ahead = self.got / self.rate - (time.monotonic() - self.start)
            if ahead > 0:
                time.sleep(ahead)
        return b

    def response(self):
        """(status line, headers dict, body length, body sha256): Content-Length,
        chunked or close-delimited."""
        while b"\r\n\r\n" not in self.buf:
            b = self._recv()
            if not b:
                raise AssertionError(f"connection closed in the head: {self.buf[:200]!r}")
            self.buf += b
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        h = hashlib.sha256()
        n = 0
        if "content-length" in headers:
            want = int(headers["content-length"])
            while n < want:
                if not self.buf:
                    self.buf = self._recv()
                    if not self.buf:
                        break
                piece, self.buf = self.buf[:want - n], self.buf[want - n:]
                h.update(piece)
                n += len(piece)
        elif headers.get("transfer-encoding") == "chunked":
            while True:
                while b"\r\n" not in self.buf:
                    b = self._recv()
                    check(b, "connection closed inside a chunk header")
                    self.buf += b
                size_line, _, self.buf = self.buf.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                while len(self.buf) < size + 2:
                    b = self._recv()
                    check(b, f"connection closed inside a chunk ({n} body bytes so far)")
                    self.buf += b
                check(self.buf[size:size + 2] == b"\r\n", "chunk data not followed by CRLF")
                h.update(self.buf[:size])
                n += size
                self.buf = self.buf[size + 2:]
                if size == 0:
                    self.buf = self.buf[2:] if self.buf.startswith(b"\r\n") else self.buf
                    break
        else:
            h.update(self.buf)
            n = len(self.buf)
            self.buf = b""
            while True:
                b = self._recv()
                if not b:
                    break
                h.update(b)
                n += len(b)
        return lines[0], headers, n, h.hexdigest()


def test_silent_readers_hold_no_worker(env):
    """N+1 clients fetch a 64 MiB static file and never read, beside N = 2
    workers: a normal request is answered at once, the stalled ones are dropped
    after write_timeout with a log line."""
    srv = slow_server(env)
    before = srv.log_text().count("timed out")
    stalled = []
    try:
        for _ in range(3):
            s = small_window_socket(srv.port)
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            stalled.append(s)
        time.sleep(0.5)  # they are being served, and stall
        took = [timed_hello(srv.port) for _ in range(3)]
        print(f"# hello beside 3 silent readers and 2 workers: {', '.join(f'{t * 1000:.0f}' for t in took)} ms")
        check(max(took) < 0.5, f"a normal request waited {max(took):.2f} s for a worker")
        t = time.monotonic()
        harness.wait_for(lambda: srv.log_text().count("timed out") - before >= 3, WRITE_TIMEOUT + 10,
                         "three write time-outs in the log")
        waited = time.monotonic() - t
        print(f"# stalled connections dropped {waited:.1f} s after the check (write_timeout {WRITE_TIMEOUT} s)")
        for s in stalled:  # the server closed them: what is left ends early
            s.settimeout(10)
            total = 0
            try:
                while True:
                    b = s.recv(1 << 20)
                    if not b:
                        break
                    total += len(b)
            except ConnectionResetError:
                pass
            check(total < BIG, f"a dropped connection delivered {total} bytes")
        check(timed_hello(srv.port) < 0.5, "answered at once after the drop")
    finally:
        for s in stalled:
            s.close()


class Allocator:
    """Another client that makes the application allocate (and collect) in a loop."""

    def __init__(self, port):
        self.port, self.stop, self.count = port, threading.Event(), 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            r = harness.request(self.port, "GET", "/alloc.ashx", timeout=30)
            if r.status == 200:
                self.count += 1

    def end(self):
        self.stop.set()
        self.thread.join(60)
        return self.count


def slow_download(port, path, rate=8 * MIB, host="x"):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        t = time.monotonic()
        status, _, n, digest = Reader(s, rate).response()
        return status, n, digest, time.monotonic() - t
    finally:
        s.close()


def download_under_gc(env, port, path, size, digest, what):
    srv = slow_server(env)
    alloc = Allocator(srv.port)
    try:
        status, n, got, secs = slow_download(port, path)
    finally:
        allocs = alloc.end()
    print(f"# {what}: {n} of {size} bytes in {secs:.1f} s ({n / secs / MIB:.1f} MiB/s) "
          f"beside {allocs} allocating requests")
    check(allocs >= 3, f"only {allocs} allocating requests ran beside the download")
    eq(status.split(" ")[1], "200", f"{what}: status")
    eq(n, size, f"{what}: bytes received")
    eq(got, digest, f"{what}: sha256 of the body")


def test_slow_download_under_gc_arrives_whole(env):
    """A 64 MiB static file read at 8 MiB/s while the GC runs under allocation load."""
    _, digest = slow_app(env)
    srv = slow_server(env)
    download_under_gc(env, srv.port, "/big.bin", BIG, digest, "HTTP big.bin")


def test_slow_streamed_download_under_gc_arrives_whole(env):
    """A streamed response (a handler writing 64 KiB pieces past write_buffer) read at
    8 MiB/s under allocation load: the handler waits for the client, by the clock."""
    srv = slow_server(env)
    piece = bytes((ord("a") + i % 26) for i in range(65536))
    mb = 32
    digest = hashlib.sha256(piece * (mb * 16)).hexdigest()
    download_under_gc(env, srv.port, f"/stream.ashx?mb={mb}", mb * MIB, digest, "HTTP stream.ashx")


def test_slow_download_through_nginx_under_gc_arrives_whole(env):
    _, digest = slow_app(env)
    srv = slow_server(env)
    ng = env.once("slow_nginx", lambda: env.nginx(f"127.0.0.1:{srv.port}"))
    download_under_gc(env, ng.port, "/big.bin", BIG, digest, "nginx big.bin")


def test_keep_alive_after_a_parked_response(env):
    """Two clients take a 64 MiB file and read nothing for a while (one with a
    second request pipelined behind it): both workers stay free; then each reads
    its file whole and gets its next answer on the same connection."""
    _, digest = slow_app(env)
    srv = slow_server(env)
    a = small_window_socket(srv.port)
    b = small_window_socket(srv.port)
    try:
        a.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        b.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /hello.ashx HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.5)
        took = timed_hello(srv.port)
        print(f"# hello while two responses wait for their readers: {took * 1000:.0f} ms")
        check(took < 0.5, f"a normal request waited {took:.2f} s for a worker")
        time.sleep(WRITE_TIMEOUT / 3)
        ra, rb = Reader(a), Reader(b)
        # Both read at once: one left unread while the other is read would
        # itself be a stalled reader, dropped after write_timeout.
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            firsts = list(pool.map(lambda r: r.response(), (ra, rb)))
        for name, (status, _, n, got) in zip(("a", "b"), firsts):
            eq(status, "HTTP/1.1 200 OK", f"{name}: status")
            eq((n, got), (BIG, digest), f"{name}: size and sha256 of big.bin")
        a.sendall(b"GET /hello.ashx HTTP/1.1\r\nHost: x\r\n\r\n")
        for name, r in (("a", ra), ("b", rb)):
            status, _, n, _ = r.response()
            eq(status, "HTTP/1.1 200 OK", f"{name}: the next response on the same connection")
            check(n > 0, f"{name}: the next response has a body")
    finally:
        a.close()
        b.close()
