"""``aisym demo``: a park's twin in the closed loop, its offline comparison and its HTML report."""
