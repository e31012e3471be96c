"""Companies of a park and their listings (what they have and want)."""
