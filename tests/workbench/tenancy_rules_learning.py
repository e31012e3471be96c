"""Tenancy rules of the learning app: anyone reads the modules and the index (progress is the
viewer's own); the check takes answers by POST only."""

RULES = {"learning:index": "anyone", "learning:module": "anyone", "learning:check": "post_only"}
PARAMS = {"module": lambda world: "mapping-resources"}
