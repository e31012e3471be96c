"""Who gets the companies app's views added since part 2 (the part 1 views' rules are in test_tenancy_matrix.py)."""

from __future__ import annotations

# an estimate confirmed (or about to be corrected) as the company's own listing: a POST by its editors
RULES = {"companies:estimate": "post_only"}
