"""Running a compiled kernel over ranges of blocks on several cores.

The kernels release the GIL (``nogil=True``), so plain Python threads run them
in parallel. Unlike numba's ``parallel=True``, this needs no threading layer:
it is safe to use from several threads at once and after ``fork``. The number
of threads follows scikit-learn's convention for its own OpenMP code: the
usable cores, limited by ``OMP_NUM_THREADS`` and ``threadpoolctl``.
"""

import os
from concurrent.futures import ThreadPoolExecutor

from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from threadpoolctl import ThreadpoolController

_pool = None
_pool_owner = None
_controller = None


def n_threads():
    """How many threads a parallel kernel may use."""
    return max(1, _openmp_effective_n_threads())


def run_over_blocks(kernel, n_blocks, parallel):
    """Call ``kernel(first, last)`` over ranges covering ``range(n_blocks)``.

    With ``parallel``, each thread takes one contiguous range; the kernel
    must write each block's result apart, so that the outcome does not depend
    on the number of threads.
    """
    threads = min(n_threads(), n_blocks) if parallel else 1
    if threads == 1:
        kernel(0, n_blocks)
        return
    bounds = [n_blocks * k // threads for k in range(threads + 1)]
    futures = [_executor().submit(kernel, first, last) for first, last in zip(bounds[:-1], bounds[1:])]
    for future in futures:
        future.result()


def _executor():
    """The process's thread pool (a new one after ``fork``, which keeps no threads)."""
    global _pool, _pool_owner
    if _pool is None or _pool_owner != os.getpid():
        _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="skgd")
        _pool_owner = os.getpid()
    return _pool


def one_blas_thread():
    """A context in which BLAS runs on one thread.

    A threaded BLAS splits a matrix product differently for different
    numbers of threads, which changes its last bits; the products a fit's
    result depends on run in this context, so that the fit does not depend
    on the thread count.
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
