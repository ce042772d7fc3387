#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_response (tests/fuzz/corpus/response/): the
hostile responses of tests/test_resp_head.c and tests/integration/test_74_response_rules.py
(short and long bodies against Content-Length, application framing headers,
204/304/HEAD with bodies, CR/LF/NUL in the status text and in header names and
values, statuses out of range), each over plain HTTP/1.1 keep-alive, HTTP/1.0
and SCGI, buffered or flushed, copied or sent from a file. Run it again after
changing the cases; the files are committed."""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "response")

HTTP, MINOR1, KEEP, HEAD, STATUS_LINE, FLUSH, FILE = 1, 2, 4, 8, 16, 32, 64


def case(status, reason=b"", headers=(), writes=()):
    s = (status + 50) % 1100
    out = bytes([s & 255, s >> 8, len(headers)]) + bytes([len(reason)]) + reason
    for n, v in headers:
        out += bytes([len(n)]) + n + bytes([len(v)]) + v
    for w in writes:
        k = w // 50
        out += bytes([k & 255, k >> 8])
    return out


CASES = {
    "plain": case(200, b"OK", [(b"Content-Type", b"text/plain")], [100]),
    "long-body": case(200, b"OK", [(b"Content-Length", b"2")], [100]),
    "short-body": case(200, b"OK", [(b"Content-Length", b"1000")], [100]),
    "long-body-large": case(200, b"OK", [(b"Content-Length", b"70000")], [50000, 50000]),
    "short-body-large": case(200, b"OK", [(b"Content-Length", b"200000")], [100000]),
    "conflicting-lengths": case(200, b"OK", [(b"Content-Length", b"5"), (b"Content-Length", b"50")], [50]),
    "app-chunked": case(200, b"OK", [(b"Transfer-Encoding", b"chunked")], [100, 100]),
    "app-connection": case(200, b"OK", [(b"Connection", b"keep-alive"), (b"Keep-Alive", b"timeout=99")], [50]),
    "app-connection-close": case(200, b"OK", [(b"Connection", b"close")], [50]),
    "204-body": case(204, b"No Content", [(b"Content-Length", b"5")], [100]),
    "304-body": case(304, b"Not Modified", [(b"Content-Length", b"100")], [100]),
    "1xx-status": case(101, b"Switching Protocols", [(b"Upgrade", b"websocket")], [50]),
    "status-out-of-range": case(1049, b"Big", [], [50]),
    "crlf-reason": case(200, b"OK\r\nX-Injected: yes", [], [50]),
    "nul-reason": case(200, b"O\0K", [], [50]),
    "crlf-value": case(200, b"OK", [(b"X-Evil", b"a\r\nSet-Cookie: owned=1")], [50]),
    "crlf-name": case(200, b"OK", [(b"X-A\r\nX-Injected", b"yes"), (b"X-B", b"1")], [50]),
    "colon-name": case(200, b"OK", [(b"X-A: b", b"c"), (b"", b"empty")], [50]),
    "status-header": case(200, b"OK", [(b"Status", b"302 Found"), (b"Location", b"/x")], [50]),
    "x-sendfile": case(200, b"OK", [(b"X-Sendfile", b"/srv/f"), (b"Content-Length", b"1000")], []),
    "streamed-unknown": case(200, b"OK", [], [70000, 70000]),
    "empty": case(200, b"", [], []),
}

MODES = {
    "": HTTP | MINOR1 | KEEP,
    "-head": HTTP | MINOR1 | KEEP | HEAD,
    "-flush": HTTP | MINOR1 | KEEP | FLUSH,
    "-file": HTTP | MINOR1 | KEEP | FILE,
    "-http10": HTTP | KEEP,
    "-scgi": STATUS_LINE,
    "-scgi-nph-flush": FLUSH | FILE,
    "-scgi-head": STATUS_LINE | HEAD,
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.unlink(os.path.join(OUT, name))
    for name, raw in CASES.items():
        for suffix, flags in MODES.items():
            with open(os.path.join(OUT, name + suffix), "wb") as f:
                f.write(bytes([flags]) + raw)
    print(f"{len(CASES) * len(MODES)} inputs in {OUT}")


if __name__ == "__main__":
    main()
