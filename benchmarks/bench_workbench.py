"""Load on the workbench as served (``aisym workbench serve``: waitress, SQLite), measured from outside.

1. 50 concurrent users for ``--seconds`` s, each looping over a company page, a listing, the
   directory and an edit of its own company's listing (GET the form, POST it with its CSRF token):
   p50/p95/p99 per kind of request and errors. Target of issue 19: p95 <= 150 ms, no errors.
   ``--think`` is the mean pause between a user's clicks (a person reading; 0 measures saturation).
2. The directory over 10,000 companies and 40,000 listings: p95 of a search by words, by code and
   by country, one user at a time. Target: p95 <= 100 ms.

Usage: ``.venv/bin/python benchmarks/bench_workbench.py [--users 50] [--seconds 30] [--companies 10000]``
(``DATABASE_URL`` names another database, e.g. PostgreSQL). Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PARK = ROOT / "tests" / "workbench" / "data" / "two_parks_a.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def populate(folder: Path, users: int, companies: int) -> list[tuple[str, str]]:
    """The big park for the directory, and one company with one listing per user; returns (company, session)."""
    os.environ["AISYM_WORKBENCH_DIR"] = str(folder)
    os.environ["DJANGO_SETTINGS_MODULE"] = "cloud.workbench.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from cloud.workbench.accounts.models import Membership
    from cloud.workbench.cli import migrate_if_needed
    from cloud.workbench.companies.models import Company, Listing
    from cloud.workbench.parks.importer import import_park
    from cloud.workbench.parks.models import Park

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # setup speed only
    migrate_if_needed()
    from cloud.workbench.tenancy import system_access

    system_access().__enter__()  # this process only sets up: PostgreSQL's row policies let it write
    park = import_park(PARK)
    big = Park.objects.create(slug="big", name="Big park", country="DK", currency="EUR")
    words = ["bread", "spent grain", "fly ash", "gypsum", "warm water", "steam", "whey", "sawdust"]
    codes = ["02 06 01", "02 07 01", "10 01 02", "10 01 05", "", "", "02 05 01", "03 01 05"]
    resources = ["material", "material", "material", "material", "heat", "steam", "material", "material"]
    batch = [Company(park=big, slug=f"c{i}", name=f"Company {i}", nace=["10.71", "11.05", "35.11", "23.62"][i % 4],
                     country=["DK", "NO", "SE", "DE"][i % 4], lat=55 + (i % 100) / 50, lon=10 + (i // 100) / 50)
             for i in range(companies)]
    Company.objects.bulk_create(batch, batch_size=2000)
    ids = list(Company.objects.filter(park=big).values_list("pk", flat=True))
    Listing.objects.bulk_create([
        Listing(company_id=cid, slug=f"l{k}", direction="output" if k % 2 else "input", name=words[(cid + k) % 8],
                resource=resources[(cid + k) % 8], ewc=codes[(cid + k) % 8], quantity=100.0 + k, unit="t/yr")
        for cid in ids for k in range(4)], batch_size=5000)
    out = []
    User = get_user_model()
    for u in range(users):
        user = User.objects.create_user(f"user{u}", password="benchmark-password")
        company = Company.objects.create(park=park, slug=f"firm{u}", name=f"Firm {u}", nace="10.71", lat=63, lon=8)
        Listing.objects.create(company=company, slug="bread", direction="output", name="bread", resource="material",
                               ewc="02 06 01", quantity=1, unit="t/yr")
        Membership.objects.create(user=user, company=company)
        s = SessionStore()
        s["_auth_user_id"], s["_auth_user_backend"] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
        s["_auth_user_hash"] = user.get_session_auth_hash()
        s.create()
        out.append((company.slug, s.session_key))
    return out


def percentiles(values: list[float]) -> str:
    q = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
    return f"n={len(values):5d}  p50 {q[49]:6.1f} ms  p95 {q[94]:6.1f} ms  p99 {q[98]:6.1f} ms"


def user_loop(base: str, company: str, session: str, until: float, times, errors, think: float) -> None:
    http = requests.Session()
    cookie = f"sessionid={session}"
    pages = [("company", f"/parks/park_a/companies/{company}/"), ("listing", "/parks/park_a/companies/fish/listings/sludge/"),
             ("directory", "/directory/?q=bread"), ("own listing", f"/parks/park_a/companies/{company}/listings/bread/")]
    edit = f"/parks/park_a/companies/{company}/listings/bread/edit/"
    n = 0
    while time.monotonic() < until:
        for kind, url in pages:
            time.sleep(random.uniform(0.5, 1.5) * think)  # a person reads the page before the next click
            t = time.perf_counter()
            r = http.get(base + url, headers={"Cookie": cookie}, timeout=30)
            times[kind].append((time.perf_counter() - t) * 1000)
            if r.status_code != 200:
                errors.append(f"{kind} {r.status_code}")
        time.sleep(think)
        t = time.perf_counter()
        form = http.get(base + edit, headers={"Cookie": cookie}, timeout=30)
        times["edit form"].append((time.perf_counter() - t) * 1000)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        version = re.search(r'name="version" value="(\d+)"', form.text).group(1)
        csrf = form.cookies.get("csrftoken") or ""
        n += 1
        data = {"csrfmiddlewaretoken": token, "version": version, "name": "bread", "direction": "output",
                "resource": "material", "ewc": "02 06 01", "material": "", "quantity": str(n), "unit": "t/yr",
                "frequency": "continuous", "description": "", "route": "", "cost": "", "price": ""}
        time.sleep(think)
        t = time.perf_counter()
        r = http.post(base + edit, data=data, headers={"Cookie": f"{cookie}; csrftoken={csrf}", "Referer": base + edit},
                      allow_redirects=False, timeout=30)
        times["save (POST)"].append((time.perf_counter() - t) * 1000)
        if r.status_code != 302:
            errors.append(f"edit {r.status_code}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--companies", type=int, default=10_000)
    ap.add_argument("--think", type=float, default=1.0, help="mean pause between a user's clicks, s (0: saturation)")
    ap.add_argument("--postgres", action="store_true", help="on a PostgreSQL started here (Debian's, as in the tests)")
    args = ap.parse_args()
    pg = None
    if args.postgres:
        sys.path.insert(0, str(ROOT))
        from tests.workbench.postgres import Postgres

        pg = Postgres(Path(tempfile.mkdtemp(prefix="bench-workbench-pg-"))).start()  # removed by pg.stop() below
        os.environ["DATABASE_URL"] = pg.url
    try:
        run(args)
    finally:
        if pg is not None:
            pg.stop()
            shutil.rmtree(pg.folder, ignore_errors=True)


def serve(folder: Path, tries: int = 600) -> tuple[subprocess.Popen, str]:
    """``aisym workbench serve`` on ``folder`` (16 threads), once its first page answers: (process, base URL)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    proc = subprocess.Popen([sys.executable, "-m", "aisym", "workbench", "serve", "--port", str(port), "--dir", str(folder),
                             "--threads", "16"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(tries):
        try:
            requests.get(base + "/", timeout=5)
            break
        except (requests.ConnectionError, requests.Timeout):  # a loaded machine answers the first page late
            time.sleep(0.1)
    return proc, base


def run(args) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-workbench-"))
    t = time.perf_counter()
    sessions = populate(folder, args.users, args.companies)
    print(f"populated {args.companies:,} companies, {4 * args.companies:,} listings, {args.users} users "
          f"in {time.perf_counter() - t:.0f} s ({'PostgreSQL' if os.environ.get('DATABASE_URL') else 'SQLite'})")
    proc, base = serve(folder)
    try:
        # 2. the directory alone, one request at a time
        cookie = {"Cookie": f"sessionid={sessions[0][1]}"}
        searches = defaultdict(list)
        for q in ["bread", "spent grain", "02 06", "10.71", "bakery", "steam"] * 10:
            for kind, params in (("words or code", {"q": q}), ("with country", {"q": q, "country": "NO"})):
                t = time.perf_counter()
                requests.get(base + "/directory/", params=params, headers=cookie, timeout=30)
                searches[kind].append((time.perf_counter() - t) * 1000)
        print(f"\ndirectory over {args.companies:,} companies and {4 * args.companies:,} listings (one user):")
        for kind, values in searches.items():
            print(f"  {kind:16s} {percentiles(values)}")
        # 1. concurrent users
        times, errors = defaultdict(list), []
        until = time.monotonic() + args.seconds
        threads = [threading.Thread(target=user_loop, args=(base, c, s, until, times, errors, args.think))
                   for c, s in sessions]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        total = sum(len(v) for v in times.values())
        print(f"\n{args.users} concurrent users, {args.think:g} s between clicks, for {args.seconds:.0f} s: "
              f"{total:,} requests "
              f"({total / args.seconds:.0f}/s), {len(errors)} errors {sorted(set(errors))[:5]}")
        for kind, values in times.items():
            print(f"  {kind:16s} {percentiles(values)}")
        everything = [x for v in times.values() for x in v]
        print(f"  {'all pages':16s} {percentiles(everything)}")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
