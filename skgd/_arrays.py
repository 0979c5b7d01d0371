"""Arrays as the compiled kernels take them, so that each dtype is compiled for once.

numba compiles a kernel for each type of its arguments, and an array's type
includes its memory layout and whether it is writeable: a read-only array
(as pandas hands out, ``Series.to_numpy()``), a Fortran-ordered one or a
strided view would each compile every kernel again, seconds each time. The
estimators therefore hand the kernels their data C-ordered (which
``validate_data(..., order="C")`` ensures, copying only data that is not)
and through a read-only view (which copies nothing): one type per dtype,
whatever the caller's array.
"""

import numpy as np


def kernel_array(array):
    """``array`` C-ordered (copied only if it is not) and seen through a read-only view.

    Parameters
    ----------
    array : ndarray
        Validated data, ``X`` or ``y``.

    Returns
    -------
    view : ndarray
        A C-contiguous, read-only array with the values of ``array``.
    """
    view = np.ascontiguousarray(array).view()
    view.flags.writeable = False
    return view
