"""Where a twin job runs, and how a dead one is found.

By default each job runs in a worker process of its own (``python -m
cloud.workbench.simulations.worker JOB_ID``) started by the server: a simulation that crashes
or is killed takes no request thread and no server with it, and the server's restart does not
leave a job "running" for ever. The worker writes its progress and a heartbeat to the database
and its result in one transaction at the end (:mod:`.worker`).

``AISYM_WORKBENCH_TWIN_WORKER=inline`` runs the job in the asking request instead (the tests on
Django's transactional test database, which another process cannot see).

A job is read through :func:`check`: one whose worker process is gone (same host, pid no longer
a worker of that job) or whose heartbeat is older than :data:`STALE_S` is marked failed there,
with why; its result, if any was half-made, was never written.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Job

log = logging.getLogger(__name__)
# a worker beats every HEARTBEAT_S; a compiled kernel may hold the GIL through a long batch, so
# silence is read as death only well after that (a dead pid on this host is seen at once)
HEARTBEAT_S = 2.0
STALE_S = 180.0
WORKER_MODULE = "cloud.workbench.simulations.worker"


def mode() -> str:
    return os.environ.get("AISYM_WORKBENCH_TWIN_WORKER", "process")


def launch(job: Job) -> None:
    """Start ``job`` (queued) in a worker process, or here with the inline mode."""
    if mode() == "inline":
        from cloud.workbench.tenancy import system_access

        from .worker import run

        with system_access():  # the worker's own work, as in its process (worker.as_server)
            run(job.pk, slots=False)
        return
    logs = Path(settings.DATA_DIR) / "twin-jobs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"{job.pk}.log", "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", WORKER_MODULE, str(job.pk)], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=os.environ.copy())
    from cloud.workbench.tenancy import system_access

    with system_access():  # often after the request's transaction (on_commit), where no viewer is set any more
        Job.objects.filter(pk=job.pk, state=Job.QUEUED).update(pid=proc.pid, host=socket.gethostname(),
                                                               heartbeat=timezone.now())
    # reaps the process (no zombie keeps its pid looking alive) and fails the job at once if it dies
    threading.Thread(target=_reap, args=(job.pk, proc), name=f"twin-job-{job.pk}", daemon=True).start()


def _reap(job_id: int, proc: subprocess.Popen) -> None:
    rc = proc.wait()
    if rc == 0:
        return
    from cloud.workbench.tenancy import system_access

    try:
        close_old_connections()
        with system_access():  # a server thread, no request: PostgreSQL's row policies let only the server write
            fail(job_id, proc.pid, _died(rc))
    finally:
        close_old_connections()


def _died(rc: int) -> str:
    if rc < 0:
        name = signal.Signals(-rc).name if -rc in signal.Signals.__members__.values() else str(-rc)
        return _("The worker was stopped (%(signal)s) before it finished; nothing of its run was kept.") % {
            "signal": name}
    return _("The worker stopped with exit code %(rc)s before it finished; nothing of its run was kept.") % {"rc": rc}


def fail(job_id: int, pid: int | None, why: str) -> bool:
    """Mark a job that is not finished failed (only if still the run of worker ``pid``)."""
    q = Job.objects.filter(pk=job_id, state__in=(Job.QUEUED, Job.RUNNING))
    if pid is not None:
        q = q.filter(pid=pid)
    return q.update(state=Job.FAILED, error=why, finished=timezone.now()) > 0


def worker_alive(pid: int, job_id: int) -> bool:
    """Whether ``pid`` on this host is still a twin worker (not a reused pid, not a zombie); the
    worker of job ``job_id`` or a warm one that took it (:func:`.worker.linger`)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc here: the signal-0 probe
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return WORKER_MODULE.encode() in cmdline


def check(job: Job) -> Job:
    """``job``, failed if its worker died (read again from the database when it changed)."""
    if job.finished_state:
        return job
    why = None
    if job.pid is not None and job.host == socket.gethostname() and not worker_alive(job.pid, job.pk):
        why = _("The worker process of this job is gone (the server restarted, or the process was killed); "
                "nothing of its run was kept.")
    elif job.heartbeat is not None and timezone.now() - job.heartbeat > timedelta(seconds=STALE_S):
        why = _("The worker of this job gave no sign of life for %(s)d s; nothing of its run was kept.") % {
            "s": STALE_S}
    elif job.pid is None and job.heartbeat is None and mode() != "inline" and \
            timezone.now() - job.created > timedelta(seconds=STALE_S):
        why = _("No worker took this job; nothing was run.")
    if why is not None and fail(job.pk, job.pid, why):
        log.warning("twin job %s failed when read: %s", job.pk, why)
        job.refresh_from_db()
    return job
