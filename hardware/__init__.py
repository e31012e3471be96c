"""Device profiles (``devices/*.yaml``), node wiring and the bill of materials.

A package only so that an installed wheel carries ``hardware/devices`` beside ``edge``: the
gateway and ``aisym node build`` read the shipped profiles from there (``edge.profiles``).
"""
