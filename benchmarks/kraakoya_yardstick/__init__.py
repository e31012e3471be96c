"""The retired hand-written Kråkøya twin's kernel, kept only as the speed yardstick of issue 22, item 6.

The compiled twin (``sim_env/graph``) is the only twin; this package is what a kernel written by
hand for one park reaches, so that ``bench_graph.py`` can say how close the generic kernel comes
(goal: ≥ 0.8× at K ≥ 64). Nothing in ``sim_env``, ``cloud`` or the tests imports it.

``core.TwinBatch`` steps N copies of Kråkøya (its v1 file, ``kraakoya_v1.yaml`` here: the park
ships as the v2 ``aisym/parks/kraakoya.yaml``, and ``tests/sim_env/test_kraakoya_v2.py`` keeps the
two the same park) through ``kernels.py``; ``params.py`` turns the v1 park into the kernel's
parameter vector; ``exogenous.py`` draws its weather and prices. The tests whose hand calculations
start from the v1 park's numbers read that file too (``tests/sim_env/conftest.py``).
"""
