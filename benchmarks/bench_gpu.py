"""Epoch time on a GPU (PyTorch CUDA or CuPy arrays, Array API dispatch) against the compiled CPU kernel.

For ``solver='batch'`` and ``solver='minibatch'`` with ``batch_size=4096``,
float32 data of ``--rows`` x ``--features`` (10,000,000 x 100 by default,
4 GB) is generated on the device; the same values, copied to the host, are
fitted with NumPy arrays by the compiled kernels. Each prints the epoch time
on the device, on the CPU, and their ratio (CPU / device: the speed-up), the
median of ``--repeats``. An epoch's time is that of a fit of ``1 + E`` epochs
minus that of a fit of one epoch, divided by ``E`` (``--epochs``), so that
set-up cancels. The fits use a constant step (``eta0=1e-3``), no stopping
rule, and shuffle every epoch (the order drawn on the host, as for NumPy, and
moved to the device).

Without a GPU it says so and exits 0. ``--device cpu`` runs the device side
with PyTorch on the CPU instead, at a small ``--rows``, to check the script end
to end (its ratio says nothing about a GPU).

Usage: ``python benchmarks/bench_gpu.py [--rows 10000000] [--features 100] [--repeats 3] [--epochs 2]
[--device cuda|cupy|cpu]``
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before SciPy is imported: scikit-learn's dispatch needs it

import sklearn  # noqa: E402

from skgd import GDRegressor  # noqa: E402

SOLVERS = {"batch": dict(solver="batch"), "minibatch 4096": dict(solver="minibatch", batch_size=4096)}
SHARED = dict(learning_rate="constant", eta0=1e-3, tol=None, random_state=0)


def _backend(requested):
    """``(name, make_data, to_numpy, synchronize)`` for the device asked for or found; None if none."""
    try:
        import torch
    except ImportError:
        torch = None
    if requested in (None, "cuda") and torch is not None and torch.cuda.is_available():
        return _torch_backend(torch, "cuda")
    if requested in (None, "cupy"):
        try:
            import cupy
            if cupy.cuda.runtime.getDeviceCount() > 0:
                return _cupy_backend(cupy)
        except Exception:  # no CuPy, or no device: nothing to measure on
            pass
    if requested == "cpu" and torch is not None:
        return _torch_backend(torch, "cpu")
    return None


def _torch_backend(torch, device):
    def make_data(n, d):
        generator = torch.Generator(device=device).manual_seed(0)
        X = torch.randn(n, d, device=device, dtype=torch.float32, generator=generator)
        w = torch.linspace(-1.0, 1.0, d, device=device, dtype=torch.float32)
        y = X @ w + 3.0 + 0.5 * torch.randn(n, device=device, dtype=torch.float32, generator=generator)
        return X, y

    def synchronize():
        if device == "cuda":
            torch.cuda.synchronize()

    name = torch.cuda.get_device_name() if device == "cuda" else "PyTorch on the CPU (not a GPU)"
    return f"torch {torch.__version__}, {name}", make_data, lambda a: a.cpu().numpy(), synchronize


def _cupy_backend(cupy):
    def make_data(n, d):
        rng = cupy.random.default_rng(0)
        X = rng.standard_normal((n, d), dtype=cupy.float32)
        w = cupy.linspace(-1.0, 1.0, d, dtype=cupy.float32)
        y = X @ w + 3.0 + 0.5 * rng.standard_normal(n, dtype=cupy.float32)
        return X, y

    name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    return f"cupy {cupy.__version__}, {name}", make_data, cupy.asnumpy, cupy.cuda.Device().synchronize


def _fit_time(params, X, y, epochs, synchronize):
    synchronize()
    started = time.perf_counter()
    GDRegressor(max_iter=epochs, **params).fit(X, y)
    synchronize()
    return time.perf_counter() - started


def _epoch_time(params, X, y, epochs, repeats, synchronize):
    times = []
    for _ in range(repeats):
        one = _fit_time(params, X, y, 1, synchronize)
        many = _fit_time(params, X, y, 1 + epochs, synchronize)
        times.append((many - one) / epochs)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--device", choices=["cuda", "cupy", "cpu"], default=None)
    args = parser.parse_args()
    backend = _backend(args.device)
    if backend is None:
        print("No GPU found (neither PyTorch with CUDA nor CuPy with a device): nothing measured.")
        return 0
    name, make_data, to_numpy, synchronize = backend
    started = time.perf_counter()
    X, y = make_data(args.rows, args.features)
    synchronize()
    X_host, y_host = to_numpy(X), to_numpy(y)
    print(f"Device: {name}. Data: {args.rows:,} x {args.features} float32, generated on the device in "
          f"{time.perf_counter() - started:.1f} s. Median of {args.repeats}, {args.epochs} epochs timed.")
    print()
    print("| solver | device epoch (s) | CPU kernel epoch (s) | CPU / device |")
    print("|---|---|---|---|")
    for label, solver in SOLVERS.items():
        params = {**SHARED, **solver}
        with sklearn.config_context(array_api_dispatch=True):
            GDRegressor(max_iter=1, **params).fit(X[:8192, ...], y[:8192])  # warm-up
            device = _epoch_time(params, X, y, args.epochs, args.repeats, synchronize)
        GDRegressor(max_iter=1, **params).fit(X_host[:8192], y_host[:8192])  # compiles the kernels
        cpu = _epoch_time(params, X_host, y_host, args.epochs, args.repeats, lambda: None)
        print(f"| {label} | {device:.4f} | {cpu:.4f} | {cpu / device:.1f} |", flush=True)
    print(f"\nTotal {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
