"""What a first fit costs in a fresh environment: fresh processes, empty numba cache.

For each solver, times a fresh Python process that imports skgd, loads
scikit-learn's diabetes data and runs the first ``GDRegressor(solver=s).fit``
with ``NUMBA_CACHE_DIR`` pointing at a new, empty folder (so every kernel the
fit needs is compiled), against a fresh process that imports scikit-learn and
fits ``SGDRegressor`` on the same data. The processes alternate (baseline,
then each solver, repeated), so that a change of machine load hits all
alike, and the table gives medians of ``--repeats`` runs (3 by default) of
the whole process's wall time, and their ratio to the baseline. A last
column times the same fit in a fresh process whose cache is already filled
(the cost of every later first fit). Nothing is asserted: the script prints
what it measured.

Usage::

    python benchmarks/bench_cold_start.py [--repeats 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

SOLVERS = ("batch", "minibatch", "sgd")

SCRIPT = """
import warnings
from sklearn.datasets import load_diabetes
X, y = load_diabetes(return_X_y=True)
warnings.simplefilter("ignore")
if {solver!r} == "SGDRegressor":
    from sklearn.linear_model import SGDRegressor
    SGDRegressor(random_state=0).fit(X, y)
else:
    from skgd import GDRegressor
    GDRegressor(solver={solver!r}, random_state=0).fit(X, y)
"""


def run(solver, cache_dir):
    """Wall time of one fresh process fitting ``solver`` with the numba cache in ``cache_dir``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    # Run from the temporary folder, so that a clone's source tree is not imported in place of skgd.
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", SCRIPT.format(solver=solver)], env=env, cwd=cache_dir, check=True)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per row (default 3)")
    repeats = parser.parse_args().repeats
    cold = {name: [] for name in ("SGDRegressor", *SOLVERS)}
    warm = {solver: [] for solver in SOLVERS}
    for _ in range(repeats):
        for name in cold:
            with tempfile.TemporaryDirectory() as cache_dir:
                cold[name].append(run(name, cache_dir))
                if name in warm:
                    warm[name].append(run(name, cache_dir))
    baseline = statistics.median(cold["SGDRegressor"])
    print(f"Fresh process, diabetes, median of {repeats}; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    print("| process | empty cache (s) | ratio to SGDRegressor | filled cache (s) |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| SGDRegressor | {baseline:.2f} | 1.00 | |")
    for solver in SOLVERS:
        seconds = statistics.median(cold[solver])
        print(f"| GDRegressor(solver={solver!r}) | {seconds:.2f} | {seconds / baseline:.2f} "
              f"| {statistics.median(warm[solver]):.2f} |")


if __name__ == "__main__":
    main()
