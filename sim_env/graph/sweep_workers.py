"""Rows of a candidate sweep run in chunks: in this process, in local worker processes, or on a Ray cluster.

One compiled park holds the base and every candidate (:func:`~sim_env.graph.sweep.with_candidates`);
its rows are independent (the kernel steps each row as it would alone, and the rules act row by
row), so any split of the rows gives the same numbers as one batch, bit for bit. A chunk is the
same task wherever it runs (:func:`_rows_task`): it compiles the park with *all* the candidates, so
the rules value each bus as in one batch, and runs its rows. A process compiles the park once and
loads the generic kernel from Numba's on-disk cache: no per-park compile.

Local workers are started with ``spawn`` (a forked Numba or thread state is not safe to reuse) and
are worth their start only on enough work; see :func:`workers_for`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# A spawned worker costs ~2 CPU s before its first step (Python, NumPy and the package imported, the park
# compiled, the kernel loaded from Numba's cache: 1.5 CPU s, 3.3 s wall measured on an idle core). The
# generic kernel runs a row-hour in ~2.5 µs of CPU (0.4 M park-steps per CPU s on the Kalundborg-like park,
# benchmarks/bench_graph.py), so a second worker pays for itself from about 2 / 2.5e-6 ≈ 1e6 row-hours:
# below that the default stays in this process (the tests' short sweeps among them).
MIN_ROW_HOURS_PER_WORKER = 1.0e6
# Rows go out in up to this many chunks per worker, each of at least MIN_CHUNK_ROWS: a worker whose core
# another job takes finishes fewer chunks and the other takes more. Smaller batches cost no more per row
# (the Kalundborg-like sweep, 720 h, one process: 305 rows in one batch 624-688 candidate-years per CPU
# minute, in 4 of 76 rows 695, in 8 of 38 rows 757); each chunk rebuilds the twin (~0.1 s).
CHUNKS_PER_WORKER = 4
MIN_CHUNK_ROWS = 32


class SweepWorkerError(RuntimeError):
    """A chunk of the sweep failed in its worker; the message names its rows and candidates, and the cause."""


class RayUnreachable(ConnectionError):
    """No Ray cluster answers at the address given; the message names it."""


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, as a container or ``taskset`` limits it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def workers_for(rows: int, hours: float, workers: int | None) -> int:
    """Worker processes for ``rows`` rows of ``hours`` each: ``workers`` when given (at most one per row),
    else the usable cores, at most one per row and per :data:`MIN_ROW_HOURS_PER_WORKER` of work.

    :raises ValueError: ``workers`` below 1
    """
    if workers is not None:
        if workers < 1:
            raise ValueError(f"workers: at least 1 (got {workers})")
        return max(1, min(workers, rows))
    return max(1, min(usable_cores(), rows, int(rows * hours // MIN_ROW_HOURS_PER_WORKER)))


@dataclass(frozen=True)
class SweepPark:
    """What a chunk needs to rebuild the sweep's compiled park in any process, and how to run it."""

    doc: dict
    candidates: list  # sweep.Candidate
    source: str
    hours: float
    exo_seed: int
    specialise: str | None
    key: str = field(default="", compare=False)

    @classmethod
    def of(cls, doc: dict, candidates: list, source: str, hours: float, exo_seed: int,
           specialise: str | None) -> SweepPark:
        text = json.dumps([doc, [(c.id, c.exchanges, c.assets) for c in candidates], source], sort_keys=True,
                          default=str)
        return cls(doc, candidates, source, hours, exo_seed, specialise, hashlib.sha256(text.encode()).hexdigest())


_COMPILED: dict[str, Any] = {}  # per process: SweepPark.key -> (compiled park, masks); one park at a time


def _compiled(park: SweepPark):
    from .sweep import with_candidates

    if park.key not in _COMPILED:
        _COMPILED.clear()
        _COMPILED[park.key] = with_candidates(park.doc, park.candidates, park.source)
    return _COMPILED[park.key]


def _rows_task(park: SweepPark, masks: np.ndarray) -> tuple[list, int, float]:
    """One chunk, wherever it runs: its rows' results, and this process's id and CPU seconds so far."""
    from .baselines import GraphRules
    from .evaluate import evaluate_batch

    cp, _ = _compiled(park)
    runs = evaluate_batch(GraphRules(), cp, masks, hours=park.hours, exo_seed=park.exo_seed,
                          specialise=park.specialise)
    return runs, os.getpid(), time.process_time()


def _chunk_name(labels: list[str], a: int, b: int) -> str:
    names = labels[a] if b - a == 1 else f"{labels[a]} … {labels[b - 1]}"
    return f"{names} (rows {a}–{b - 1} of {len(labels)})"


