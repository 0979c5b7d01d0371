"""Dask arrays: epoch time on a LocalCluster against in memory, Incremental against native, out of core.

Default run (``--rows 10000000``, 10 features, float64, blocks of
``--chunk-rows``, 100 MB by default), on a ``LocalCluster`` of 2 worker processes (one thread
each) on loopback:

1. Batch epoch time on the cluster over the in-memory epoch time of the
   same rows (the array computed into this process): the median of the
   epoch times that fits with ``learning_rate='constant'``, ``tol=None``
   and ``verbose=1`` report (``--epochs`` after the first, in each of
   ``--repeats`` fits); the cluster's blocks are persisted first.
2. ``dask_ml.wrappers.Incremental(SGDRegressor())`` (one pass of
   ``partial_fit`` over the blocks) against skgd's native
   ``solver='minibatch'`` for one epoch (``max_iter=1``, ``'auto'``), over
   the same persisted dask array; skipped with a message if dask-ml is not
   installed.

It prints how many blocks of ``X`` each worker held as persisted (the
scheduler's choice; skgd balances them over the workers, see ``_dask``).
``--on-one-worker`` persists every block on one worker (the worst placement);
``--workers`` and ``--threads-per-worker`` shape the cluster (2 and 1).
The in-memory and cluster fits alternate, so that both see the same load.
The in-memory passes use this machine's threads (``skgd._parallel.n_threads``,
asked before the cluster starts: a ``LocalCluster``'s nannies set
``OMP_NUM_THREADS=1`` in the environment of the process that starts them,
which before this fix left the in-memory reference on one thread).

``--overhead``: what a batch epoch costs beyond its arithmetic, on the same
2-worker cluster: the median epoch time over 8 persisted blocks of 1,000
rows (where the passes take microseconds), against the median times of the
smallest round trips the cluster can make, in the same run: two no-op
``Client.submit`` calls, gathered (a task per worker, as the passes made
before), and two no-op calls to actors, one on each worker (as the passes
make now, see ``_dask.Share``).

``--out-of-core``: 2 worker processes limited to 1 GiB each, a lazily
generated X of ``--gib`` GiB (``dask.array.random``, 10 features, y a
linear function of it plus noise), too large to persist: every pass
generates the blocks again. Fits it with ``'batch'`` (``--epochs``) and
``'minibatch'`` (``--loss``, ``squared_error`` by default; a robust loss
finds the weighted median of y blockwise), and prints each fit's time, the client's RSS before and
its peak during the fit (sampled every 50 ms), and the R² on the training
rows.

Timings are printed, never asserted; they move with the machine.

Usage: ``python benchmarks/bench_dask.py [--rows N] [--repeats 3] [--on-one-worker]`` or
``python benchmarks/bench_dask.py --overhead`` or
``python benchmarks/bench_dask.py --out-of-core [--gib 4] [--epochs 3] [--loss huber]``
"""

import argparse
import contextlib
import io
import os
import re
import threading
import time

import numpy as np
import psutil

N_FEATURES = 10


def _cluster(n_workers=2, threads_per_worker=1, **options):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                           host="127.0.0.1", dashboard_address=None, **options)
    return cluster, Client(cluster)


def _data(n_rows, chunk_rows, seed=0):
    import dask.array as da

    state = da.random.RandomState(seed)
    X = state.random_sample((n_rows, N_FEATURES), chunks=(chunk_rows, N_FEATURES))
    y = X @ np.linspace(-2.0, 3.0, N_FEATURES) + 1.0 + 0.1 * state.standard_normal(n_rows, chunks=chunk_rows)
    return X, y


def _fit_seconds(X, y, max_iter, **params):
    from skgd import GDRegressor

    started = time.perf_counter()
    GDRegressor(max_iter=max_iter, tol=None, random_state=0, **params).fit(X, y)
    return time.perf_counter() - started


