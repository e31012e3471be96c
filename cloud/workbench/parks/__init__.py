"""Parks: the park itself (from its v2 description) and the start page."""
