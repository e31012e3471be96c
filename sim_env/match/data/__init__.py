"""Data of matchmaking: the knowledge base of known residue uses and the company template (a package so it ships)."""
