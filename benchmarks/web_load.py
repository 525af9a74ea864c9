"""Benchmark: concurrent social workers viewing their visit lists (/visits) on a city's database.

    .venv/bin/python -m benchmarks.web_load                      # 1M households, 200 users, 60 s
    .venv/bin/python -m benchmarks.web_load --households 20000 --users 20 --seconds 5   # smoke

Per backend (SQLite, then PostgreSQL on a throwaway cluster from tests/postgres.py): seed the
outreach database (benchmarks.web_seed: 湖州市's 1,301 villages, about a tenth of the
households on each month's list), start the real app (outreach.web.app.create_app, what
`lowinc web` serves) under uvicorn on 127.0.0.1 with ``--workers`` processes, make one
server-side session per simulated user (outreach.web.sessions.start_session, the sign-in's
own call, before timing: the sign-in rate limit is per client address and every simulated
user comes from 127.0.0.1), then run the users concurrently (asyncio + httpx) for a fixed
time: each views its list (/visits, or with a tier, village, status filter or the next page)
again and again, with ``--think`` seconds (mean, uniform ±50%) between two views, as a person
reading the list would. The first ``--warmup`` seconds are not counted. The users are
village workers, town officers and county officers in the proportions of the city's staff
(``--mix``). Prints p50/p95/p99, requests/s and errors per backend and role, and the command.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
import numpy as np
from sqlalchemy import select

from benchmarks import command_line
from benchmarks.web_seed import Seeded, seed_city
from lowinc.home import HomeLayout
from outreach.db import make_engine, transaction
from outreach.schema import User
from outreach.web.config import WebConfig
from outreach.web.deps import SESSION_COOKIE
from outreach.web.sessions import start_session

ROOT = Path(__file__).resolve().parents[1]
GOAL_P95_MS = 300


@dataclass
class SimUser:
    name: str
    role: str
    token: str
    paths: list[str]


@dataclass
class Samples:
    """Latencies (ms) and outcomes of the timed requests, per role."""

    latency: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)


SERVERS: list[int] = []


def server_cpu_seconds() -> float:
    """User + system CPU of the running server's processes (uvicorn and its workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[2] is the process group (0-based after the name): the server's own session
        if SERVERS and int(fields[2]) == SERVERS[-1]:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seeded_in(url: str) -> Seeded:
    """What an earlier seed made, read back from its users (for --url)."""
    engine = make_engine(url)
    with transaction(engine) as session:
        rows = session.execute(select(User.name, User.role, User.code).order_by(User.id)).all()
    engine.dispose()
    workers: dict[str, list[str]] = {}
    for name, role, code in rows:
        if role == "village_worker" and code:
            workers.setdefault(code, []).append(name)
    towns = sorted(code for _, role, code in rows if role == "town_officer" and code)
    counties = sorted(code for _, role, code in rows if role == "county_officer" and code)
    return Seeded(0, 0, 0, 0, len(rows), 0.0, dt.date.today(), workers, towns, counties)


def pick_users(
    seeded: Seeded, count: int, mix: tuple[float, float, float], seed: int
) -> list[tuple[str, str]]:
    """(name, role) of the simulated users: village workers, town and county officers by mix."""
    rng = random.Random(seed)
    workers = sorted(name for names in seeded.village_workers.values() for name in names)
    n_county = min(len(seeded.counties), max(1, round(count * mix[2])))
    n_town = min(len(seeded.towns), max(1, round(count * mix[1])))
    n_village = max(0, count - n_county - n_town)
    chosen = [(n, "village_worker") for n in rng.sample(workers, min(n_village, len(workers)))]
    chosen += [(f"镇{c}", "town_officer") for c in rng.sample(seeded.towns, n_town)]
    chosen += [(f"县{c}", "county_officer") for c in rng.sample(seeded.counties, n_county)]
    return chosen


