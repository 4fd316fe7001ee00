"""Scale: the soak pipeline on the size ladder of issue #17 (1x, 10x, 40x, 100x the sample).

The soak pipeline (benchmarks/soak.py: the demo minus pii_scrub, url_dedup and
minhash_dedup with `index:`, `--workers 2`) on the sample replicated N times (soak.py's
replicas: new ids, hosts and half-swapped texts, same shard size). A sampler reads the driver's
and every worker's RSS, CPU time and bytes read (/proc/PID/io `rchar`: every read system call,
page cache hits included) every 0.1 s and attributes them to the run's phase (soak.phase:
`pass k` while pass k's shards run, `decide k` in the barrier after it). CPU seconds of the
whole run are the tree's user + system time from getrusage(RUSAGE_CHILDREN) (every worker is
reaped by the driver); docs per CPU-second is the rate that does not depend on how many of the
machine's cores other processes took, which the load average during the run shows.

    python benchmarks/bench_scale.py --sizes 1 10 --log scale.jsonl  # sizes, a JSON line each
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
from soak import index_bytes, phase, planned_shards, replicate, soak_pipeline  # noqa: E402

MB = 2**20
SIZES = (1, 10, 40, 100)
QUICK = (1, 2)
TARGET_DRIVER_MB = 400


@dataclass
class Phase:
    driver_mb: float = 0.0  # peak RSS of the driver
    worker_mb: float = 0.0  # peak RSS of the largest worker
    seconds: float = 0.0
    cpu: float = 0.0  # user + system seconds of the tree, from the samples
    rchar: int = 0  # bytes the tree read by system calls
    wchar: int = 0  # bytes the tree wrote by system calls


@dataclass
class Sampler:
    phases: dict[str, Phase] = field(default_factory=dict)
    driver_cpu: float = 0.0
    load: list[float] = field(default_factory=list)
    last: dict[int, tuple[float, int, int]] = field(default_factory=dict)  # pid: cpu, r, w
    parent: dict[int, int] = field(default_factory=dict)  # pid: its parent's pid
    owed: dict[int, tuple[int, int]] = field(default_factory=dict)  # pid: r, w counted already

    def sample(self, proc: psutil.Process, now: str, dt: float) -> None:
        try:
            procs = [proc, *proc.children(recursive=True)]
        except psutil.Error:
            return
        ph = self.phases.setdefault(now, Phase())
        ph.seconds += dt
        # a reaped child's read and write counts are added to its parent's (/proc/PID/io,
        # Linux's wait): what the child's own samples counted is taken off the parent's next
        # delta, or every pass's bytes were counted again in the barrier that reaped its workers
        alive = {p.pid for p in procs}
        for pid in [pid for pid in self.last if pid not in alive]:
            _, r, w = self.last.pop(pid)
            up = self.parent.pop(pid, None)
            if up is not None:
                r0, w0 = self.owed.get(up, (0, 0))
                self.owed[up] = (r0 + r, w0 + w)
        for k, p in enumerate(procs):
            try:
                with p.oneshot():
                    rss = p.memory_info().rss / MB
                    t = p.cpu_times()
                    io = p.io_counters()
            except psutil.Error:
                continue
            cpu = t.user + t.system
            before = self.last.get(p.pid, (0.0, 0, 0))
            if p.pid not in self.parent:
                self.parent[p.pid] = p.ppid()
            r0, w0 = self.owed.pop(p.pid, (0, 0))
            r, w = io.read_chars - before[1], io.write_chars - before[2]
            ph.cpu += cpu - before[0]
            # less than it owes: not its child's reaping (an orphan goes to init), nothing to take
            ph.rchar += r - r0 if r >= r0 else r
            ph.wchar += w - w0 if w >= w0 else w
            self.last[p.pid] = (cpu, io.read_chars, io.write_chars)
            if k == 0:
                ph.driver_mb = max(ph.driver_mb, rss)
                self.driver_cpu = cpu
            else:
                ph.worker_mb = max(ph.worker_mb, rss)


def measure(n: int, tmp: Path, poll: float = 0.1, partial: Path | None = None) -> dict:
    """One rung of the ladder: the soak pipeline on ``n`` x the sample, measured (with
    ``partial``, the measures so far written there every 5 s)."""
    where = tmp / f"x{n}"
    t = time.perf_counter()
    docs = replicate(ROOT / "sample_corpus", where / "in", n)
    replicate_s = time.perf_counter() - t
    input_bytes = sum(f.stat().st_size for f in (where / "in").rglob("*.parquet"))
    files = len(list((where / "in").rglob("*.parquet")))
    path = soak_pipeline(where)
    shards = planned_shards(where)
    cmd = [sys.executable, "-m", "curate.cli", "run", str(path), "--workers", "2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    sampler = Sampler()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    log_path = where / "run.log"
    with open(log_path, "w") as log:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
        parent = psutil.Process(proc.pid)
        last, next_load = t, t
        while proc.poll() is None:
            now = time.perf_counter()
            sampler.sample(parent, phase(where / "out", shards), now - last)
            last = now
            if now >= next_load:
                sampler.load.append(os.getloadavg()[0])
                next_load = now + 5.0
                if partial is not None:  # what a run stopped before its end had measured
                    state = {"n": n, "docs": docs, "shards": shards, "elapsed": now - t}
                    state["phases"] = {k: vars(v) for k, v in sampler.phases.items()}
                    partial.write_text(json.dumps({**state, "load": sampler.load}))
            time.sleep(poll)
        seconds = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{n}x failed:\n" + log_path.read_text()[-3000:])
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    report = json.loads((where / "out" / "report.json").read_text())
    stages = {}
    for s in report["stages"]:
        decision = s.get("decision") or {}
        index = decision.get("index") if isinstance(decision.get("index"), dict) else {}
        stages[s["name"]] = {
            "docs_out": s.get("docs_out"),
            "docs_removed": s.get("docs_removed"),
            "index_bytes_read": index.get("bytes_read"),
        }
    out = {
        "n": n,
        "docs": docs,
        "files": files,
        "shards": shards,
        "input_bytes": input_bytes,
        "replicate_seconds": round(replicate_s, 1),
        "wall_seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "driver_cpu_seconds": round(sampler.driver_cpu, 1),
        "load_mean": round(sum(sampler.load) / max(1, len(sampler.load)), 2),
        "load_max": round(max(sampler.load, default=0.0), 2),
        "cores": os.cpu_count(),
        "phases": {k: vars(v) for k, v in sampler.phases.items()},
        "passes": report["timings"]["passes"],
        "stages": stages,
        "index_on_disk": index_bytes(where),
        "docs_out": report.get("summary", {}).get("docs_out"),
    }
    shutil.rmtree(where, ignore_errors=True)
    return out


def run(quick: bool = False) -> str:
    sizes = QUICK if quick else SIZES
    # each size's measures also go to this file as they come (a long ladder's partial results)
    log = Path(os.environ["CURATE_SCALE_LOG"]) if os.environ.get("CURATE_SCALE_LOG") else None
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="curate-scale-"))
    try:
        for n in sizes:
            rows.append(measure(n, tmp))
            if log is not None:
                with open(log, "a") as f:
                    f.write(json.dumps(rows[-1]) + "\n")
            print(f"scale: {n}x measured: {rows[-1]['wall_seconds']} s", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return section(rows)


def _gb(b: float) -> str:
    return f"{b / 1e9:,.2f}"


def stopped_row(partial: dict, like: dict) -> dict:
    """A rung stopped before its end (``--partial``'s file) as a row: its phases so far."""
    cpu = sum(p["cpu"] for p in partial["phases"].values())
    load = partial.get("load") or [0.0]
    return {
        **{k: like[k] for k in ("passes", "cores")},
        **{k: partial[k] for k in ("n", "docs", "shards", "phases")},
        "input_bytes": like["input_bytes"] * partial["n"] // like["n"],
        "stopped": list(partial["phases"])[-1],
        "wall_seconds": partial["elapsed"],
        "cpu_seconds": cpu,
        "driver_cpu_seconds": 0.0,
        "load_mean": sum(load) / len(load),
        "load_max": max(load),
        "stages": {},
        "index_on_disk": {},
    }


def section(rows: list[dict]) -> str:
    rows = sorted(rows, key=lambda r: r["n"])
    done = [r for r in rows if "stopped" not in r]
    first = rows[0]
    passes = {p["pass"]: ", ".join(p["stages"]) for p in first["passes"]}
    last_pass = max(passes)
    for r in done:  # after the last pass there is no barrier, only the report
        ph = r["phases"]
        if f"decide {last_pass}" in ph:
            tail = ph.pop(f"decide {last_pass}")
            rep = ph.setdefault("report", {k: 0 for k in tail})
            for k in ("driver_mb", "worker_mb"):
                rep[k] = max(rep[k], tail[k])
            for k in ("seconds", "cpu", "rchar", "wchar"):
                rep[k] += tail[k]
    order = list(max(rows, key=lambda r: len(r["phases"]))["phases"])
    sizes = [f"{r['n']}x" for r in rows]

    def work(ph: str) -> str:
        last = ph.split()[-1]
        if not last.isdigit():
            return ""
        text = passes.get(int(last), "")
        return ("barrier after " + text.split(", ")[-1]) if ph.startswith("decide") else text

    lines = [
        "## Scale: the soak pipeline at 1x-100x the sample (issue #17's ladder)",
        "",
        "Command: `python benchmarks/run.py --only scale` (benchmarks/bench_scale.py: the demo "
        "pipeline minus pii_scrub, url_dedup and minhash_dedup with `index:` (a fresh index per "
        "size), `--workers 2`; the sample replicated N times with new ids, hosts and "
        "half-swapped texts, same file size). Driver = peak RSS of the `curate run` process; "
        "worker = the largest of its descendants; both sampled every 0.1 s. CPU s = user + "
        "system seconds of the driver and all its workers (getrusage of the reaped tree); "
        "docs per CPU-s = documents / CPU s, the rate that does not depend on what else ran on "
        f"the machine's {first['cores']} cores; load = the 1-minute load average sampled every "
        "5 s during the run (mean / max; 2 means both cores busy). Targets (#17): driver peak "
        f"<= {TARGET_DRIVER_MB} MB at every size, worker peak flat, docs/s at 100x within 20% "
        "of 10x.",
        "",
        "| corpus | documents | input GB | shards | wall s | docs/s | CPU s (driver + workers) "
        "| docs per CPU-s | load mean / max | driver peak MB | largest worker MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        driver = max(p["driver_mb"] for p in r["phases"].values())
        worker = max(p["worker_mb"] for p in r["phases"].values())
        if "stopped" in r:
            lines.append(
                f"| {r['n']}x | {r['docs']:,} | {_gb(r['input_bytes'])} | {r['shards']} | "
                f"stopped after {r['wall_seconds']:,.0f} s, in {r['stopped']} | - | "
                f"{r['cpu_seconds']:,.0f} to there (sampled) | - | "
                f"{r['load_mean']:.1f} / {r['load_max']:.1f} | {driver:,.0f} to there | "
                f"{worker:,.0f} to there |"
            )
            continue
        lines.append(
            f"| {r['n']}x | {r['docs']:,} | {_gb(r['input_bytes'])} | {r['shards']} | "
            f"{r['wall_seconds']:,.0f} | {r['docs'] / r['wall_seconds']:,.0f} | "
            f"{r['cpu_seconds']:,.0f} ({r['driver_cpu_seconds']:,.0f} + "
            f"{r['cpu_seconds'] - r['driver_cpu_seconds']:,.0f}) | "
            f"{r['docs'] / r['cpu_seconds']:,.0f} | {r['load_mean']:.1f} / {r['load_max']:.1f} | "
            f"{driver:,.0f} | {worker:,.0f} |"
        )
    lines += [
        "",
        "Peak RSS by phase, MB, driver / largest worker (`pass k`: pass k's shard tasks; "
        "`decide k`: the barrier after them, run as tasks on the workers and planned by the "
        "driver):",
        "",
        "| phase | work | " + " | ".join(sizes) + " |",
        "|---|---|" + "---|" * len(rows),
    ]
    for ph in order:
        cells = []
        for r in rows:
            p = r["phases"].get(ph)
            cells.append(f"{p['driver_mb']:,.0f} / {p['worker_mb']:,.0f}" if p else "-")
        lines.append(f"| {ph} | {work(ph)} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Seconds, CPU seconds (from the samples: the tree's user + system time while the phase "
        "ran), GB read and GB written by phase (rchar / wchar of /proc/PID/io: bytes through "
        "read and write system calls of the driver and the workers, page cache hits included, "
        "so what a task on shared storage would move: a `pass` reads its shards and the "
        "previous decision and writes its output and the next barrier's collected keys; a "
        "`decide` reads those keys, its own spills and the index, and writes spills, index "
        "pieces and the decision):",
        "",
        "| phase | " + " | ".join(f"{s} s / CPU s / GB read / GB written" for s in sizes) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for ph in order:
        cells = []
        for r in rows:
            p = r["phases"].get(ph)
            cells.append(
                f"{p['seconds']:,.0f} / {p['cpu']:,.0f} / {_gb(p['rchar'])} / {_gb(p['wchar'])}"
                if p
                else "-"
            )
        lines.append(f"| {ph} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Index: bytes the barrier reports reading from the committed index (`index.bytes_read` "
        "in report.json: each size commits into a fresh index, so these are the reads of the "
        "run's own commit rounds), and the index on disk after the run, per document of the run:",
        "",
    ]
    for r in done:
        read = ", ".join(
            f"{name} {s['index_bytes_read']:,} B"
            for name, s in r["stages"].items()
            if s.get("index_bytes_read") is not None
        )
        disk = ", ".join(
            f"{k} {v:,} B ({v / r['docs']:,.0f} B/doc)" for k, v in r["index_on_disk"].items()
        )
        lines.append(f"- {r['n']}x: read {read or '-'}; on disk {disk}")
    drivers = {r["n"]: max(p["driver_mb"] for p in r["phases"].values()) for r in rows}
    workers = {r["n"]: max(p["worker_mb"] for p in r["phases"].values()) for r in rows}
    rate = {r["n"]: r["docs"] / r["wall_seconds"] for r in done}
    cpu_rate = {r["n"]: r["docs"] / r["cpu_seconds"] for r in done}
    lines += [
        "",
        "Targets: driver peak <= 400 MB: "
        + ", ".join(
            f"{n}x {d:,.0f} MB ({'met' if d <= TARGET_DRIVER_MB else 'missed'}"
            + (", to where it stopped)" if n not in rate else ")")
            for n, d in drivers.items()
        )
        + "; largest worker "
        + " -> ".join(f"{w:,.0f}" for w in workers.values())
        + " MB",
    ]
    small, big = (10, 100) if {10, 100} <= set(rate) else (done[0]["n"], done[-1]["n"])
    if small == big:
        lines[-1] += "; docs/s at 100x against 10x: not measured (one complete size)."
    else:
        lines[-1] += (
            f"; docs/s at {big}x / {small}x = {rate[big] / rate[small]:.2f} (wall), "
            f"{cpu_rate[big] / cpu_rate[small]:.2f} (per CPU-s); target >= 0.80."
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="*", type=int, default=list(SIZES))
    parser.add_argument("--log", type=Path, help="append each size's measures as a JSON line")
    parser.add_argument("--from-log", type=Path, nargs="*", help="print the section of logs")
    parser.add_argument("--stopped", type=Path, nargs="*", default=[], help="--partial files")
    parser.add_argument("--partial", type=Path, help="write the measures so far here, every 5 s")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.from_log:
        logged = [json.loads(line) for f in args.from_log for line in f.read_text().splitlines()]
        logged += [stopped_row(json.loads(f.read_text()), logged[0]) for f in args.stopped]
        print(section(logged))
    else:
        tmp = Path(tempfile.mkdtemp(prefix="curate-scale-"))
        rows = []
        try:
            for n in QUICK if args.quick else args.sizes:
                rows.append(measure(n, tmp, partial=args.partial))
                if args.log:
                    with open(args.log, "a") as f:
                        f.write(json.dumps(rows[-1]) + "\n")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print(section(rows))
