"""Driver capacity: how together does a burst really start, and what does each invocation cost the driver?

A loopback HTTP server in its own process (asyncio, HTTP/1.1 keep-alive, TCP_NODELAY, deep listen
backlog) answers Lambda Invoke after 100 ms with a LogResult tail holding a REPORT line, like Lambda
does. It records when each request arrived (time.perf_counter = CLOCK_MONOTONIC, shared by processes
on Linux). The driver then releases N invokes together through its burst code path (`Driver.burst`:
boto3 Invoke with retries off, each call parked signed and connected at the gate, on a greenlet each
when the greenlet package is installed, else on a thread each; REPORT parsing, pricing, a results
record per invocation written and flushed as it completes, one fsync per wave).

Figures:
- release skew: arrival at the server minus the release instant, p50 / p99 / max;
- driver CPU per invocation: process CPU time (user+sys) around the burst / N (the server is in
  another process, so its CPU is not counted).
Baselines measured in the same run: the same burst with raw http.client threads (no boto3, no
records), the driver's burst forced onto one thread per invocation (its path without the greenlet
package), and a plain sequential loop of boto3 invokes (CPU per invocation without threads).
Goals (issue 5): skew p99 <= 50 ms, <= 1 ms CPU per invocation.

Run: .venv/bin/python bench/driver_bench.py [--n 1000] [--sequential 30]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import resource
import socket
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

DELAY_S = 0.100


def serve(port_queue: multiprocessing.Queue, stop: multiprocessing.Event) -> None:  # type: ignore[type-arg]
    """asyncio server: a request's arrival is stamped on its first bytes (before any parsing), so the
    server's own work does not inflate the skew it measures; the reply goes out 100 ms later."""
    import asyncio

    arrivals: list[float] = []

    def response(status: str, body: bytes, headers: dict[str, str]) -> bytes:
        lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Content-Type: application/json"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body  # one write per response

    class Invoke(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport
            transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer = b""
            self.arrived = 0.0

        def data_received(self, data: bytes) -> None:
            if not self.buffer:
                self.arrived = time.perf_counter()
            self.buffer += data
            while b"\r\n\r\n" in self.buffer:
                head, _, rest = self.buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if len(rest) < length:
                    return
                self.buffer = rest[length:]
                close = b"connection: close" in head.lower()
                if head.startswith(b"GET"):
                    body = json.dumps(arrivals).encode()
                    arrivals.clear()
                    self.transport.write(response("200 OK", body, {}))
                else:
                    arrivals.append(self.arrived)
                    asyncio.get_running_loop().call_later(DELAY_S, self.reply, close)
                if self.buffer:
                    self.arrived = time.perf_counter()

        def reply(self, close: bool) -> None:
            rid = str(uuid.uuid4())
            report = (f"START RequestId: {rid} Version: $LATEST\nEND RequestId: {rid}\n"
                      f"REPORT RequestId: {rid}\tDuration: 100.00 ms\tBilled Duration: 100 ms\t"
                      f"Memory Size: 128 MB\tMax Memory Used: 40 MB\t\n")
            self.transport.write(response("200 OK", b"{}", {
                "x-amzn-RequestId": rid, "X-Amz-Executed-Version": "$LATEST",
                "X-Amz-Log-Result": base64.b64encode(report.encode()).decode()}))
            if close:
                self.transport.close()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Invoke, "127.0.0.1", 0, backlog=4096)  # a burst connects at once
        port_queue.put(server.sockets[0].getsockname()[1])
        await loop.run_in_executor(None, stop.wait)
        server.close()

    asyncio.run(main())


def fetch_arrivals(port: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/arrivals")
    data = json.loads(conn.getresponse().read())
    conn.close()
    return data


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1)))))
    return ordered[k]


def raw_burst(port: int, n: int) -> tuple[float, float]:
    """Baseline: N raw http.client threads on one barrier. Returns (release instant, CPU s)."""
    from lambdabench.sweep.release import run_released

    def task() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/2015-03-31/functions/bench/invocations", body=b"{}")
        conn.getresponse().read()
        conn.close()

    c0 = cpu_s()
    released = run_released([task] * n)
    return released.release_at, cpu_s() - c0