def user_paths(role: str, code: str, villages: list[str]) -> list[str]:
    """The views a user cycles through: the list, filtered by tier, status and a village of
    theirs, and the next page."""
    paths = ["/visits", "/visits", "/visits?" + urlencode({"tier": "red"}), "/visits?status=new"]
    if villages:
        paths.append("/visits?" + urlencode({"village": villages[hash(code) % len(villages)]}))
    if role != "village_worker":
        paths.append("/visits?page=2")
    return paths


def make_sessions(url: str, chosen: list[tuple[str, str]], seeded: Seeded) -> list[SimUser]:
    """One server-side session per simulated user, as a sign-in makes it."""
    engine = make_engine(url)
    config = WebConfig()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    users: list[SimUser] = []
    with transaction(engine) as session:
        rows = {
            name: (uid, code)
            for uid, name, code in session.execute(
                select(User.id, User.name, User.code).where(User.name.in_([n for n, _ in chosen]))
            )
        }
        for name, role in chosen:
            uid, code = rows[name]
            token, _ = start_session(session, uid, now, config)
            villages = sorted(v for v in seeded.village_workers if v.startswith(code or "-"))
            users.append(SimUser(name, role, token, user_paths(role, code or "", villages)))
    engine.dispose()
    return users


@contextmanager
def server(url: str, home: Path, workers: int, pool: int, threads: int = 40) -> Iterator[str]:
    """uvicorn with the app on a free 127.0.0.1 port; its base URL, stopped at the end."""
    port = free_port()
    env = {**os.environ, "LOWINC_BENCH_URL": url, "LOWINC_HOME": str(home), "LOWINC_BENCH_POOL": str(pool)}
    env["LOWINC_BENCH_THREADS"] = str(threads)
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "benchmarks.web_app:make_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    SERVERS.append(process.pid)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the web server did not start")
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def one_user(
    client: httpx.AsyncClient,
    user: SimUser,
    samples: Samples,
    start: float,
    warm: float,
    end: float,
    think: float,
) -> None:
    rng = random.Random(user.name)
    await asyncio.sleep(rng.uniform(0, think))  # users do not all start at the same instant
    headers = {"Cookie": f"{SESSION_COOKIE}={user.token}"}
    while time.perf_counter() < end:
        path = rng.choice(user.paths)
        sent = time.perf_counter()
        try:
            response = await client.get(path, headers=headers)
            status = response.status_code
            ok = status == 200 and "走访清单" in response.text
        except httpx.HTTPError:
            status, ok = 0, False
        done = time.perf_counter()
        if sent >= warm and done <= end:
            samples.latency.setdefault(user.role, []).append((done - sent) * 1000)
            samples.statuses[status] = samples.statuses.get(status, 0) + 1
            if not ok:
                samples.errors[user.role] = samples.errors.get(user.role, 0) + 1
        if think > 0:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)


async def run_load(base: str, users: list[SimUser], seconds: float, warmup: float, think: float) -> Samples:
    samples = Samples()
    limits = httpx.Limits(max_connections=len(users), max_keepalive_connections=len(users))
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        start = time.perf_counter()
        warm, end = start + warmup, start + warmup + seconds
        await asyncio.gather(*(one_user(client, u, samples, start, warm, end, think) for u in users))
    return samples


def summarise(backend: str, samples: Samples, seconds: float) -> list[list[str]]:
    rows = []
    groups = {**samples.latency, "all": [x for v in samples.latency.values() for x in v]}
    for role, values in groups.items():
        errors = sum(samples.errors.values()) if role == "all" else samples.errors.get(role, 0)
        if not values:
            rows.append([backend, role, "0", "-", "-", "-", "-", str(errors)])
            continue
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        rows.append(
            [
                backend,
                role,
                f"{len(values):,}",
                f"{len(values) / seconds:.1f}",
                f"{p50:.0f}",
                f"{p95:.0f}",
                f"{p99:.0f}",
                str(errors),
            ]
        )
    return rows


