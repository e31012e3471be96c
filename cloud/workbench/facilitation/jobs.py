"""The best set of K through the twin app's jobs (:mod:`cloud.workbench.simulations.store`).

The job simulates the shortlist's candidates for a year, grows the best set of K and splits its
benefit by Shapley (``report_data``'s ``best_set`` and ``shapley``). What the facilitator sees of
it follows tenancy: a candidate's money (alone, marginal) only when they may read both of its
companies' costs, a company's Shapley share only when they may read that company's.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from cloud.workbench import tenancy
from cloud.workbench.companies.models import PRIVATE


class NotSubmitted(Exception):
    """The twin refused the job, or the twin's app is not there: the one-line reason."""


@dataclass
class State:
    job: object  # simulations.models.Job
    state: str  # queued, running, done, failed
    label: str
    progress: float
    result: dict | None


def submit(park, keys: list[str], size: int, user):
    try:  # the twin's app (helper B's) is a separate app: say so if it is missing rather than fail
        from cloud.workbench.simulations.store import Refused
        from cloud.workbench.simulations.store import submit as store_submit
    except ImportError:
        raise NotSubmitted(_("The twin's job queue is not installed on this server.")) from None
    try:
        return store_submit(park, keys, set_size=size, user=user)
    except Refused as e:
        raise NotSubmitted(str(e)) from None


def state(park, job_id: str) -> State | None:
    try:
        from cloud.workbench.simulations.models import Job
    except ImportError:
        return None
    job = Job.objects.filter(park=park, pk=int(job_id)).first() if job_id.isdigit() else None
    if job is None:
        return None
    try:
        from cloud.workbench.simulations.runner import check
    except ImportError:
        pass
    else:
        job = check(job)  # a dead worker's job is failed here, never shown as running for ever
    done = job.state == Job.DONE and job.result is not None
    return State(job, job.state, job.get_state_display(), job.progress, job.result if done else None)


def best_set(v: tenancy.Viewer, park, st: State) -> dict:
    """The set, in the order it was grown, each candidate alone and at the margin; the Shapley split."""
    companies = {c.slug: c for c in park.companies.all()}

    def may(*slugs: str) -> bool:
        return all(s in companies and tenancy.tier(v, companies[s]) == PRIVATE for s in slugs)

    result = st.result
    by_id = {r["id"]: r for r in result.get("ranking", [])}
    key_of = {cid: k for k, cid in (st.job.candidate_ids or {}).items()}
    members = []
    for b in result.get("best_set", []):
        r = by_id.get(b["id"], {})
        both = may(r.get("supplier", ""), r.get("receiver", ""))
        members.append({
            "id": b["id"], "key": key_of.get(b["id"], b["id"]),
            "supplier": getattr(companies.get(r.get("supplier")), "name", r.get("supplier", "")),
            "receiver": getattr(companies.get(r.get("receiver")), "name", r.get("receiver", "")),
            "co2_t": r.get("co2_avoided_t_per_year"),
            "alone": b["alone_per_year"] if both else None, "marginal": b["marginal_per_year"] if both else None,
            "interaction": (b["marginal_per_year"] - b["alone_per_year"]) if both else None})
    shapley = [{"company": getattr(companies.get(s["company"]), "name", s["company"]),
                "gain": s["gain_per_year"] if may(s["company"]) else None,
                "payback": s["payback_years"] if may(s["company"]) else None} for s in result.get("shapley", [])]
    return {"members": members, "shapley": shapley, "currency": result.get("currency", park.currency),
            "not_simulated": result.get("not_simulated", [])}
