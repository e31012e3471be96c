"""The worker of one twin job: ``python -m cloud.workbench.simulations.worker JOB_ID``.

It waits for a free slot (at most ``AISYM_WORKBENCH_TWIN_SLOTS`` simulations at once, default
the machine's cores), claims the job, beats every few seconds, simulates the candidates with
:func:`cloud.workbench.engine.simulate` (``aisym match --simulate``, on the Ray cluster of the
park's :class:`~.models.TwinSettings` when it names one) and writes the result in one
transaction with the state ``done``. An error the user can act on (the park changed, no Ray
cluster answers) fails the job with its one-line message; anything else fails it as an internal
error, with the traceback in the job's log (``<data dir>/twin-jobs/JOB_ID.log``). Then it stays
warm a while and runs the next queued jobs itself (:func:`linger`), claiming each atomically, so a
job is run once whichever worker comes first.

On Linux the worker dies with the server that started it (``PR_SET_PDEATHSIG``): a restarted
server then finds the job's pid gone and reports the job failed (:func:`.runner.check`), instead
of a job that finishes unwatched or never.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path


def _die_with_parent() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(3)
    except OSError:  # not Linux: the heartbeat's staleness still tells
        pass


@contextlib.contextmanager
def _slot(job_id: int):
    """Hold one of the machine's simulation slots (a lock file each) while the block runs; yields
    False, holding none, when another worker claimed the job meanwhile."""
    from django.conf import settings

    from .models import Job

    folder = Path(settings.DATA_DIR) / "twin-jobs"
    folder.mkdir(parents=True, exist_ok=True)
    n = max(1, int(os.environ.get("AISYM_WORKBENCH_TWIN_SLOTS", os.cpu_count() or 1)))
    files = [open(folder / f"slot-{i}.lock", "a+") for i in range(n)]  # noqa: SIM115 (closed below)
    try:
        said = False
        while True:
            for f in files:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                yield Job.objects.filter(pk=job_id, state=Job.QUEUED).exists()
                return
            if not Job.objects.filter(pk=job_id, state=Job.QUEUED).exists():
                yield False
                return
            if not said:
                Job.objects.filter(pk=job_id).update(progress_text="waiting for a free worker")
                said = True
            _beat(job_id)
            time.sleep(0.2)
    finally:
        for f in files:
            f.close()  # closing releases the lock


def _beat(job_id: int) -> None:
    from django.utils import timezone

    from .models import Job

    Job.objects.filter(pk=job_id).update(heartbeat=timezone.now())


class _Heart(threading.Thread):
    """Writes the heartbeat while the simulation runs."""

    def __init__(self, job_id: int) -> None:
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.job_id, self.stop = job_id, threading.Event()

    def run(self) -> None:
        from django.db import close_old_connections

        from .runner import HEARTBEAT_S

        while not self.stop.wait(HEARTBEAT_S):
            _beat(self.job_id)
        close_old_connections()


def _finite(x):
    """JSON without NaN/inf (PostgreSQL's jsonb refuses them): such a figure is unknown, None."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    return x


# the share of the progress bar reached when each step of engine.simulate begins
STEPS = {"reading": 0.05, "ranking": 0.1, "preparing": 0.2, "simulating": 0.3, "writing": 0.95}


def run(job_id: int, *, slots: bool = True) -> None:
    """Run job ``job_id`` to done or failed (``slots``: wait for a free simulation slot first)."""
    if not slots:
        _run(job_id, False)
        return
    with _slot(job_id) as mine:
        if mine:
            _run(job_id, True)


# a worker stays this long after its job, warm (Django, the twin's compiled kernels), and takes the
# next job itself: a fresh process spends seconds importing and loading kernels before it simulates
LINGER_S = 120.0


def linger() -> None:
    """Run the queued jobs as they come, until none came for LINGER_S (one lingering worker per machine)."""
    from django.conf import settings
    from django.db import close_old_connections

    from .models import Job

    folder = Path(settings.DATA_DIR) / "twin-jobs"
    with open(folder / "linger.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another worker is the warm one
        until = time.monotonic() + float(os.environ.get("AISYM_WORKBENCH_TWIN_LINGER_S", LINGER_S))
        while time.monotonic() < until:
            job = Job.objects.filter(state=Job.QUEUED).order_by("created", "pk").values_list("pk", flat=True).first()
            if job is None:
                close_old_connections()
                time.sleep(0.2)
                continue
            run(job)
            until = time.monotonic() + float(os.environ.get("AISYM_WORKBENCH_TWIN_LINGER_S", LINGER_S))


def _run(job_id: int, heartbeat: bool) -> None:
    from django.db import transaction
    from django.utils import timezone

    from cloud.workbench import engine
    from sim_env.graph.sweep import RayUnreachable

    from .models import Job

    pid = os.getpid() if heartbeat else None  # inline: the job runs in the request, no process to watch
    claimed = Job.objects.filter(pk=job_id, state=Job.QUEUED).update(
        state=Job.RUNNING, pid=pid, host=socket.gethostname() if pid else "", started=timezone.now(),
        heartbeat=timezone.now(), progress=STEPS["reading"], progress_text="reading the park",
        attempts=1)
    if not claimed:
        return
    job = Job.objects.select_related("park").get(pk=job_id)
    t0 = time.perf_counter()

    def progress(text: str, fraction: float | None = None) -> None:
        step = text.split(" ", 1)[0]
        fields = {"progress_text": text[:200]}
        if step in STEPS:
            fields["progress"] = STEPS[step]
        elif fraction is not None:  # within the simulation (per batch, per round of the best set)
            fields["progress"] = STEPS["simulating"] + fraction * (STEPS["writing"] - STEPS["simulating"])
        Job.objects.filter(pk=job_id, state=Job.RUNNING).update(**fields)

    heart = _Heart(job_id) if heartbeat else None
    if heart:
        heart.start()
    try:
        text = engine.park_text(job.park)
        if engine.version_of(text) != job.version:
            raise KeyError(f"the park changed since this test was asked (version {job.version}, now "
                           f"{engine.version_of(text)}): ask again from the opportunities page")
        if job.kind == Job.IMPACT:  # the impact page's year: kept as its TwinMonths row, written with "done"
            from cloud.workbench.impact.report import run_twin_job

            result, save = run_twin_job(job, text, progress)
            ids = {}
        else:
            result, ids, save = *_candidates(job, text, progress), None
        with transaction.atomic():  # the result and "done" together, or neither
            if save is not None:
                save()
            Job.objects.filter(pk=job_id, state=Job.RUNNING).update(
                state=Job.DONE, result=result, candidate_ids=ids, progress=1.0, progress_text="done",
                finished=timezone.now(), seconds=time.perf_counter() - t0)
    except (KeyError, ValueError, RayUnreachable) as e:  # the user's to act on: one line
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        _failed(job_id, " ".join(str(msg).split())[:500])
    except Exception as e:
        traceback.print_exc()
        _failed(job_id, f"internal error: {type(e).__name__}: {' '.join(str(e).split())[:300]}")
        raise
    finally:
        if heart:
            heart.stop.set()


def _candidates(job, text: str, progress) -> tuple[dict, dict]:
    """``aisym match --simulate`` of the job's candidates: (its report data, each key's candidate id in it)."""
    from cloud.workbench import engine

    from . import store

    progress("ranking the park's candidates")
    ranked = store.ranked(job.park, text)
    data = engine.simulate(ranked, job.keys, hours=job.hours, set_size=job.set_size,
                           ray_address=job.ray_address or None, progress=progress)
    progress("writing the result")
    rank = {engine.key(c): i for i, c in enumerate(ranked.candidates, start=1)}
    ids = {k: _candidate_id(data, rank[k]) for k in job.keys}
    return _finite(json.loads(json.dumps(data, default=float))), ids


def _candidate_id(data: dict, match_rank: int) -> str | None:
    """The id report_data gives the candidate of this matchmaking rank (None: it was not simulated)."""
    return next((row["id"] for row in data["ranking"] if row["match_rank"] == match_rank), None)


def _failed(job_id: int, why: str) -> None:
    from django.utils import timezone

    from .models import Job

    Job.objects.filter(pk=job_id, state__in=(Job.QUEUED, Job.RUNNING)).update(
        state=Job.FAILED, error=why, finished=timezone.now())


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m cloud.workbench.simulations.worker JOB_ID", file=sys.stderr)
        return 2
    _die_with_parent()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloud.workbench.settings")
    os.umask(0o077)  # the database and logs hold private costs
    import django

    django.setup()
    from django.db.backends.signals import connection_created

    # the server's own work: it reads every company's costs, as the CLI does. Every connection of the
    # process says so to PostgreSQL's row policies, the heartbeat thread's and one reopened after
    # close_old_connections too (a setting made once would go with the connection it was made on)
    connection_created.connect(as_server)
    run(int(argv[0]))
    linger()
    return 0


def as_server(sender, connection, **kwargs) -> None:
    """A new database connection of the worker process: the row policies' ``app.system`` on for its session."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('app.system', 'on', false)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
