#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_request_path (tests/fuzz/corpus/request_path/):
the shapes of the conformance and integration tests (SCGI accepted and refused,
HTTP keep-alive, pipelining, chunked, Expect, bodies that stream or spool past
the harness's body_buffer of 64 bytes), each under a few write/read selectors.
Run it again after changing the cases; the files are committed."""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "request_path")


def scgi(pairs, body=b"", length=None):
    head = [(b"CONTENT_LENGTH", str(len(body) if length is None else length).encode())] + pairs
    block = b"".join(k + b"\0" + v + b"\0" for k, v in head)
    return str(len(block)).encode() + b":" + block + b"," + body


BASE = [(b"SCGI", b"1"), (b"REQUEST_METHOD", b"POST"), (b"REQUEST_URI", b"/echo.ashx"),
        (b"SERVER_PROTOCOL", b"HTTP/1.1"), (b"SERVER_PORT", b"80"), (b"REMOTE_ADDR", b"127.0.0.1")]
BODY = bytes(range(32, 127)) * 2  # 190 bytes: more than body_buffer

CASES = {
    "scgi-spec-example": b'70:CONTENT_LENGTH\x0027\x00SCGI\x001\x00REQUEST_METHOD\x00POST\x00'
                         b'REQUEST_URI\x00/deepthought\x00,What is the answer to life?',
    "scgi-minimal": scgi([(b"SCGI", b"1")]),
    "scgi-small-body": scgi(BASE, b"a=1&b=2"),
    "scgi-streamed-body": scgi(BASE, BODY),
    "scgi-truncated-body": scgi(BASE, BODY[:50], length=len(BODY)),
    "scgi-no-scgi-var": scgi([(b"REQUEST_URI", b"/")]),
    "scgi-body-over-max": scgi(BASE, b"", length=5000),
    "scgi-app-mount": scgi([(b"SCGI", b"1"), (b"REQUEST_URI", b"/app/x.aspx?q=1")]),
    "scgi-vhost": scgi([(b"SCGI", b"1"), (b"REQUEST_URI", b"/"), (b"HTTP_HOST", b"Example.ORG:8080")]),
    "scgi-iis-no-request-uri": scgi([(b"SCGI", b"1"), (b"SCRIPT_NAME", b"/app/page.aspx"),
                                     (b"PATH_INFO", b"/extra"), (b"QUERY_STRING", b"q=1")]),
    "scgi-bad-length": b"07:CONTENT_LENGTH\x000\x00,",
    "scgi-bad-terminator": scgi([(b"SCGI", b"1")])[:-1] + b";",
    "http-get": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "http-keepalive-head-get": b"HEAD /a HTTP/1.1\r\nHost: x\r\n\r\nGET /app/b HTTP/1.1\r\nHost: x\r\n\r\n",
    "http10": b"GET /x HTTP/1.0\r\n\r\n",
    "http-post-small": b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    "http-post-streamed": b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY,
    "http-post-streamed-then-get": b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(BODY)
                                   + BODY + b"GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "http-chunked-small": b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"5\r\nhello\r\n0\r\n\r\n",
    "http-chunked-spooled": b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + b"".join(b"%x\r\n" % 50 + BODY[i:i + 50] + b"\r\n" for i in range(0, 150, 50))
                            + b"0\r\n\r\n",
    "http-chunked-spool-over-max": b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   + b"fa0\r\n" + b"z" * 4000 + b"\r\n" + b"fa0\r\n" + b"z" * 100,
    "http-expect-continue": b"POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n"
                            % len(BODY) + BODY,
    "http-pipelined-three": b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
                            b"GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "http-bad-request": b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
    "http-too-large": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n",
    "http-vhost-app": b"GET /app/x?y=1 HTTP/1.1\r\nHost: EXAMPLE.org\r\n\r\n",
    "http-upgrade": b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
}

# (write pieces, application mode): at once + read all; byte by byte; pieces of up to
# 7 with half the body read; no body read with flushed responses; read after answer;
# large responses (16) from memory and files (32), the client pausing (64) or
# reading slowly (128).
SELECTORS = [(0, 0), (1, 0), (7, 2), (0, 5), (3, 8), (0, 16 | 64), (0, 16 | 32 | 64), (3, 16 | 32 | 128 | 4),
             (0, 16 | 32 | 4 | 64)]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.unlink(os.path.join(OUT, name))
    for name, raw in CASES.items():
        for piece, mode in SELECTORS:
            suffix = "" if (piece, mode) == (0, 0) else f"-w{piece}m{mode}"
            with open(os.path.join(OUT, name + suffix), "wb") as f:
                f.write(bytes([piece, mode]) + raw)
    print(f"{len(CASES) * len(SELECTORS)} inputs in {OUT}")


if __name__ == "__main__":
    main()
