#!/usr/bin/env python3
"""Hold many idle keep-alive HTTP/1.1 connections open against a server (Python 3 stdlib only).

Opens --count TCP connections to HOST:PORT (at most --window of them connecting or waiting for
their response at a time), sends one complete keep-alive request on each
(`GET PATH HTTP/1.1`, `Host: x`), reads the whole response, and then leaves the connection idle.
When every connection has its response (or has failed), prints one line on stdout:

    ready open=N failed=F bad_status=B seconds=S

and holds the connections until SIGTERM or SIGINT (or --hold seconds), noticing any the server
closes meanwhile. Before exiting it prints:

    done still_open=N closed_by_server=K

run.sh measures the server's RSS between "ready" and SIGTERM. Raises the RLIMIT_NOFILE soft
limit to the hard limit; exits 2 if that is too low for --count.
"""

import argparse
import errno
import resource
import selectors
import signal
import socket
import sys
import time

CONNECTING, AWAITING, IDLE = "connecting", "awaiting", "idle"


class Connection:
    __slots__ = ("sock", "state", "buffer")

    def __init__(self, sock):
        self.sock = sock
        self.state = CONNECTING
        self.buffer = b""


def response_complete(buffer):
    """(complete, status) for the bytes read so far of one HTTP/1.1 response."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return False, None
    head = buffer[:end].decode("latin-1").split("\r\n")
    try:
        status = int(head[0].split(" ", 2)[1])
    except (IndexError, ValueError):
        return True, None
    fields = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    body = buffer[end + 4 :]
    if "chunked" in fields.get("transfer-encoding", "").lower():
        return body.endswith(b"0\r\n\r\n"), status
    return len(body) >= int(fields.get("content-length", "0")), status


def raise_fd_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        sys.exit(
            f"idle_connections: need {needed} file descriptors but the hard limit is {hard}; "
            "raise it (ulimit -Hn, as root) or ask for fewer connections"
        )
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/hello")
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--window", type=int, default=200, help="connections in setup at once")
    parser.add_argument("--timeout", type=float, default=60, help="seconds allowed for setup")
    parser.add_argument("--hold", type=float, default=600, help="hold at most this many seconds")
    args = parser.parse_args()

    raise_fd_limit(args.count + 64)
    request = f"GET {args.path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    stop = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.append(True))

    selector = selectors.DefaultSelector()
    started = open_count = failed = bad_status = closed_by_server = 0
    in_setup = 0
    begin = time.monotonic()

    def fail(conn):
        nonlocal failed, in_setup
        failed += 1
        in_setup -= 1
        selector.unregister(conn.sock)
        conn.sock.close()

    def check_idle(conn):
        """An idle connection became readable: the server closed it (or sent something)."""
        nonlocal open_count, closed_by_server
        try:
            if conn.sock.recv(65536):
                return
        except BlockingIOError:
            return
        except OSError:
            pass
        closed_by_server += 1
        open_count -= 1
        selector.unregister(conn.sock)
        conn.sock.close()

    # Setup: open, send, read the response; at most --window connections in flight.
    while (started < args.count or in_setup) and not stop:
        while started < args.count and in_setup < args.window:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            code = sock.connect_ex((args.host, args.port))
            started += 1
            if code not in (0, errno.EINPROGRESS):
                failed += 1
                sock.close()
                continue
            in_setup += 1
            selector.register(sock, selectors.EVENT_WRITE, Connection(sock))
        if time.monotonic() - begin > args.timeout:
            print(f"idle_connections: setup took over {args.timeout:g}s; "
                  f"giving up on {in_setup} connections", file=sys.stderr)
            for key in list(selector.get_map().values()):
                if key.data.state != IDLE:
                    fail(key.data)
            break
        for key, _ in selector.select(timeout=0.5):
            conn = key.data
            if conn.state == CONNECTING:
                if conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    fail(conn)
                    continue
                try:
                    conn.sock.send(request)  # a few dozen bytes: one send on a fresh socket
                except OSError:
                    fail(conn)
                    continue
                conn.state = AWAITING
                selector.modify(conn.sock, selectors.EVENT_READ, conn)
            elif conn.state == AWAITING:
                try:
                    data = conn.sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    fail(conn)
                    continue
                conn.buffer += data
                complete, status = response_complete(conn.buffer)
                if complete:
                    if status != 200:
                        bad_status += 1
                    conn.state, conn.buffer = IDLE, b""
                    in_setup -= 1
                    open_count += 1
            else:
                check_idle(conn)

    seconds = time.monotonic() - begin
    print(f"ready open={open_count} failed={failed} bad_status={bad_status} "
          f"seconds={seconds:.1f}", flush=True)

    # Hold: nothing to do but notice connections the server closes.
    while not stop and time.monotonic() - begin < args.hold:
        for key, _ in selector.select(timeout=0.2):
            check_idle(key.data)

    print(f"done still_open={open_count} closed_by_server={closed_by_server}", flush=True)
    for key in list(selector.get_map().values()):
        key.fileobj.close()


if __name__ == "__main__":
    main()
