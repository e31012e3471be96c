"""Who gets the twin tests' views: a job is its company's (members), and the park's facilitators' and admins'."""

from __future__ import annotations


def _fish_job(world) -> int:
    """A twin test asked for the fish farm (queued: the matrix reads its page, it never runs here)."""
    from cloud.workbench.simulations.models import Job

    job = Job.objects.create(park=world.park_a, version="0" * 16, keys=["fish.sludge>biogas.feedstock:direct"],
                             signature="matrix", company=world.fish, user=world.users["member_a"])
    return job.pk


RULES = {
    "simulations:start": "post_only", "simulations:retry": "post_only",
    "simulations:job": "twin_job", "simulations:progress": "twin_job",
    "simulations:settings": "run_park",
}
KINDS = {"twin_job": {"member_a", "facilitator_a", "admin"}}
PARAMS = {"job": _fish_job}
