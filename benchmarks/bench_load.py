"""Load on the local endpoint: `sluice local` (moto server, HTTP endpoint, one execution environment per concurrent
request) driven with 1-row predictions at concurrency 1, 8 and 32.
Run: ``OMP_NUM_THREADS=1 python -m benchmarks.bench_load``.

The stack runs as users run it, `sluice local` in its own process; this process only drives it: one thread per
concurrent client, each on its own keep-alive connection, a fixed number of requests per level after a warm-up that
starts the environments the level needs (their cold starts are reported apart). A connection error is any request
that got no HTTP answer. The reference, in this same run: the same predict handler called in this process,
sequentially, with the same event (no HTTP, no alias lookup, no metrics): what one execution environment can do.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.results import spread, write_section
from sluice.demo import samples

ROOT = Path(__file__).resolve().parent.parent
MODEL = "breast-cancer"
LEVELS = (1, 8, 32)
REQUESTS = 400  # per level
REFERENCE_REQUESTS = 400
ROUNDS = 3  # a ratio's spread over the rounds is recorded with it
READY_TIMEOUT_S = 900


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(port: int, path: str) -> tuple[int, dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sluice local exited with {process.returncode}")
        with contextlib.suppress(OSError, ValueError):
            status, body = _get(port, f"/v1/models/{MODEL}")
            if status == 200 and body.get("ready") is True:
                return
        time.sleep(2)
    raise RuntimeError(f"{MODEL} was not live within {READY_TIMEOUT_S} s")


def _drive(port: int, body: bytes, clients: int, requests: int) -> dict[str, Any]:
    """``requests`` POSTs from ``clients`` threads at once; latencies of the answered ones, errors counted."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(share: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        barrier.wait()
        for _ in range(share):
            started = time.perf_counter()
            try:
                connection.request("POST", f"/v1/models/{MODEL}:predict", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                with lock:
                    errors[0] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                continue
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[response.status] = statuses.get(response.status, 0) + 1
        connection.close()

    shares = [requests // clients + (1 if index < requests % clients else 0) for index in range(clients)]
    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "clients": clients,
        "requests": requests,
        "seconds": seconds,
        "rps": len(latencies) / seconds,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[max(0, -(-99 * len(ordered) // 100) - 1)] * 1000,
        "errors": errors[0],
        "statuses": statuses,
    }


def _reference(aws_endpoint: str, config: Path, body: bytes) -> dict[str, Any]:
    """The predict handler in this process, called sequentially with the event the endpoint would build."""
    from sluice.local import LocalCloud, aws_events
    from sluice.local.host import FunctionHost
    from sluice.local.runtime import PREDICT_ENV

    cloud = LocalCloud(config, endpoint_url=aws_endpoint).start(provision_resources=False)
    try:
        function_name = cloud.settings.names.predict_function(MODEL)
        alias = cloud.live_alias(function_name)
        assert alias is not None
        configuration = cloud.clients.awslambda.get_function_configuration(
            FunctionName=function_name, Qualifier=alias["FunctionVersion"]
        )
        env = {**configuration["Environment"]["Variables"], **PREDICT_ENV}
        host = FunctionHost(cloud.functions_dir)
        event = aws_events.function_url_event(
            "POST", f"/v1/models/{MODEL}:predict", body, {"Content-Type": "application/json"}, now=cloud.now()
        )
        with contextlib.redirect_stdout(io.StringIO()):
            host.prepare("predict", env=env)
            for _ in range(20):
                host.invoke("predict", event, env=env, function_name=function_name)
            latencies = []
            started = time.perf_counter()
            for _ in range(REFERENCE_REQUESTS):
                begun = time.perf_counter()
                response = host.invoke("predict", event, env=env, function_name=function_name)
                latencies.append(time.perf_counter() - begun)
                assert response["statusCode"] == 200, response
            seconds = time.perf_counter() - started
    finally:
        cloud.stop()
    ordered = sorted(latencies)
    return {
        "rps": REFERENCE_REQUESTS / seconds,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[max(0, -(-99 * len(ordered) // 100) - 1)] * 1000,
    }


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="sluice-bench-load-"))
    config = workdir / "sluice.toml"
    shutil.copy(ROOT / "sluice.toml", config)
    http_port, aws_port = _free_port(), _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SLUICE_FUNCTIONS_DIR": str(ROOT / "functions")}
    console = (workdir / "console.txt").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sluice.cli",
            "local",
            "--config",
            str(config),
            "--port",
            str(http_port),
            "--aws-port",
            str(aws_port),
        ],
        cwd=workdir,
        env=env,
        stdout=console,
        stderr=subprocess.STDOUT,
    )
    try:
        aws_endpoint = f"http://127.0.0.1:{aws_port}"
        _drop(aws_endpoint, http_port, process)
        features, _ = samples.instances(samples.BREAST_CANCER, "diagnosis", 1, start=11)
        body = json.dumps({"instances": features}).encode()
        rounds = [_round(http_port, aws_endpoint, config, body, number) for number in range(1, ROUNDS + 1)]
    finally:
        process.terminate()
        process.wait(timeout=60)
        console.close()
    load = os.getloadavg()[0]
    printed = (workdir / "console.txt").read_text(errors="replace")
    metric_lines = sum(1 for line in printed.splitlines() if '"_aws"' in line)
    write_section(
        "load",
        "Local endpoint under load (concurrency 1, 8, 32)",
        "OMP_NUM_THREADS=1 python -m benchmarks.bench_load",
        _report(rounds, metric_lines, load),
    )
    shutil.rmtree(workdir, ignore_errors=True)


def _round(http_port: int, aws_endpoint: str, config: Path, body: bytes, number: int) -> dict[str, Any]:
    """Every level once, then the reference: a ratio pairs the endpoint with the reference of its own round."""
    levels = []
    for clients in LEVELS:
        warm_started = time.perf_counter()
        warm = _drive(http_port, body, clients, clients * 2)  # starts the environments this level needs
        warm_seconds = time.perf_counter() - warm_started
        result = _drive(http_port, body, clients, REQUESTS)
        result["warmup_s"] = warm_seconds
        result["warmup_errors"] = warm["errors"]
        levels.append(result)
        print(
            f"round {number}, concurrency {clients}: {result['rps']:.1f} req/s, p50 {result['p50_ms']:.1f} ms, "
            f"p99 {result['p99_ms']:.1f} ms, errors {result['errors']}, statuses {result['statuses']}"
        )
    reference = _reference(aws_endpoint, config, body)
    print(f"round {number}, reference (handler in-process, sequential): {reference['rps']:.1f} req/s")
    return {"levels": levels, "reference": reference}


def _drop(aws_endpoint: str, http_port: int, process: subprocess.Popen[bytes]) -> None:
    """Drop the sample at incoming/ (as `sluice drop` does) once `sluice local` serves (it provisions first),
    and wait until a version is live."""
    import boto3

    from sluice.settings import Settings

    deadline = time.monotonic() + 300
    while True:
        with contextlib.suppress(OSError, ValueError):
            if _get(http_port, "/")[0] == 200:
                break
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("sluice local did not start")
        time.sleep(1)
    s3 = boto3.client(
        "s3",
        endpoint_url=aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )  # moto accepts any credentials
    s3.put_object(
        Bucket=Settings.local("sluice").data_bucket,
        Key=f"incoming/{MODEL}/{samples.BREAST_CANCER.name}",
        Body=samples.BREAST_CANCER.read_bytes(),
    )
    _wait_ready(http_port, process)


def _report(rounds: list[dict[str, Any]], metric_lines: int, load: float) -> str:
    cpus = os.cpu_count() or 1
    references = [one["reference"] for one in rounds]
    rows = []
    for position, clients in enumerate(LEVELS):
        runs = [one["levels"][position] for one in rounds]
        ratios = [run["rps"] / one["reference"]["rps"] for run, one in zip(runs, rounds, strict=True)]
        statuses: dict[int, int] = {}
        for run in runs:
            for code, count in run["statuses"].items():
                statuses[code] = statuses.get(code, 0) + count
        rows.append(
            f"| {clients} | {REQUESTS} x {len(runs)} | {spread([run['rps'] for run in runs])} | "
            f"{spread(ratios, 'x', 2)} | {statistics.median(run['p50_ms'] for run in runs):.1f} | "
            f"{statistics.median(run['p99_ms'] for run in runs):.1f} | {sum(run['errors'] for run in runs)} | "
            f"{', '.join(f'{code}: {count}' for code, count in sorted(statuses.items()))} | "
            f"{runs[0]['warmup_s']:.1f} |"
        )
    table = "\n".join(rows)
    rising = " → ".join(
        f"{statistics.median(one['levels'][position]['rps'] / one['levels'][0]['rps'] for one in rounds):.2f}x"
        for position in range(len(LEVELS))
    )
    return f"""`sluice local` in its own process (moto server, HTTP endpoint, at most {2 * cpus} execution environments,
worker processes); 1-row breast-cancer predictions from one thread per client, each on its own keep-alive
connection; {REQUESTS} requests per level after a warm-up of 2 requests per client (which starts the environments
the level needs; the first round's warm-up wall time is the last column). {len(rounds)} rounds, each every level then
the reference: the predict handler called in this process, sequentially, with the same event (no HTTP, no alias
lookup, no metrics) — {spread([one["rps"] for one in references], " req/s")}, p50
{statistics.median(one["p50_ms"] for one in references):.2f} ms. Each ratio pairs a level with the reference of its
own round; figures are the median over the rounds with the min-max spread in brackets (the reference moves with the
machine's state, so the spread is what a rerun is held to).

| clients | requests | req/s | vs reference | p50 ms | p99 ms | connection errors | statuses | warm-up s |
|---|---|---|---|---|---|---|---|---|
{table}

Throughput relative to one client (median): {rising} ({cpus} CPUs; the machine's 1-minute load average at the end of
the run: {load:.1f}, other work included). Raw metric JSON lines printed by `sluice local` during the run:
{metric_lines}.
"""


if __name__ == "__main__":
    main()
    sys.exit(0)
