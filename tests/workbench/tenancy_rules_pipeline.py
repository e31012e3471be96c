"""The pipeline's views in the tenancy matrix (tests/workbench/test_tenancy_matrix.py).

The target opportunity is the fish farm's alone (no receiver): its members, park A's facilitator
and admins see it; the biogas plant's member, of the same park, does not.
"""

RULES = {
    "pipeline:list": "park_tier", "pipeline:funnel": "park_tier",
    "pipeline:action_plan": "park_tier", "pipeline:action_plan_pdf": "park_tier",
    "pipeline:add": "run_park", "pipeline:import": "run_park", "pipeline:edit": "run_park",
    "pipeline:fill": "post_only", "pipeline:assess": "post_only", "pipeline:stage": "post_only",
    "pipeline:comment": "post_only",
    "pipeline:detail": "fish_opportunity",
}
KINDS = {"fish_opportunity": {"member_a", "facilitator_a", "admin"}}


def _fish_opportunity(world) -> int:
    from cloud.workbench.pipeline.changes import create

    opp = create(world.park_a, world.users["facilitator_a"], title="Fish sludge to a biogas plant", supplier=world.fish,
                 resource="material", material="fish sludge", ewc="02 01 06", notes="ask the regulator first")
    return opp.pk


PARAMS = {"opportunity": _fish_opportunity}
