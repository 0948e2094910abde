"""Stepwise interop peer: httpx (HTTP/1.1) against the InteropTests server.

Checks every exchange as it goes and exits non-zero with the reason on the first mismatch; on
success prints one JSON line with what the Swift test checks further (the server-side peer ports
of each connection, the /chunked body).
"""

import argparse
import json
import ssl
import sys

import httpx

HELLO = b"Hello, World!"


def check(condition, what):
    if not condition:
        sys.exit(f"httpx peer: {what}")


def pieces():
    """A request body of unknown length: httpx sends a generator with chunked framing."""
    for index in range(64):
        yield bytes([index]) * 8192 + b"\n"


def exchanges(client, base):
    """One client, one connection: returns the peer ports the server saw and the /chunked body."""
    ports = []

    response = client.get(f"{base}/hello")
    check(response.status_code == 200, f"GET /hello: {response.status_code}")
    check(response.http_version == "HTTP/1.1", f"GET /hello: {response.http_version}")
    check(response.content == HELLO, f"GET /hello body: {response.content!r}")
    check(response.headers.get("content-length") == "13", f"GET /hello: {response.headers}")
    check("date" in response.headers, f"GET /hello has no date: {response.headers}")
    ports.append(response.headers["x-peer-port"])

    body = bytes(range(256)) * 4096
    response = client.post(f"{base}/echo", content=body, headers={"content-type": "application/x-test"})
    check(response.status_code == 200, f"POST /echo: {response.status_code}")
    check(response.content == body, f"POST /echo: {len(response.content)} octets back of {len(body)}")
    check(response.headers.get("content-type") == "application/x-test", f"POST /echo: {response.headers}")
    check(response.headers.get("x-request-framing") == "length", f"POST /echo: {response.headers}")
    ports.append(response.headers["x-peer-port"])

    expected = b"".join(pieces())
    response = client.post(f"{base}/echo", content=pieces())
    check(response.status_code == 200, f"streamed POST /echo: {response.status_code}")
    check(response.headers.get("x-request-framing") == "chunked", f"streamed POST /echo: {response.headers}")
    check(response.content == expected, f"streamed POST /echo: {len(response.content)} of {len(expected)}")
    ports.append(response.headers["x-peer-port"])

    response = client.get(f"{base}/chunked")
    check(response.status_code == 200, f"GET /chunked: {response.status_code}")
    check(response.headers.get("transfer-encoding") == "chunked", f"GET /chunked: {response.headers}")
    chunked = response.text
    ports.append(response.headers["x-peer-port"])

    with client.stream("GET", f"{base}/chunked") as response:
        streamed = b"".join(response.iter_bytes())
    check(streamed.decode() == chunked, "streamed GET /chunked differs from the buffered one")
    ports.append(response.headers["x-peer-port"])

    response = client.head(f"{base}/hello")
    check(response.status_code == 200 and response.content == b"", f"HEAD /hello: {response.content!r}")
    check(response.headers.get("content-length") == "13", f"HEAD /hello: {response.headers}")
    ports.append(response.headers["x-peer-port"])

    response = client.get(f"{base}/no-such-page")
    check(response.status_code == 404, f"GET /no-such-page: {response.status_code}")
    ports.append(response.headers["x-peer-port"])
    return ports, chunked


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--tls-base", help="https://localhost:PORT")
    parser.add_argument("--cafile", help="the server's certificate, to trust")
    args = parser.parse_args()

    # trust_env=False: no proxy from the environment between us and the server.
    with httpx.Client(timeout=10.0, trust_env=False) as client:
        ports, chunked = exchanges(client, args.base)
    check(len(set(ports)) == 1, f"httpx used more than one connection: {ports}")

    tls_ports = []
    if args.tls_base:
        context = ssl.create_default_context(cafile=args.cafile)
        with httpx.Client(timeout=10.0, trust_env=False, verify=context) as client:
            tls_ports, tls_chunked = exchanges(client, args.tls_base)
        check(tls_chunked == chunked, "GET /chunked over TLS differs")
        check(len(set(tls_ports)) == 1, f"httpx used more than one TLS connection: {tls_ports}")

    print(json.dumps({"ports": ports, "tlsPorts": tls_ports, "chunked": chunked}))


if __name__ == "__main__":
    main()
