"""Cold starts, each measured in fresh processes: the libraries' and the shipped handler zips'.

The libraries' cold start: import + init + first record, then the first flush, each in a
fresh `python -c` run from compiled bytecode (the snippets: COLD_SNIPPETS).

The zips' cold start, like Lambda's: each shipped handler zip imported in a fresh process.

What Lambda does before it imports a handler: its Python runtime starts
`awslambdaric.__main__` (the runtime interface client, on PyPI), which imports its own
modules and part of the standard library; /var/runtime also holds boto3 and botocore, with
compiled bytecode; /var/task (the unzipped function) is read-only, so no bytecode can be
written there. Here, per run: a fresh `python -I -B` (no environment, no bytecode writes),
`sys.path` = the read-only task directory, then a runtime directory made of copies of
awslambdaric, its dependencies, boto3 and botocore (compiled once, as Lambda ships them),
then the standard library; `import awslambdaric.__main__` untimed; then the timed import of
`lambda_function` (the handler module Pants writes at the zip's root).

Variants per handler:
- shipped: the zip as `./pants package ::` builds it (with .pyc);
- no bytecode: the same zip without its .pyc files (how the zips were shipped before);
- powertools: the handler's own work with aws-lambda-powertools instead of shared-metrics:
  shared-metrics (its package and the sinks) is imported untimed first, then the timed part
  imports `aws_lambda_powertools.Metrics`, creates one (from a read-only layer directory with
  bytecode, as its Lambda layer ships) and imports the handler. Modules both would import
  are charged to the handler only once, so this leans in powertools' favour.
"""

from __future__ import annotations

import compileall
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from emulator_process import child_env

# The Lambda way: the sink comes from METRICS_SINK (emf for a, cloudwatch for b).
SHARED_METRICS_COLD = (
    """
    from shared_metrics import MetricSpec, Unit, emitter_from_env
    LATENCY = MetricSpec("AudioChunkLatency", Unit.MILLISECONDS, [[], ["SessionId"]])
    metrics = emitter_from_env("MetricsBenchmark")
    metrics.record(LATENCY, 12.5, {"SessionId": "conn-1"})
    """,
    "metrics.flush()",
)

# Each snippet: `init` = imports + emitter/logger + first record, then `flush`.
COLD_SNIPPETS = {
    "a": SHARED_METRICS_COLD,
    "b": SHARED_METRICS_COLD,
    "c": (
        """
        from aws_lambda_powertools import Metrics
        from aws_lambda_powertools.metrics import MetricUnit
        metrics = Metrics(namespace="MetricsBenchmark")
        metrics.add_dimensions(SessionId="conn-1")
        metrics.add_metric(name="AudioChunkLatency", unit=MetricUnit.Milliseconds, value=12.5)
        """,
        "metrics.flush_metrics()",
    ),
    "d": (
        """
        from aws_embedded_metrics.logger.metrics_logger_factory import create_metrics_logger
        metrics = create_metrics_logger()
        metrics.set_namespace("MetricsBenchmark")
        metrics.set_dimensions({}, {"SessionId": "conn-1"})
        metrics.put_metric("AudioChunkLatency", 12.5, "Milliseconds")
        """,
        "metrics.flush_sync()",
    ),
    "e": (
        """
        import boto3
        cloudwatch = boto3.client(
            "cloudwatch", endpoint_url=os.environ["METRICS_ENDPOINT_URL"], region_name="us-east-1"
        )
        pending = [{"MetricName": "AudioChunkLatency", "Value": 12.5, "Unit": "Milliseconds"}]
        """,
        'cloudwatch.put_metric_data(Namespace="MetricsBenchmark", MetricData=pending)',
    ),
}

COLD_TEMPLATE = """
import os, sys, time
t0 = time.perf_counter()
{init}
t1 = time.perf_counter()
boto3_after_record = "boto3" in sys.modules
{flush}
t2 = time.perf_counter()
print("@@cold", (t1 - t0) * 1e3, (t2 - t0) * 1e3, boto3_after_record, "boto3" in sys.modules,
      file=sys.stderr)
"""


