"""The "Your opportunities" page under load, as served (``aisym workbench serve``: waitress, SQLite).

The bakery park (tests/workbench/data/bakery_park.yaml) with ``--users`` members spread over its
five companies; each user loops over its company's opportunities page for ``--seconds`` s, pausing
``--think`` s (mean) between clicks as a person reading. The park's ranking is computed once
before the load (the page's results cached per park version), so this measures the page as
served from the cache: p50/p95/p99 and errors, against issue 20's goal of p95 <= 300 ms for 50
concurrent users. ``--think 0`` measures saturation.

Usage: ``.venv/bin/python benchmarks/bench_opportunities.py [--users 50] [--seconds 30] [--think 1.0]``.
Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PARK = ROOT / "tests" / "workbench" / "data" / "bakery_park.yaml"
GOAL_MS = 300.0
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_workbench import serve  # noqa: E402  (the sibling benchmark's helper)


def populate(folder: Path, users: int) -> list[tuple[str, str]]:
    """The bakery park and ``users`` members over its companies; returns (company, session key) per user."""
    os.environ["AISYM_WORKBENCH_DIR"] = str(folder)
    os.environ["DJANGO_SETTINGS_MODULE"] = "cloud.workbench.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from cloud.workbench.accounts.models import Membership
    from cloud.workbench.cli import migrate_if_needed
    from cloud.workbench.parks.importer import import_park
    from cloud.workbench.tenancy import system_access

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # setup speed only
    migrate_if_needed()
    system_access().__enter__()  # this process only sets up
    park = import_park(PARK)
    companies = list(park.companies.order_by("pk"))
    out = []
    User = get_user_model()
    for u in range(users):
        company = companies[u % len(companies)]
        user = User.objects.create_user(f"user{u}", password="benchmark-password")
        Membership.objects.create(user=user, company=company)
        s = SessionStore()
        s["_auth_user_id"], s["_auth_user_backend"] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
        s["_auth_user_hash"] = user.get_session_auth_hash()
        s.create()
        out.append((company.slug, s.session_key))
    return out


def percentiles(values: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
    return q[49], q[94], q[98]


def user_loop(base: str, company: str, session: str, until: float, times: list, errors: list, think: float) -> None:
    http = requests.Session()
    url = f"{base}/parks/bakery_park/opportunities/{company}/"
    headers = {"Cookie": f"sessionid={session}"}
    time.sleep(random.uniform(0, think))  # users arrive spread over a pause, not all in one instant
    while time.monotonic() < until:
        t = time.perf_counter()
        r = http.get(url, headers=headers, timeout=30)
        times.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200 or "article class=\"opportunity\"" not in r.text:
            errors.append(str(r.status_code))
        time.sleep(random.uniform(0.5, 1.5) * think)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--think", type=float, default=1.0, help="mean pause between a user's clicks, s (0: saturation)")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-opportunities-"))
    t = time.perf_counter()
    sessions = populate(folder, args.users)
    print(f"bakery park, {args.users} members over its companies, set up in {time.perf_counter() - t:.0f} s (SQLite)")
    proc, base = serve(folder)
    try:
        seen = {}
        for company, session in sessions:  # the first view of each company ranks the park once: the cache
            if company not in seen:
                t = time.perf_counter()
                r = requests.get(f"{base}/parks/bakery_park/opportunities/{company}/",
                                 headers={"Cookie": f"sessionid={session}"}, timeout=60)
                seen[company] = (time.perf_counter() - t) * 1000
                assert r.status_code == 200, r.status_code
        print("first view per company (fills the cache): " + ", ".join(f"{c} {ms:.0f} ms" for c, ms in seen.items()))
        # one user at a time: the page's own service time, the figure least moved by a busy machine
        alone, http = [], requests.Session()
        company, session = sessions[0]
        for _ in range(100):
            t = time.perf_counter()
            http.get(f"{base}/parks/bakery_park/opportunities/{company}/", headers={"Cookie": f"sessionid={session}"},
                     timeout=30)
            alone.append((time.perf_counter() - t) * 1000)
        a50, a95, _ = percentiles(alone)
        print(f"one user at a time, 100 pages: p50 {a50:.1f} ms, p95 {a95:.1f} ms "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        times: list[float] = []
        errors: list[str] = []
        until = time.monotonic() + args.seconds
        threads = [threading.Thread(target=user_loop, args=(base, c, s, until, times, errors, args.think))
                   for c, s in sessions]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        p50, p95, p99 = percentiles(times)
        # what else ran on the machine: the figures of a shared 2-core machine move with it
        print(f"{args.users} concurrent users, {args.think:g} s between clicks, for {args.seconds:.0f} s: "
              f"{len(times):,} pages ({len(times) / args.seconds:.0f}/s), {len(errors)} errors {sorted(set(errors))[:5]}; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"  opportunities page  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms")
        print(f"  p95 {p95:.0f} ms vs the goal of {GOAL_MS:.0f} ms: {p95 / GOAL_MS:.2f}x the goal "
              f"({'met' if p95 <= GOAL_MS else 'NOT met'})")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
