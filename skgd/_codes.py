"""Tuples whose numba type tells their code, so that a kernel compiles only the arithmetic it runs.

The kernels take a loss, a schedule and an update rule as tuples that begin
with an integer code. In a plain tuple the code is known only when the kernel
runs, so the kernel is compiled with every loss's (schedule's, rule's)
branch, and compiling them is most of what a first fit costs. The losses and
the rules (not the schedules) reach the kernels as tuples of a namedtuple
class of their own code (see :func:`coded_classes`), which carry the code in
their numba type instead: a kernel is compiled once per code it meets, and
the overloads that read the code from the type (:func:`static_code`) compile
only that code's arithmetic. Such a tuple compares equal to the plain one,
and plain tuples still work, compiled with every branch.
"""

from collections import namedtuple

from numba import types

# The code of each registered class.
_CODES = {}


def coded_classes(names, fields, module):
    """One namedtuple class per code, ``names[code]``, defined in ``module`` (assign them there, for pickling)."""
    classes = tuple(namedtuple(name, fields, module=module) for name in names)
    _CODES.update((cls, code) for code, cls in enumerate(classes))
    return classes


def coded(classes, values):
    """The tuple ``values`` as an instance of its code's class (``classes[values[0]]``)."""
    return classes[values[0]](*values)


def static_code(tuple_type):
    """The code fixed by a tuple's numba type (a class of :func:`coded_classes`, or a literal first item), else None."""
    if isinstance(tuple_type, types.BaseNamedTuple) and tuple_type.instance_class in _CODES:
        return _CODES[tuple_type.instance_class]
    first = tuple_type.types[0] if isinstance(tuple_type, types.BaseTuple) else None
    return first.literal_value if isinstance(first, types.IntegerLiteral) else None
