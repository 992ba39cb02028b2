"""Snapshots evaluated apart, one task per snapshot: in worker processes (`--jobs N`) or
on a Dask cluster (`--executor dask`), merged into a report identical to the one a
single process makes.

The parent loads and checks the policies once, so that a bad policy stops the run before
any work is sent, and ships the compiled plan, pickled, to every worker, which unpickles
it once. A worker therefore needs neither the policy files nor the parse-table cache
(a remote Dask worker may have neither), and `--param`/`--params` apply exactly as in
the parent. A task reads its input with the importers, builds the store, evaluates,
traces the fail and error outcomes and fingerprints them, and returns the snapshot's
part encoded by `wire`. The parent decodes the parts in the order the snapshots were
given and applies waivers and the baseline across them, as in one process.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import pickle
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from policyengine.core import collector, plan
from policyengine.core.errors import InputError, Problem, UsageError
from policyengine.core.version import DISTRIBUTION
from policyengine.inputs import importers
from policyengine.inputs.reads import attributes_read
from policyengine.pipeline import wire
from policyengine.pipeline.reading import Reading
from policyengine.results.report import Part, evaluate_snapshot

DASK_EXTRA = f"pip install '{DISTRIBUTION}[dask]'"


@dataclass(frozen=True)
class Task:
    path: str
    reading: Reading
    stdin: str | None = None  # for `-`: the text the parent read from its stdin


@dataclass(frozen=True)
class Done:
    """What a task returns: plain values, whatever the executor."""

    path: str
    detected: str = ""  # how the input was read, for --verbose
    part: bytes = b""  # the snapshot's part, encoded by `wire`
    problems: tuple[Problem, ...] = ()  # why the input is not valid
    missing: str = ""  # a path that names nothing: a usage error


@dataclass(frozen=True)
class Shipped:
    """The compiled plan as workers receive it."""

    digest: str
    data: bytes

    @classmethod
    def of(cls, compiled: plan.Plan) -> Shipped:
        data = pickle.dumps(compiled, protocol=pickle.HIGHEST_PROTOCOL)
        return cls(hashlib.sha256(data).hexdigest(), data)


# A worker's plans, unpickled once each (a Dask worker may serve several runs).
_PLANS: dict[str, plan.Plan] = {}
_INSTALLED: list[str] = []  # the plan of this local worker process


def _plan(shipped: Shipped) -> plan.Plan:
    found = _PLANS.get(shipped.digest)
    if found is None:
        found = _PLANS[shipped.digest] = pickle.loads(shipped.data)
    return found


def run_task(task: Task, compiled: plan.Plan) -> Done:
    """One snapshot, start to end, wherever it runs."""
    reading = task.reading
    reads = attributes_read(compiled)
    try:
        read = importers.read(
            Path(task.path),
            reading.format,
            compiled.model,
            importers.Options(reading.region, reading.tf_dir),
            stdin=task.stdin,
            reads=reads,
        )
    except importers.MissingInput as exc:
        return Done(task.path, missing=str(exc))
    except InputError as exc:
        return Done(task.path, problems=tuple(exc.problems))
    detected = f"{read.detected}\n  {read.converted.summary}"
    with collector.paused():  # as in one process: the loaded data holds no cycles
        try:
            store = importers.to_store(read.snapshot, compiled.model, reading.now, reads)
        except InputError as exc:
            return Done(task.path, detected, problems=tuple(exc.problems))
        return Done(task.path, detected, wire.encode(evaluate_snapshot(compiled, store), compiled))


def run_shipped(task: Task, shipped: Shipped) -> Done:
    """A task on a Dask worker: the plan arrives with it (scattered once per worker)."""
    return run_task(task, _plan(shipped))


def _install(shipped: Shipped) -> None:
    _INSTALLED[:] = [shipped.digest]
    _plan(shipped)


def _run_installed(task: Task) -> Done:
    return run_task(task, _PLANS[_INSTALLED[0]])


def run_local(compiled: plan.Plan, tasks: Sequence[Task], jobs: int) -> list[Done]:
    """The tasks in `jobs` worker processes; results in the order of the tasks."""
    # fork starts a worker at once, with everything imported, but is safe only in a
    # process with one thread; otherwise each worker starts afresh.
    methods = multiprocessing.get_all_start_methods()
    method = "fork" if "fork" in methods and threading.active_count() == 1 else "spawn"
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(tasks)),
        mp_context=multiprocessing.get_context(method),
        initializer=_install,
        initargs=(Shipped.of(compiled),),
    ) as pool:
        return list(pool.map(_run_installed, tasks))


def run_dask(
    compiled: plan.Plan, tasks: Sequence[Task], scheduler: str, timeout: float
) -> list[Done]:
    """The tasks on the Dask cluster whose scheduler is at `scheduler`; results in the
    order of the tasks. The workers need policyengine installed, and the snapshot paths
    must name the same files on them (a shared file system or object store mount)."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(f"--executor dask needs Dask distributed: {DASK_EXTRA}") from None
    try:
        client = Client(scheduler, timeout=timeout, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise UsageError(
            f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
            f"(--scheduler-timeout): {exc}"
        ) from None
    with client:
        shipped = client.scatter(Shipped.of(compiled), broadcast=True)  # type: ignore[no-untyped-call]
        futures = client.map(run_shipped, list(tasks), shipped=shipped, pure=False)
        done: list[Done] = client.gather(futures)  # type: ignore[no-untyped-call]
    return done


def collect(
    compiled: plan.Plan, done: Sequence[Done], echo: Callable[[str], None] | None = None
) -> list[Part]:
    """The parts of finished tasks, in order, reported as reading them one by one would
    be: a path that names nothing stops at once, and every input's problems are reported
    together. `echo` receives each --verbose line."""
    problems: list[Problem] = []
    for d in done:
        if d.missing:
            raise UsageError(d.missing)
        if d.detected and echo is not None:
            echo(d.detected)
        problems.extend(d.problems)
    if problems:
        raise InputError(problems)
    with collector.paused():
        parts = [wire.decode(d.part, compiled) for d in done]
    gc.freeze()  # as in one process: what was loaded lives to the end
    return parts


def tasks_for(paths: Sequence[Path], reading: Reading, read_stdin: Callable[[], str]) -> list[Task]:
    """One task per snapshot; `-` is read here, once, as one process would read it."""
    out: list[Task] = []
    stdin_read = False
    for path in paths:
        text = None
        if str(path) == "-":
            text = "" if stdin_read else read_stdin()  # a second `-` finds stdin drained
            stdin_read = True
        out.append(Task(str(path), reading, text))
    return out
