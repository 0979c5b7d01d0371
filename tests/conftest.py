"""Test set-up: SciPy's Array API support, which scikit-learn's array_api_dispatch needs.

``SCIPY_ARRAY_API=1`` must be set before SciPy is first imported; the
estimator checks' Array API checks (``check_array_api_input``) and
``tests/test_array_api.py`` run with dispatch on.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")