def _epoch_times(X, y, epochs, **params):
    """The epoch times a fit reports (``verbose=1``), its first epoch left out."""
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        _fit_seconds(X, y, 1 + epochs, verbose=1, **params)
    return [float(seconds) for seconds in re.findall(r"time ([0-9.]+) s", report.getvalue())[1:]]


def _epoch_seconds(X, y, epochs, repeats, **params):
    """Median of the epoch times of ``repeats`` fits (see :func:`_epoch_times`)."""
    return float(np.median([time for _ in range(repeats) for time in _epoch_times(X, y, epochs, **params)]))


def speed(args):
    import dask
    from distributed import wait

    from skgd._parallel import n_threads

    # before the cluster: its nannies set OMP_NUM_THREADS=1 in this process's environment (for the worker processes
    # they spawn), and OpenMP, first asked after that, would give the in-memory passes one thread
    threads = n_threads()
    cluster, client = _cluster(args.workers, args.threads_per_worker)
    try:
        X, y = _data(args.rows, args.chunk_rows)
        workers = sorted(client.nthreads())
        X, y = client.persist([X, y], workers=workers[:1]) if args.on_one_worker else dask.persist(X, y)
        wait(X)
        holders = [held[0] for held in client.who_has(X).values()]
        print("blocks of X on each worker as persisted:", sorted(holders.count(w) for w in workers), "\n")
        X_local, y_local = dask.compute(X, y)
        params = dict(solver="batch", learning_rate="constant", eta0=0.01)
        _fit_seconds(X_local[:1000], y_local[:1000], 2, **params)  # compile
        _fit_seconds(X, y, 2, **params)  # compile on the workers
        local, distributed = [], []
        for _ in range(args.repeats):  # alternated, so that both see the same load
            local += _epoch_times(X_local, y_local, args.epochs, **params)
            distributed += _epoch_times(X, y, args.epochs, **params)
        local, distributed = float(np.median(local)), float(np.median(distributed))
        assert n_threads() == threads, "the in-memory passes must keep this machine's threads"
        print(f"## Batch epoch, {args.rows:,} x {N_FEATURES}, blocks of {args.chunk_rows:,} rows, "
              f"{os.cpu_count()} cores (in memory: {threads} threads), median of {args.repeats} fits x {args.epochs} "
              "epochs each, alternated\n")
        cluster_name = f"LocalCluster, {args.workers} workers x {args.threads_per_worker} threads"
        print(f"| in memory (s) | {cluster_name} (s) | ratio |\n| --- | --- | --- |")
        print(f"| {local:.3f} | {distributed:.3f} | {distributed / local:.2f} |\n")
        del X_local, y_local
        incremental(X, y, args.repeats)
    finally:
        client.close()
        cluster.close()


def incremental(X, y, repeats):
    try:
        from dask_ml.wrappers import Incremental
    except ImportError:
        print("dask-ml is not installed: Incremental(SGDRegressor()) skipped (pip install dask-ml).")
        return
    import dask
    from sklearn.linear_model import SGDRegressor

    from skgd import GDRegressor

    def time_of(fit):
        times = []
        for seed in range(repeats):  # a new seed each time: dask-ml's graph keys depend on it
            started = time.perf_counter()
            model = fit(seed)
            times.append(time.perf_counter() - started)
        # R² computed here: dask-ml's r2_score fails on this dask version
        predictions = model.predict(X)
        error, total = dask.compute(((y - predictions) ** 2).sum(), ((y - y.mean()) ** 2).sum())
        return float(np.median(times)), 1.0 - error / total

    GDRegressor(solver="minibatch", max_iter=1, tol=None).fit(X[:1000], y[:1000])  # compile
    native, native_r2 = time_of(lambda seed: GDRegressor(solver="minibatch", max_iter=1, tol=None,
                                                         random_state=seed).fit(X, y))
    wrapped, wrapped_r2 = time_of(lambda seed: Incremental(SGDRegressor(random_state=seed),
                                                           random_state=seed).fit(X, y))
    print(f"## One pass over the same dask array ({X.shape[0]:,} x {X.shape[1]}), median of {repeats}\n")
    print("| | time (s) | R² | time / skgd's |\n| --- | --- | --- | --- |")
    print(f"| skgd GDRegressor(solver='minibatch', max_iter=1) | {native:.2f} | {native_r2:.4f} | 1 |")
    print(f"| Incremental(SGDRegressor()) | {wrapped:.2f} | {wrapped_r2:.4f} | {wrapped / native:.2f} |")