def driver_burst(port: int, n: int, out: Path, greenlets: bool = True) -> tuple[float, float, int]:
    from lambdabench.sweep.clients import TargetInfo, make_clients
    from lambdabench.sweep.driver import Driver, PayloadSet, Prepared
    from lambdabench.sweep.plan import ConfigPoint, PlannedInvocation
    from lambdabench.sweep.snapshot import FunctionConfig, Snapshot

    url = f"http://127.0.0.1:{port}"
    clients = make_clients("local", region="us-east-1", endpoint_url=url, pool_size=n, max_timeout_s=10)
    config = FunctionConfig(128, 10, "x86_64", (), 512)
    snapshot = Snapshot(target=TargetInfo("local", "us-east-1", endpoint_url=url), function_name="bench",
                        function_arn="bench", config=config)
    prepared = Prepared(snapshot=snapshot, function_name="bench", log_format="Text", code_zip=None)
    point = ConfigPoint(128, 10, "x86_64")
    invocations = [PlannedInvocation(f"{point.key}/burst/w0/{i}", point, "burst", 0, i, 0, False, 0, True)
                   for i in range(n)]
    driver = Driver(clients, prepared, plan=None, payloads=PayloadSet((b"{}",), ("default",)),  # type: ignore[arg-type]
                    out_dir=out, header={"bench": True}, logs_max_wait_s=0)
    driver.open_results()
    # One warm call so client construction/endpoint resolution is not billed to the burst.
    clients.invoke.invoke(FunctionName="bench", Payload=b"{}")
    fetch_arrivals(port)
    c0 = cpu_s()
    released = driver.burst(invocations, greenlets=greenlets)
    cpu = cpu_s() - c0
    driver.close()
    lines = (out / "results.jsonl").read_text().splitlines()
    return released.release_at, cpu, len(lines) - 1


def sequential(port: int, n: int) -> float:
    from lambdabench.sweep.clients import make_clients

    clients = make_clients("local", region="us-east-1", endpoint_url=f"http://127.0.0.1:{port}", max_timeout_s=10)
    clients.invoke.invoke(FunctionName="bench", Payload=b"{}")
    c0 = cpu_s()
    for _ in range(n):
        clients.invoke.invoke(FunctionName="bench", LogType="Tail", Payload=b"{}")["Payload"].read()
    return (cpu_s() - c0) / n


def skew_line(name: str, release: float, arrivals: list[float], cpu: float, n: int) -> dict[str, float]:
    skew = [(a - release) * 1000 for a in arrivals]
    row = {"p50_ms": pct(skew, 50), "p99_ms": pct(skew, 99), "max_ms": max(skew), "cpu_ms_per_invoke": cpu * 1000 / n}
    print(f"{name:<38} n={len(arrivals):>4}  skew p50 {row['p50_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms  "
          f"max {row['max_ms']:7.1f} ms  CPU {row['cpu_ms_per_invoke']:.3f} ms/invoke")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--sequential", type=int, default=30)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    threading.stack_size(512 * 1024)  # 1,000 threads: keep their stacks modest
    ctx = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    stop = ctx.Event()
    proc = ctx.Process(target=serve, args=(ports, stop), daemon=True)
    proc.start()
    port = ports.get(timeout=30)
    print(f"loopback endpoint answering Invoke after {DELAY_S * 1000:.0f} ms; {os.cpu_count()} cores; "
          f"burst of {args.n}")
    try:
        release, cpu = raw_burst(port, args.n)
        raw = skew_line("baseline: raw http.client threads", release, fetch_arrivals(port), cpu, args.n)
        mode = "greenlets"
        with tempfile.TemporaryDirectory() as tmp:
            release, cpu, _ = driver_burst(port, args.n, Path(tmp), greenlets=False)
            skew_line("driver burst, threads (boto3+records)", release, fetch_arrivals(port), cpu, args.n)
        with tempfile.TemporaryDirectory() as tmp:
            release, cpu, written = driver_burst(port, args.n, Path(tmp))
            drv = skew_line(f"driver burst, {mode} (default)", release, fetch_arrivals(port), cpu, args.n)
        seq_cpu = sequential(port, args.sequential)
        fetch_arrivals(port)
        print(f"{'baseline: sequential boto3 loop':<38} n={args.sequential:>4}  CPU {seq_cpu * 1000:.3f} ms/invoke")
        print(f"records written by the driver: {written} of {args.n}")
        print(f"driver vs raw threads: skew p99 {drv['p99_ms'] / max(raw['p99_ms'], 1e-9):.2f}x, "
              f"CPU {drv['cpu_ms_per_invoke'] / max(raw['cpu_ms_per_invoke'], 1e-9):.2f}x; "
              f"driver vs sequential boto3 CPU {drv['cpu_ms_per_invoke'] / (seq_cpu * 1000):.2f}x")
        print(f"goals: skew p99 <= 50 ms: {'met' if drv['p99_ms'] <= 50 else 'NOT met'}; "
              f"CPU <= 1 ms/invoke: {'met' if drv['cpu_ms_per_invoke'] <= 1 else 'NOT met'}")
    finally:
        stop.set()
        proc.join(10)


if __name__ == "__main__":
    main()
