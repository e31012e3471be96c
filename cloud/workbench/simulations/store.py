"""Twin tests asked and answered: :func:`submit` a set of candidates, read :func:`candidate_result`.

A result is cached per park version: the same candidates (by :func:`cloud.workbench.engine.key`),
set size and hours on the same version of the park file are simulated once. Asked again by the
same company (or the facilitator again), the same job answers; asked by another company, a new
job is written done at once with a copy of the result, so that each job is seen by its own
company only. Each answer from the cache counts as a hit on the job that computed it.

The other apps call :func:`submit` (the facilitator's best set of K) and :func:`candidate_result`
(a candidate's simulated figures on the opportunities page).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cloud.workbench import engine, tenancy

from .models import Job, TwinSettings

MAX_SET_SIZE = 8  # the best set's Shapley split simulates 2**K subsets (sim_env.match.simulate.subset_values)
MAX_KEYS = 64  # one request's candidates (the CLI's --top of a large park)


class Refused(ValueError):
    """A twin test that cannot be asked; the message names the field at fault, in one line."""


_RANKED: OrderedDict[str, engine.Ranked] = OrderedDict()  # park version -> its matchmaking, a few kept per process
_RANKED_LOCK = threading.Lock()


def ranked(park, text: str | None = None) -> engine.Ranked:
    """The park's matchmaking at its present version (cached per version in this process).

    Without ``text``, the opportunities page's own cache answers (the "Test it in the twin" button
    is clicked there, so its ranking is at hand); :raises ValueError: the park cannot be matched.
    """
    if text is None:
        from cloud.workbench.opportunities.matches import park_match

        pm = park_match(park)
        if pm.ranked is None:
            raise ValueError(pm.error)
        return pm.ranked
    version = engine.version_of(text)
    with _RANKED_LOCK:
        if version in _RANKED:
            _RANKED.move_to_end(version)
            return _RANKED[version]
    r = engine.rank(park, text=text)
    with _RANKED_LOCK:
        _RANKED[version] = r
        while len(_RANKED) > 4:
            _RANKED.popitem(last=False)
    return r


def signature(keys: list[str], set_size: int, hours: float) -> str:
    return hashlib.sha256(json.dumps([keys, set_size, float(hours)]).encode()).hexdigest()


def ray_address(park) -> str:
    s = TwinSettings.objects.filter(park=park).first()
    return s.ray_address if s is not None else ""


def _company_ids(c) -> set[str]:
    return {c.output.company, c.input.company if c.input is not None else c.receiver}


def validate(park, keys: list[str], *, company=None, set_size: int = 0, hours: float = 8760.0) -> tuple:
    """(the matchmaking, the keys in rank order), or :class:`Refused` naming what is wrong."""
    keys = list(dict.fromkeys(k.strip() for k in keys if k and k.strip()))
    if not keys:
        raise Refused("key: choose at least one candidate to test")
    if len(keys) > MAX_KEYS:
        raise Refused(f"key: {len(keys)} candidates asked, at most {MAX_KEYS} at once")
    if not 0 <= set_size <= min(MAX_SET_SIZE, len(keys)):
        raise Refused(f"set_size: {set_size} is not between 0 and {min(MAX_SET_SIZE, len(keys))} "
                      f"(the candidates asked, at most {MAX_SET_SIZE})")
    if not 1.0 <= hours <= 8760.0:
        raise Refused(f"hours: {hours:g} is not between 1 and 8760")
    try:
        r = ranked(park)
    except ValueError as e:  # the park cannot be matched as it stands (e.g. a currency without a EUR rate)
        raise Refused(f"park {park.slug}: {' '.join(str(e).split())}") from None
    order = {engine.key(c): i for i, c in enumerate(r.candidates)}
    unknown = [k for k in keys if k not in order]
    if unknown:
        raise Refused(f"key: {unknown[0]!r} is not a candidate of the park as it is now (it changed since the page "
                      "was shown: reload it)")
    if company is not None:
        by_key = r.by_key()
        foreign = [k for k in keys if company.slug not in _company_ids(by_key[k])]
        if foreign:
            raise Refused(f"key: {foreign[0]!r} is not a candidate of {company.name}")
    return r, sorted(keys, key=order.__getitem__)


def submit(park, keys: list[str], *, company=None, set_size: int = 0, hours: float = 8760.0, user=None) -> Job:
    """Ask the twin to simulate the candidates ``keys`` (engine.key) of ``park`` for ``hours``.

    Returns the job: a cached one (same park version, candidates, set size and hours), or a new
    one started in the background (:func:`cloud.workbench.simulations.runner.launch`).

    :param company: the company asking (its share is what its result page shows); None: the park's facilitator
    :param set_size: also grow the best set of this many candidates and split it by Shapley (0: not)
    :raises Refused: a key that is not a candidate of the park's present version (or not the
        company's), a set size or hours out of range, a park that cannot be matched
    """
    from . import runner

    r, keys = validate(park, keys, company=company, set_size=set_size, hours=hours)
    sig = signature(keys, set_size, hours)
    with transaction.atomic():
        user = user if user is not None and user.is_authenticated else None
        job, fresh = _cached(park, r.version, sig, company, user)
        if job is None:
            job = Job.objects.create(park=park, version=r.version, keys=keys, signature=sig, set_size=set_size,
                                     hours=hours, user=user, company=company, ray_address=ray_address(park))
            fresh = True
    if fresh and job.state == Job.QUEUED:
        if runner.mode() == "inline":
            runner.launch(job)
            job.refresh_from_db()
        else:  # a worker process sees the job only once the request's transaction is committed
            transaction.on_commit(lambda: runner.launch(job))
    return job


def _cached(park, version: str, sig: str, company, user) -> tuple[Job | None, bool]:
    """(the job answering from the cache or None, whether it was created here)."""
    from . import runner

    with tenancy.system_access():  # another company's job answers too: only the asker's share of it is shown
        return _cached_as_server(park, version, sig, company, user, runner)


def _cached_as_server(park, version: str, sig: str, company, user, runner) -> tuple[Job | None, bool]:
    same = Job.objects.filter(park=park, version=version, signature=sig).exclude(state=Job.FAILED)
    for job in same.filter(company=company):
        if runner.check(job).state != Job.FAILED:
            Job.objects.filter(pk=job.pk).update(hits=F("hits") + 1)
            return job, False
    done = same.filter(state=Job.DONE).order_by("finished").first()
    if done is None:
        return None, False
    Job.objects.filter(pk=done.pk).update(hits=F("hits") + 1)
    now = timezone.now()
    copy = Job.objects.create(park=park, version=version, keys=done.keys, signature=sig, set_size=done.set_size,
                              hours=done.hours, company=company, user=user, state=Job.DONE, progress=1.0,
                              progress_text=done.progress_text, started=now, finished=now, result=done.result,
                              candidate_ids=done.candidate_ids, seconds=0.0, ray_address=done.ray_address)
    return copy, True


def candidate_result(park, version: str, key: str) -> dict | None:
    """A candidate's simulated figures on park version ``version``, from a finished job that simulated it.

    Returns the ``ranking`` row of ``aisym match --simulate --format json`` for that candidate,
    with ``companies``: each company's share rows under each split rule (``{company: [rows]}``),
    and ``currency``, ``job`` (the job's id) and ``hours``. Server-side data: every company's
    share is in it, so show a viewer only their own company's rows. None when no finished job
    on that version simulated the candidate.
    """
    with tenancy.system_access():  # any company's finished job: the caller shows a viewer only their own rows
        jobs = list(Job.objects.filter(park=park, version=version, state=Job.DONE, kind=Job.CANDIDATES)
                    .order_by("-finished"))
    for job in jobs:
        if key not in job.keys or not job.result:
            continue
        cid = job.candidate_ids.get(key)
        row = next((r for r in job.result.get("ranking", []) if r["id"] == cid), None)
        if row is None:
            continue
        shares = {c: [g for g in rows if g["candidate"] == cid] for c, rows in job.result.get("companies", {}).items()}
        return {**row, "companies": {c: rows for c, rows in shares.items() if rows}, "currency": job.result["currency"],
                "job": job.pk, "hours": job.hours}
    return None


# a failed year is asked again by the next page view only after this long: a fault that repeats
# (a park the twin cannot run) is said on the page, not re-run by every visitor
RETRY_YEAR_AFTER_S = 600.0


def submit_twin_year(park, version: str, keys: list[str], running: str, *, hours: float, seed: int = 0) -> Job:
    """The impact page's year of the park version ``version`` (with the pipeline's running candidates
    ``keys``, hashed as ``running``) as a worker job: the one queued, running or done for it, or a new one.

    The server's own work, asked by whoever views the page first: no company's and no user's job.
    """
    from datetime import timedelta

    from . import runner

    sig = signature(["impact", running, seed], 0, hours)
    with tenancy.system_access(), transaction.atomic():
        job = Job.objects.filter(park=park, version=version, signature=sig, kind=Job.IMPACT).first()
        if job is not None:
            job = runner.check(job)
        if job is not None and (job.state != Job.FAILED or
                                timezone.now() - job.finished < timedelta(seconds=RETRY_YEAR_AFTER_S)):
            return job
        job = Job.objects.create(park=park, version=version, keys=keys, signature=sig, hours=hours, kind=Job.IMPACT,
                                 params={"running": running, "seed": seed})
    if runner.mode() == "inline":
        runner.launch(job)
        with tenancy.system_access():
            job.refresh_from_db()
    else:  # a worker process sees the job only once the request's transaction is committed
        transaction.on_commit(lambda: runner.launch(job))
    return job