def print_table(rows: list[list[str]]) -> None:
    header = ["backend", "users", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


@contextmanager
def backend_url(backend: str, folder: Path, given: str | None = None) -> Iterator[str]:
    if given:
        yield given
        return
    if backend == "sqlite":
        yield f"sqlite:///{HomeLayout(folder).outreach_db}"
        return
    sys.path.insert(0, str(ROOT))
    from tests.postgres import postgres_cluster

    with postgres_cluster(databases=("outreach",)) as base:
        yield f"{base}/outreach"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=3, help="months of lists (the newest open)")
    parser.add_argument("--users", type=int, default=200, help="concurrent simulated users")
    parser.add_argument("--seconds", type=float, default=60, help="timed load per backend")
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--think", type=float, default=5.0, help="mean seconds between a user's views")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--pool", type=int, default=10, help="PostgreSQL pool per worker (+ as many overflow)"
    )
    parser.add_argument("--threads", type=int, default=40, help="threads per worker for the pages")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--url", help="an outreach database seeded before (by this script): no seeding, one backend"
    )
    parser.add_argument(
        "--mix", default="0.85,0.12,0.03", help="shares of village workers, town and county officers"
    )
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    # a SIGTERM (timeout, kill) unwinds like Ctrl-C, so the server and the cluster are stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    mix = tuple(float(x) for x in args.mix.split(","))
    if len(mix) != 3:
        raise SystemExit("--mix needs three shares")
    rows: list[list[str]] = []
    notes: list[str] = []
    today = dt.date.today()
    load_before = os.getloadavg()[0]
    backends = [args.url.split(":")[0].split("+")[0]] if args.url else args.backends.split(",")
    for backend in backends:
        with (
            tempfile.TemporaryDirectory(prefix="lowinc-webload-") as tmp,
            backend_url(backend, Path(tmp), args.url) as url,
        ):
            if args.url:
                seeded = seeded_in(url)
            else:
                print(f"{backend}: seeding {args.households:,} households", file=sys.stderr, flush=True)
                seeded = seed_city(
                    url,
                    households=args.households,
                    months=args.months,
                    as_of=today.replace(day=1),
                    seed=args.seed,
                    log=lambda line: print(line, file=sys.stderr, flush=True),
                )
            chosen = pick_users(seeded, args.users, (mix[0], mix[1], mix[2]), args.seed)
            users = make_sessions(url, chosen, seeded)
            with server(url, Path(tmp) / "home", args.workers, args.pool, args.threads) as base:
                print(f"{backend}: {len(users)} users for {args.seconds:.0f} s", file=sys.stderr, flush=True)
                cpu_before = server_cpu_seconds()
                samples = asyncio.run(run_load(base, users, args.seconds, args.warmup, args.think))
                cpu = server_cpu_seconds() - cpu_before
            rows += summarise(backend, samples, args.seconds)
            notes.append(
                f"{backend}: seeded {seeded.households:,} households, {seeded.alerts:,} alerts "
                f"({seeded.open_alerts:,} open), {seeded.tasks:,} tasks, {seeded.users:,} users in "
                f"{seeded.seconds:.0f} s; statuses {dict(sorted(samples.statuses.items()))}; "
                f"server CPU {cpu:.1f} s ({1000 * cpu / max(1, sum(samples.statuses.values())):.1f} ms "
                "per timed request, warm-up included)"
            )
    print(f"command: {command_line('benchmarks.web_load')}")
    print(
        f"{args.users} users ({args.mix} village/town/county), think {args.think} s, "
        f"{args.seconds:.0f} s timed after {args.warmup:.0f} s warm-up, uvicorn workers {args.workers}, "
        f"{args.threads} threads and PostgreSQL pool {args.pool}+{args.pool} per worker, "
        f"{os.cpu_count()} cores; "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (other work on the machine)"
    )
    for note in notes:
        print(note)
    print_table(rows)
    worst = max((float(r[5]) for r in rows if r[1] == "all" and r[5] != "-"), default=float("nan"))
    print(
        f"goal p95 < {GOAL_P95_MS} ms: {'met' if worst < GOAL_P95_MS else 'NOT met'} "
        f"(worst p95 {worst:.0f} ms)"
    )


if __name__ == "__main__":
    main()
