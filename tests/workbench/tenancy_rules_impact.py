"""Tenancy rules of the impact app's views (read by test_tenancy_matrix.py).

- the page and its CSV: the park tier (members of the park's companies, its facilitators, admins);
- the public summary: 404 to everyone until the facilitator publishes it (published: anyone,
  tested in test_impact_tenancy.py);
- the switch: POST only (its GET is 405 to everyone);
- the progress of the twin's year (the partial the page polls): the park tier, as the page.
"""

RULES = {
    "impact:park": "park_tier",
    "impact:csv": "park_tier",
    "impact:progress": "park_tier",
    "impact:public": "nothing",
    "impact:public_switch": "post_only",
}