class Rows:
    """Runs rows (edge masks) of one sweep park; a context manager that keeps its workers between calls
    (the greedy best set's rounds).

    :param park: the sweep's park
    :param compiled: its ``(compiled park, masks)`` when the caller has them (the in-process path uses them)
    :param workers: local worker processes (None: :func:`workers_for` decides per call; 1: this process)
    :param ray_address: run chunks of ``chunk`` rows as Ray tasks on this cluster instead
    """

    def __init__(self, park: SweepPark, *, compiled: tuple | None = None, workers: int | None = None,
                 ray_address: str | None = None, chunk: int = 256):
        if chunk < 1:
            raise ValueError(f"chunk: at least 1 row (got {chunk})")
        workers_for(1, park.hours, workers)  # a bad count is refused before any work
        self.park, self.workers, self.ray_address, self.chunk = park, workers, ray_address, chunk
        self._compiled = compiled
        self._pool: ProcessPoolExecutor | None = None
        self._pool_n = 0
        self._ray_started = False
        self.cpu: dict[int, float] = {}  # worker pid -> its CPU seconds at its last chunk
        self.tasks = 0

    def __enter__(self) -> Rows:
        return self

    def __exit__(self, kind, *exc) -> None:
        self.close(failed=kind is not None)

    def close(self, failed: bool = False) -> None:
        """Stop the workers (at once when a chunk ``failed``: the others' rows would be thrown away)."""
        if self._pool is not None:
            if failed:  # Python 3.11's executor has no terminate_workers(): its process table is the only handle
                for proc in list(getattr(self._pool, "_processes", {}).values()):
                    proc.terminate()
            self._pool.shutdown(wait=not failed, cancel_futures=True)
            self._pool, self._pool_n = None, 0
        if self._ray_started:
            import ray

            ray.shutdown()
            self._ray_started = False

    def compiled(self):
        if self._compiled is None:
            self._compiled = _compiled(self.park)
        return self._compiled

    def __call__(self, masks: np.ndarray, labels: list[str]) -> list:
        """Each row's :class:`~sim_env.graph.evaluate.GraphResult`, in the rows' order.

        :param labels: one per row, naming it in a failure (the candidate, or the set it adds to)
        :raises SweepWorkerError: a chunk failed in a worker or a Ray task: its rows named, nothing returned
        """
        masks = np.ascontiguousarray(masks, dtype=np.float64)
        if len(labels) != len(masks):
            raise ValueError(f"labels: one per row ({len(masks)}), got {len(labels)}")
        if self.ray_address is not None:
            return self._ray(masks, labels)
        n = workers_for(len(masks), self.park.hours, self.workers)
        if n == 1:
            from .baselines import GraphRules
            from .evaluate import evaluate_batch

            p = self.park
            return evaluate_batch(GraphRules(), self.compiled()[0], masks, hours=p.hours, exo_seed=p.exo_seed,
                                  specialise=p.specialise)
        if self._pool_n < n:  # a pool is kept between calls; one too small is replaced
            import multiprocessing

            self.close()
            self._pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"))
            self._pool_n = n
        pieces = max(n, min(n * CHUNKS_PER_WORKER, len(masks) // MIN_CHUNK_ROWS))
        bounds = np.linspace(0, len(masks), pieces + 1).round().astype(int)
        spans = [(int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]
        futures = [self._pool.submit(_rows_task, self.park, masks[a:b]) for a, b in spans]
        return self._gather(futures, spans, labels)

    def _gather(self, futures: list[Future], spans: list[tuple[int, int]], labels: list[str]) -> list:
        out: list = []
        for f, (a, b) in zip(futures, spans, strict=True):
            try:
                runs, pid, cpu = f.result()
            except Exception as e:  # any failure of a chunk is the sweep's, raised with the chunk named
                self.close(failed=self.ray_address is None)
                why = " ".join(str(e).split())[:300] or "no message"
                raise SweepWorkerError(f"sweep worker failed on {_chunk_name(labels, a, b)}: "
                                       f"{type(e).__name__}: {why}") from e
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu)
            self.tasks += 1
            out += runs
        return out

    def _ray(self, masks: np.ndarray, labels: list[str]) -> list:
        import ray

        if not ray.is_initialized():
            check_ray(self.ray_address)
            try:
                ray.init(address=self.ray_address, log_to_driver=False, include_dashboard=False)
            except (ConnectionError, RuntimeError, TimeoutError) as e:  # something answered, but not a Ray head
                raise RayUnreachable(f"--ray {self.ray_address}: {' '.join(str(e).split())[:300]}") from None
            self._ray_started = True
        task = ray.remote(_rows_task)
        park = ray.put(self.park)
        spans = [(a, min(a + self.chunk, len(masks))) for a in range(0, len(masks), self.chunk)]
        refs = [task.remote(park, masks[a:b]) for a, b in spans]
        futures = [r.future() for r in refs]
        return self._gather(futures, spans, labels)


RAY_CONNECT_TIMEOUT_S = 10.0  # a cluster's head answers a TCP connect at once; silence this long means none is there


def check_ray(address: str | None, timeout_s: float = RAY_CONNECT_TIMEOUT_S) -> None:
    """Refuse, within ``timeout_s``, a Ray address where nothing answers (``ray.init`` would wait for minutes).

    ``auto``/``local`` (or None) are left to Ray, which finds or starts a local cluster itself.
    """
    import socket

    if address in (None, "", "auto", "local"):
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise RayUnreachable(f"--ray {address!r}: give HOST:PORT of the cluster's head (or ray://HOST:PORT, auto)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError as e:
        why = "no answer" if isinstance(e, TimeoutError) else (e.strerror or str(e))
        raise RayUnreachable(f"--ray {address}: no Ray cluster answers ({why} within {timeout_s:g} s)") from None
