"""A burst goes where botocore would send its requests: through the proxy HTTP(S)_PROXY names, never
pre-connected around it, and straight to the endpoint when NO_PROXY exempts it."""

from __future__ import annotations


from lambdabench.sweep.release import endpoint_reachable


def test_a_burst_goes_through_the_proxy_botocore_would_use(monkeypatch, burst_gate):
    gate = burst_gate
    endpoint, proxy = gate.RawServer("length"), gate.RawServer("length")  # the proxy answers itself
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        assert not endpoint_reachable(f"http://127.0.0.1:{endpoint.port}")  # so the driver uses threads
        outcomes, _ = gate.burst(endpoint.port, 6, green=False)
        assert sorted(o[1]["n"] for o in outcomes) == list(range(1, 7)), outcomes
        assert (proxy.requests, endpoint.requests) == (6, 0)

        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert endpoint_reachable(f"http://127.0.0.1:{endpoint.port}")
        outcomes, _ = gate.burst(endpoint.port, 4, green=False)
        assert (proxy.requests, endpoint.requests) == (6, 4)
    finally:
        endpoint.close()
        proxy.close()