def _no_op():
    return None


class _NoOp:
    def call(self):
        return None


def overhead(args):
    import dask

    cluster, client = _cluster()
    try:
        X, y = dask.persist(*_data(8_000, 1_000))
        params = dict(solver="batch", learning_rate="constant", eta0=0.01)
        _fit_seconds(X, y, 2, **params)  # compile on the workers
        epoch = _epoch_seconds(X, y, 20, args.repeats, **params)
        actors = [client.submit(_NoOp, workers=[worker], actor=True).result() for worker in sorted(client.nthreads())]
        submits, calls = [], []
        for _ in range(20 * args.repeats):  # alternated
            started = time.perf_counter()
            client.gather([client.submit(_no_op, pure=False) for _ in range(2)])
            submits.append(time.perf_counter() - started)
            started = time.perf_counter()
            [call.result() for call in [actor.call() for actor in actors]]
            calls.append(time.perf_counter() - started)
        submit, call = float(np.median(submits)), float(np.median(calls))
        print(f"## Overhead of a batch epoch on 8 blocks of 1,000 rows, 2 workers, {os.cpu_count()} cores\n")
        print("| epoch (ms) | two no-op submits, gathered (ms) | two no-op actor calls (ms) |\n| --- | --- | --- |")
        print(f"| {1e3 * epoch:.1f} | {1e3 * submit:.1f} | {1e3 * call:.1f} |")
    finally:
        client.close()
        cluster.close()


class PeakRSS:
    """The largest RSS of this process while in the context, sampled every 50 ms."""

    def __enter__(self):
        self.process = psutil.Process()
        self.before = self.peak = self.process.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.05)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


def out_of_core(args):
    from skgd import GDRegressor

    cluster, client = _cluster(memory_limit="1GiB")
    try:
        n_rows = int(args.gib * 2**30) // (8 * N_FEATURES)
        X, y = _data(n_rows, args.chunk_rows)
        print(f"## Out of core: X {n_rows:,} x {N_FEATURES} ({X.nbytes / 2**30:.2f} GiB, lazy), "
              f"2 workers of 1 GiB, blocks of {args.chunk_rows:,} rows, loss {args.loss}\n")
        print("| solver | epochs | fit (s) | client RSS before (MB) | client peak RSS growth (MB) | R² |")
        print("| --- | --- | --- | --- | --- | --- |")
        GDRegressor(max_iter=1, tol=None).fit(X[:1000], y[:1000])  # compile here first
        for solver in ("batch", "minibatch"):
            model = GDRegressor(solver=solver, max_iter=args.epochs if solver == "batch" else 1, tol=None,
                                loss=args.loss, random_state=0)
            with PeakRSS() as rss:
                started = time.perf_counter()
                model.fit(X, y)
                seconds = time.perf_counter() - started
            r2 = model.score(X, y)
            print(f"| {solver} | {model.n_iter_} | {seconds:.1f} | {rss.before / 2**20:.0f} | "
                  f"{(rss.peak - rss.before) / 2**20:.1f} | {r2:.4f} |")
    finally:
        client.close()
        cluster.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=1_250_000)  # 100 MB blocks
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out-of-core", action="store_true")
    parser.add_argument("--overhead", action="store_true")
    parser.add_argument("--on-one-worker", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads-per-worker", type=int, default=1)
    parser.add_argument("--gib", type=float, default=4.0)
    parser.add_argument("--loss", default="squared_error")
    args = parser.parse_args()
    if args.out_of_core:
        out_of_core(args)
    elif args.overhead:
        overhead(args)
    else:
        speed(args)


if __name__ == "__main__":
    main()
