"""Stepwise interop peer: h11, which raises on any protocol violation, over raw sockets.

1. Seven requests pipelined in one write (GET, POST with content-length, GET of a chunked
   response, HEAD, POST with a chunked body, a 404, and a last GET with `connection: close`),
   the responses read in order on one h11 connection, then the server's close.
2. `Expect: 100-continue`: the interim 100 arrives before the body is sent, then the echo; the
   connection is reused for a second request.
3. A final response before the announced body (no 100): the server says close and closes.

Exits non-zero with the reason on the first mismatch; on success prints one JSON line.
"""

import argparse
import json
import socket
import sys

import h11

HELLO = b"Hello, World!"


def check(condition, what):
    if not condition:
        sys.exit(f"h11 peer: {what}")


def header(event, name):
    """The value of the header `name` (lower case) in an h11 event, as str, or None."""
    for key, value in event.headers:
        if key == name.encode():
            return value.decode()
    return None


def request_events(host, method, target, headers=(), body=()):
    events = [h11.Request(method=method, target=target, headers=[("host", host), *headers])]
    events += [h11.Data(data=part) for part in body]
    events.append(h11.EndOfMessage())
    return events


def wire(events):
    """The octets of one request, from a throwaway h11 connection (h11 sends one at a time)."""
    connection = h11.Connection(h11.CLIENT)
    return b"".join(connection.send(event) for event in events)


class Peer:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.conn = h11.Connection(h11.CLIENT)

    def send(self, events, transmit=True):
        data = b"".join(self.conn.send(event) or b"" for event in events)
        if transmit:
            self.sock.sendall(data)

    def next_event(self):
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(self.sock.recv(65536))
                continue
            return event

    def response(self):
        """One complete response: (Response, body)."""
        event = self.next_event()
        check(isinstance(event, h11.Response), f"expected a response, got {event!r}")
        response = event
        body = bytearray()
        while True:
            event = self.next_event()
            if isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return response, bytes(body)
            else:
                check(False, f"unexpected {event!r} in a response body")

    def expect_close(self):
        check(self.conn.their_state is h11.MUST_CLOSE, f"server state {self.conn.their_state}")
        while True:
            data = self.sock.recv(65536)
            self.conn.receive_data(data)
            if not data:
                break
        event = self.conn.next_event()
        check(isinstance(event, h11.ConnectionClosed), f"expected the close, got {event!r}")
        self.sock.close()


def pipelined(host, port):
    authority = f"{host}:{port}"
    echo_body = b"ping " * 2000
    chunks = [b"abc", b"defgh", b"x" * 5000]
    requests = [
        request_events(authority, "GET", "/hello"),
        request_events(
            authority, "POST", "/echo",
            [("content-length", str(len(echo_body))), ("content-type", "text/plain")], [echo_body]),
        request_events(authority, "GET", "/chunked"),
        request_events(authority, "HEAD", "/hello"),
        request_events(authority, "POST", "/echo", [("transfer-encoding", "chunked")], chunks),
        request_events(authority, "GET", "/missing"),
        request_events(authority, "GET", "/hello", [("connection", "close")]),
    ]
    peer = Peer(host, port)
    peer.sock.sendall(b"".join(wire(events) for events in requests))

    results = []
    for index, events in enumerate(requests):
        peer.send(events, transmit=False)  # already on the wire: this tells h11 what was asked
        results.append(peer.response())
        if index < len(requests) - 1:
            peer.conn.start_next_cycle()

    (hello, hello_body), (echo, echoed), (chunked, chunked_body), (head, head_body), \
        (chunked_echo, chunked_echoed), (missing, _), (last, last_body) = results
    check(hello.status_code == 200 and hello_body == HELLO, f"GET /hello: {hello!r} {hello_body!r}")
    check(header(hello, "date") is not None, f"GET /hello has no date: {hello!r}")
    check(echo.status_code == 200 and echoed == echo_body, f"POST /echo: {echo!r}, {len(echoed)} octets")
    check(header(echo, "x-request-framing") == "length", f"POST /echo: {echo!r}")
    check(header(chunked, "transfer-encoding") == "chunked", f"GET /chunked: {chunked!r}")
    check(head.status_code == 200 and head_body == b"", f"HEAD /hello: {head!r} {head_body!r}")
    check(header(head, "content-length") == "13", f"HEAD /hello: {head!r}")
    check(chunked_echoed == b"".join(chunks), f"chunked POST /echo: {chunked_echoed[:40]!r}")
    check(header(chunked_echo, "x-request-framing") == "chunked", f"chunked POST /echo: {chunked_echo!r}")
    check(missing.status_code == 404, f"GET /missing: {missing!r}")
    check(last.status_code == 200 and last_body == HELLO, f"last GET /hello: {last!r}")
    check(header(last, "connection") == "close", f"last GET /hello: {last!r}")
    peer.expect_close()
    ports = [header(response, "x-peer-port") for response, _ in results]
    check(len(set(ports)) == 1, f"one connection, several peer ports: {ports}")
    return len(results), chunked_body.decode()


def expect_continue(host, port):
    authority = f"{host}:{port}"
    body = bytes(range(256)) * 400
    peer = Peer(host, port)
    peer.send([h11.Request(method="POST", target="/echo", headers=[
        ("host", authority), ("content-length", str(len(body))), ("expect", "100-continue")])])
    event = peer.next_event()
    check(isinstance(event, h11.InformationalResponse) and event.status_code == 100,
          f"expected 100 Continue before the body, got {event!r}")
    peer.send([h11.Data(data=body), h11.EndOfMessage()])
    response, echoed = peer.response()
    check(response.status_code == 200 and echoed == body, f"POST /echo after 100: {response!r}")
    check(header(response, "connection") is None, f"POST /echo after 100: {response!r}")

    peer.conn.start_next_cycle()
    peer.send(request_events(authority, "GET", "/hello"))
    again, again_body = peer.response()
    check(again_body == HELLO, f"GET /hello after the upload: {again_body!r}")
    check(header(again, "x-peer-port") == header(response, "x-peer-port"), "the connection was not reused")
    peer.send([h11.ConnectionClosed()])
    peer.sock.close()


def answered_before_the_body(host, port):
    # /hello never reads the body: the server answers at once, sends no 100, and closes (it
    # cannot know whether the client will send the body after all).
    peer = Peer(host, port)
    peer.send([h11.Request(method="POST", target="/hello", headers=[
        ("host", f"{host}:{port}"), ("content-length", "100000"), ("expect", "100-continue")])])
    response, body = peer.response()
    check(response.status_code == 200 and body == HELLO, f"POST /hello: {response!r}")
    check(header(response, "connection") == "close", f"POST /hello without the body: {response!r}")
    check(peer.conn.their_state is h11.MUST_CLOSE, f"server state {peer.conn.their_state}")
    data = peer.sock.recv(65536)
    check(data == b"", f"octets after the response: {data!r}")
    peer.sock.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    count, chunked = pipelined(args.host, args.port)
    expect_continue(args.host, args.port)
    answered_before_the_body(args.host, args.port)
    print(json.dumps({"pipelined": count, "chunked": chunked}))


if __name__ == "__main__":
    main()