@dataclass
class ColdStart:
    init_ms: float  # median: imports + emitter/logger + first record
    flush_ms: float  # median: the same plus the first flush
    best_init_ms: float  # the fastest run, a hint of how much of the median is machine load
    boto3_after_record: bool
    boto3_after_flush: bool


def cold_start(key: str, runs: int, pycache: str, endpoint_url: str | None) -> ColdStart:
    init, flush = COLD_SNIPPETS[key]
    code = COLD_TEMPLATE.format(init=textwrap.dedent(init).strip(), flush=flush)
    env = child_env(
        METRICS_SINK="cloudwatch" if key == "b" else "emf",
        METRICS_ENDPOINT_URL=endpoint_url or "",
        # Lambda runs compiled bytecode: compile once (the warm-up run) into a private cache.
        PYTHONPYCACHEPREFIX=pycache,
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    samples = []
    for _ in range(runs + 1):  # the first run compiles the bytecode and is not counted
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        line = next((x for x in done.stderr.splitlines() if x.startswith("@@cold ")), None)
        if done.returncode != 0 or line is None:
            raise RuntimeError(f"cold start of {key!r} failed:\n{done.stderr[-2000:]}")
        _, init_ms, flush_ms, after_record, after_flush = line.split()
        samples.append(
            (float(init_ms), float(flush_ms), after_record == "True", after_flush == "True")
        )
    counted = samples[1:]
    return ColdStart(
        init_ms=statistics.median(s[0] for s in counted),
        flush_ms=statistics.median(s[1] for s in counted),
        best_init_ms=min(s[0] for s in counted),
        boto3_after_record=any(s[2] for s in counted),
        boto3_after_flush=any(s[3] for s in counted),
    )


# What the Lambda Python runtime provides: its client and its dependencies, and the AWS SDK.
RUNTIME_DISTRIBUTIONS = (
    "awslambdaric",
    "simplejson",
    "snapshot-restore-py",
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "six",
    "urllib3",
)
# What a function instrumented with powertools adds (its layer): the library and its needs.
POWERTOOLS_DISTRIBUTIONS = ("aws-lambda-powertools", "typing-extensions")

# (label, dist/ path) of each shipped handler zip, as infra.functions names them.
ZIPS = (
    ("connection", "session-management.src.session_management.handlers/connection.zip"),
    ("session_status", "session-management.src.session_management.handlers/session_status.zip"),
    ("audio_processor", "audio-transcription.src.audio_transcription.handlers/audio_processor.zip"),
)
FIRST_PARTY = ("shared_metrics", "websocket_service", "session_management", "audio_transcription")

CHILD = """
import sys, time
sys.path[:0] = {paths!r}
import awslambdaric.__main__
{untimed}
t0, c0 = time.perf_counter(), time.process_time()
{timed}
t1, c1 = time.perf_counter(), time.process_time()
print("@@import", (t1 - t0) * 1e3, (c1 - c0) * 1e3)
"""
HANDLER_IMPORT = "import lambda_function"
# Which shared-metrics modules the handler's import loads (imported untimed for powertools).
PROBE = HANDLER_IMPORT + (
    '\nprint("@@modules", *sorted(m for m in sys.modules if m.split(".")[0] == "shared_metrics"))'
)
POWERTOOLS_TIMED = (
    "from aws_lambda_powertools import Metrics\n"
    'metrics = Metrics(namespace="SessionManagement/WebSocket")\n' + HANDLER_IMPORT
)


class ZipMissing(RuntimeError):
    pass


@dataclass
class ImportTimes:
    wall_ms: float  # median
    cpu_ms: float  # median
    best_ms: float


@dataclass
class HandlerColdStart:
    label: str
    zip_bytes: int
    modules: int
    shipped: ImportTimes
    no_bytecode: ImportTimes
    powertools: ImportTimes


def copy_distributions(names: tuple[str, ...], into: Path) -> None:
    """The installed files of each distribution (not its metadata), then compiled."""
    for name in names:
        try:
            files = distribution(name).files or []
        except PackageNotFoundError as exc:
            raise RuntimeError(f"{name} is not installed (it is in the lockfile)") from exc
        for file in files:
            if ".dist-info" in str(file) or "__pycache__" in str(file):
                continue
            source = Path(str(file.locate()))
            if source.is_file():
                target = into / str(file)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
    compileall.compile_dir(
        into,
        quiet=2,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )


def check_fresh(zip_path: Path, buildroot: Path) -> None:
    """The zip's first-party sources are the repository's: else it is from an older build."""
    with zipfile.ZipFile(zip_path) as archive:
        for name in archive.namelist():
            if name.endswith(".py") and name.split("/")[0] in FIRST_PARTY:
                project = next(
                    p for p in buildroot.glob("*/src") if (p / name.split("/")[0]).is_dir()
                )
                if archive.read(name) != (project / name).read_bytes():
                    raise ZipMissing(f"{zip_path} is older than {project / name}")


def unpack(zip_path: Path, into: Path, with_bytecode: bool) -> int:
    with zipfile.ZipFile(zip_path) as archive:
        members = [n for n in archive.namelist() if with_bytecode or not n.endswith(".pyc")]
        archive.extractall(into, members)
    read_only(into)
    return sum(1 for n in members if n.endswith(".py"))


def read_only(tree: Path) -> None:
    for path in [*tree.rglob("*"), tree]:
        path.chmod(0o555 if path.is_dir() else 0o444)


def run_child(paths: list[str], untimed: str, timed: str, marker: str) -> list[str]:
    code = CHILD.format(paths=paths, untimed=untimed, timed=timed)
    done = subprocess.run(
        [sys.executable, "-I", "-B", "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith(marker + " ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"cold import failed:\n{done.stderr[-2000:]}")
    return line.split()[1:]


def time_imports(
    variants: list[tuple[list[str], str, str]], runs: int
) -> list[ImportTimes]:
    """Each (path, untimed, timed) variant ``runs`` times, interleaved, so that a change in the
    machine's load hits every variant alike and their ratios hold."""
    walls: list[list[float]] = [[] for _ in variants]
    cpus: list[list[float]] = [[] for _ in variants]
    for _ in range(runs):
        for i, (paths, untimed, timed) in enumerate(variants):
            wall, cpu = run_child(paths, untimed, timed, "@@import")
            walls[i].append(float(wall))
            cpus[i].append(float(cpu))
    return [
        ImportTimes(statistics.median(w), statistics.median(c), min(w))
        for w, c in zip(walls, cpus, strict=True)
    ]


def measure(dist: Path, buildroot: Path, runs: int) -> list[HandlerColdStart]:
    missing = [str(dist / p) for _, p in ZIPS if not (dist / p).is_file()]
    if missing:
        raise ZipMissing(
            "handler zips not found (build them with `./pants package ::`): " + ", ".join(missing)
        )
    results = []
    with tempfile.TemporaryDirectory(prefix="cold-start-") as scratch:
        root = Path(scratch)
        runtime, layer = root / "runtime", root / "powertools-layer"
        copy_distributions(RUNTIME_DISTRIBUTIONS, runtime)
        copy_distributions(POWERTOOLS_DISTRIBUTIONS, layer)
        read_only(runtime)
        read_only(layer)
        for label, relative in ZIPS:
            zip_path = dist / relative
            check_fresh(zip_path, buildroot)
            shipped, bare = root / f"{label}-task", root / f"{label}-task-no-pyc"
            modules = unpack(zip_path, shipped, with_bytecode=True)
            unpack(zip_path, bare, with_bytecode=False)
            with_runtime = [str(shipped), str(runtime)]
            ours = run_child(with_runtime, "", PROBE, "@@modules")
            shipped_times, bare_times, powertools_times = time_imports(
                [
                    (with_runtime, "", HANDLER_IMPORT),
                    ([str(bare), str(runtime)], "", HANDLER_IMPORT),
                    ([*with_runtime, str(layer)], f"import {', '.join(ours)}", POWERTOOLS_TIMED),
                ],
                runs,
            )
            results.append(
                HandlerColdStart(
                    label=label,
                    zip_bytes=zip_path.stat().st_size,
                    modules=modules,
                    shipped=shipped_times,
                    no_bytecode=bare_times,
                    powertools=powertools_times,
                )
            )
        for path in root.rglob("*"):  # writable again, so the directory can be removed
            path.chmod(0o755)
    return results
