"""Fixtures shared by the integration tests."""
import harness


def main_server(env):
    """samples/hello at / on a TCP port (SCGI and HTTP)."""
    def make():
        port = harness.free_port()
        return env.server(["--listen", f"tcp:127.0.0.1:{port}", "--app", f"/:{harness.SAMPLE}", "--threads", "4"],
                          ready_port=port)
    return env.once("main_server", make)


def main_nginx(env):
    """nginx (samples/nginx.conf) in front of main_server over TCP."""
    def make():
        srv = main_server(env)
        return env.nginx(f"127.0.0.1:{srv.port}")
    return env.once("main_nginx", make)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")
