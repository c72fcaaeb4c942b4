"""`sluice drop` memory: the streamed, multipart upload vs reading the file whole into one put_object (the drop
before issue 14). Run: ``OMP_NUM_THREADS=1 python -m benchmarks.bench_drop``.

Both sides upload the same 256 MiB file to the same moto server (a thread of this process, so its copy of the
object is not counted), each upload in a fresh interpreter that reports how far its peak resident memory (VmHWM,
reset through /proc/self/clear_refs; Linux) rose above what it held once boto3 and sluice were imported and the
client made. Both objects are checked to have arrived whole.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

from benchmarks.results import write_section
from sluice.cli.drop_command import MULTIPART_THRESHOLD, PART_SIZE

MiB = 1024 * 1024
SIZE = 256 * MiB
RUNS = 3
BUCKET = "bench-drop"
UPLOAD = """
import json, os, sys, time
from pathlib import Path
import boto3
from sluice.cli import drop_command

def status(field):
    lines = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in lines if line.startswith(field + ":"))

file, bucket, key, side = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
boto3.client("s3").head_bucket(Bucket=bucket)
Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from the resident size now
before = status("VmRSS")
started = time.perf_counter()
if side == "streamed":
    drop_command.upload(file, bucket, key)
else:
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=file.read_bytes())
seconds = time.perf_counter() - started
rise = status("VmHWM") - before
print(json.dumps({"rise_mib": rise / 1024, "seconds": seconds}))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _upload(env: dict[str, str], file: Path, side: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", UPLOAD, str(file), BUCKET, f"incoming/bench/{side}.bin", side],
                          capture_output=True, text=True, check=True, env=env)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    os.environ.update({key: env[key] for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                  "AWS_DEFAULT_REGION")})
    try:
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        with tempfile.TemporaryDirectory() as folder:
            file = Path(folder) / "large.bin"
            with file.open("wb") as handle:
                for _ in range(SIZE // (16 * MiB)):
                    handle.write(os.urandom(16 * MiB))
            runs: dict[str, list[dict[str, float]]] = {"streamed": [], "whole": []}
            for _ in range(RUNS):
                for side in runs:
                    runs[side].append(_upload(env, file, side))
            sizes = {side: s3.head_object(Bucket=BUCKET, Key=f"incoming/bench/{side}.bin")["ContentLength"]
                     for side in runs}
            parts = s3.head_object(Bucket=BUCKET, Key="incoming/bench/streamed.bin")["ETag"].strip('"')
    finally:
        server.stop()
    assert sizes == {"streamed": SIZE, "whole": SIZE}, sizes
    rise = {side: statistics.median(run["rise_mib"] for run in results) for side, results in runs.items()}
    seconds = {side: statistics.median(run["seconds"] for run in results) for side, results in runs.items()}
    body = "\n".join([
        f"One {SIZE // MiB} MiB file uploaded to a moto server outside the uploading process; median of {RUNS} fresh "
        "processes per side. Peak resident memory (VmHWM) rise over the process after imports and client creation.",
        "",
        "| side | peak memory rise (MiB) | seconds (information only) |",
        "| --- | ---: | ---: |",
        f"| `sluice drop` (managed transfer, multipart from {MULTIPART_THRESHOLD // MiB} MiB, {PART_SIZE // MiB} MiB "
        f"parts; ETag `…{parts[-3:]}`) | "
        f"{rise['streamed']:.1f} | {seconds['streamed']:.2f} |",
        f"| reference: `put_object(Body=path.read_bytes())` (the drop before) | {rise['whole']:.1f} | "
        f"{seconds['whole']:.2f} |",
        "",
        f"Ratio: the reference rises {rise['whole'] / max(rise['streamed'], 0.1):.1f}x as much; both objects arrived "
        f"whole ({SIZE} bytes).",
    ])
    print(body)
    write_section("drop", "sluice drop: streamed multipart upload vs reading the file whole",
                  "OMP_NUM_THREADS=1 python -m benchmarks.bench_drop", body)


if __name__ == "__main__":
    main()
