"""The software plant: any park's compiled twin served as Modbus TCP, Modbus RTU and OPC UA devices.

``aisym plant PARK`` (:mod:`.cli`) runs :class:`~sim_env.plant.plant.Plant`; docs/plant.md
describes the register maps, the clock and the faults.
"""
