"""The burst transport over TLS, as every real AWS endpoint is: pre-connected sockets negotiate TLS
before the release, verify the endpoint's certificate (the system store; SSL_CERT_FILE here, as
OpenSSL reads it), and read replies off non-blocking TLS sockets (bytes already decrypted inside the
SSL object do not make the socket readable again). The loopback server of test_burst_gate answers
through TLS with a throwaway certificate; botocore trusts it through AWS_CA_BUNDLE."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from lambdabench.sweep.clients import make_clients
from lambdabench.sweep.release import endpoint_reachable, run_released

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture
def tls_server(certificate, monkeypatch, burst_gate):
    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))     # what ssl.create_default_context() trusts
    monkeypatch.setenv("AWS_CA_BUNDLE", str(cert))     # what botocore trusts
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    gate = burst_gate
    servers = []

    class TlsServer(gate.RawServer):
        def serve(self, conn):
            try:
                tls = context.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                conn.close()  # e.g. a client that did not trust us
                return
            super().serve(tls)

    def start(kind: str):
        servers.append(TlsServer(kind))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _burst(port: int, n: int, green: bool):
    clients = make_clients("local", region="us-east-1", endpoint_url=f"https://127.0.0.1:{port}",
                           pool_size=n, max_timeout_s=1)
    outcomes: list = [None] * n

    def task(i: int):
        def run() -> None:
            try:
                response = clients.invoke.invoke(FunctionName="f", LogType="Tail", Payload=b"{}")
                outcomes[i] = (response["StatusCode"], json.loads(response["Payload"].read()),
                               response["ResponseMetadata"]["RequestId"])
            except Exception as exc:  # noqa: BLE001 - the outcome under test
                outcomes[i] = exc
        return run

    released = run_released([task(i) for i in range(n)], gated=True, preconnect_timeout_s=10, green=green)
    assert released.errors == []
    return outcomes


GREEN = [pytest.param(False, id="threads"), pytest.param(True, id="greenlets")]


@pytest.mark.parametrize("green", GREEN)
@pytest.mark.parametrize("kind", ["length", "chunked", "split", "close"])
def test_a_burst_over_tls_gets_every_reply(tls_server, kind, green):
    server = tls_server(kind)
    assert endpoint_reachable(f"https://127.0.0.1:{server.port}")
    outcomes = _burst(server.port, 8, green)
    assert server.requests == 8
    assert sorted(o[1]["n"] for o in outcomes) == list(range(1, 9)), outcomes
    assert all(status == 200 and request_id == f"req-{payload['n']:04d}" for status, payload, request_id in outcomes)


def test_an_untrusted_certificate_is_not_pre_connected(tls_server, monkeypatch, tmp_path):
    server = tls_server("length")
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    # the driver then runs the burst on threads through botocore's own transport (its CA bundle)
    assert not endpoint_reachable(f"https://127.0.0.1:{server.port}")


@pytest.mark.parametrize("green", GREEN)
def test_a_reply_spanning_many_tls_records_arrives_whole(tls_server, monkeypatch, green, burst_gate):
    gate = burst_gate
    plain = gate.framed

    def big(kind: str, number: int) -> bytes:  # a 300 KB payload: ~19 TLS records of at most 16 KB
        if kind != "big":
            return plain(kind, number)
        body = json.dumps({"n": number, "pad": "x" * 300_000}).encode()
        return (f"HTTP/1.1 200 OK\r\nx-amzn-RequestId: req-{number:04d}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    monkeypatch.setattr(gate, "framed", big)
    server = tls_server("big")
    outcomes = _burst(server.port, 4, green)
    assert sorted(o[1]["n"] for o in outcomes) == [1, 2, 3, 4], outcomes
    assert all(len(o[1]["pad"]) == 300_000 for o in outcomes)
