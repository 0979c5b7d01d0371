"""scikit-learn's estimator checks over the defaults, every solver x loss, every solver x update rule, and recording.

The minibatch instances use ``batch_size=3``: the checks' data sets have
fewer than 200 rows, so with ``batch_size='auto'`` a mini-batch would be the
whole set and the instance would duplicate the batch one.
``GDPolynomialRegressor`` is checked with its defaults and at degree 3 with
every solver (the sample-weight check then expands 30 features to 5,455
columns).
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skgd import GDPolynomialRegressor, GDRegressor

from skgd._update_rules import RULE_CODES

from _shared import LOSSES, SOLVERS

# Per-sample (sgd) and mini-batch steps see a repeated row as two steps but a
# row of weight 2 as one bigger step, so the paths differ, as with
# scikit-learn's SGDRegressor, which declares the same expected failures.
_STEPWISE_REASON = (
    "per-sample and mini-batch steps see repeated rows as separate steps "
    "(as scikit-learn's SGDRegressor), so weights are not equivalent to repetition"
)
STEPWISE_EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": _STEPWISE_REASON,
    "check_sample_weight_equivalence_on_sparse_data": _STEPWISE_REASON,
}
# Full-batch AdaGrad, RMSProp and Adam divide each coordinate's gradient by
# its own running size, so rounding-level differences between the weighted
# and the repeated data (the checks' 15 rows of 30 features are rank
# deficient) grow, and the two fits stop apart by about 1e-6 in the
# predictions, where the check asks for 1e-7; whether a given rule lands
# within it depends on rounding. scikit-learn runs this check on MLPRegressor
# only with solver='sgd' for the same reason. Not strict: it may pass.
_ADAPTIVE_REASON = (
    "full-batch adaptive rules amplify rounding differences between weighted "
    "and repeated rows of rank-deficient data to ~1e-6 of the predictions"
)
ADAPTIVE_BATCH_EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": _ADAPTIVE_REASON,
    "check_sample_weight_equivalence_on_sparse_data": _ADAPTIVE_REASON,
}
ADAPTIVE_RULES = ("adagrad", "rmsprop", "adam")
MINIBATCH_SIZE = 3


def _instance(solver, loss="squared_error", **params):
    extra = {"batch_size": MINIBATCH_SIZE} if solver == "minibatch" else {}
    return GDRegressor(solver=solver, loss=loss, random_state=0, **extra, **params)


def _polynomial(solver):
    extra = {"batch_size": MINIBATCH_SIZE} if solver == "minibatch" else {}
    return GDPolynomialRegressor(degree=3, solver=solver, random_state=0, **extra)


RULES = [_instance(s, optimizer=rule) for s in SOLVERS for rule in RULE_CODES if rule != "plain"]
AVERAGED = [_instance(s, average=True) for s in SOLVERS]
RECORDING = [_instance(s, store_path="step") for s in SOLVERS]
LINEAR = [GDRegressor()] + [_instance(s, loss) for s in SOLVERS for loss in LOSSES] + RULES + AVERAGED + RECORDING
# checked apart, their expected failures not strict (see _ADAPTIVE_REASON)
ADAPTIVE_BATCH = [e for e in RULES if e.solver == "batch" and e.optimizer in ADAPTIVE_RULES]
POLYNOMIAL = [GDPolynomialRegressor()] + [_polynomial(s) for s in SOLVERS]
ESTIMATORS = [e for e in LINEAR if e not in ADAPTIVE_BATCH] + POLYNOMIAL


def _is_default(estimator):
    return estimator.get_params() == type(estimator)().get_params()


def _expected_failed_checks(estimator):
    """Only the non-default sgd/minibatch instances may fail, and only these two checks."""
    if not _is_default(estimator) and estimator.solver in ("sgd", "minibatch"):
        return dict(STEPWISE_EXPECTED_FAILURES)
    return {}


def test_estimator_list_covers_every_solver_loss_and_rule():
    combos = {(e.solver, e.loss) for e in LINEAR[1:]}
    assert combos == {(s, loss) for s in SOLVERS for loss in LOSSES}
    assert {(e.solver, e.optimizer) for e in LINEAR} == {(s, r) for s in SOLVERS for r in RULE_CODES}
    assert {e.solver for e in AVERAGED} == set(SOLVERS)
    assert {e.solver for e in RECORDING} == set(SOLVERS)
    assert {e.solver for e in POLYNOMIAL[1:]} == set(SOLVERS)
    for default in (LINEAR[0], POLYNOMIAL[0]):
        assert _is_default(default)
        assert _expected_failed_checks(default) == {}
    for estimator in LINEAR[1:] + POLYNOMIAL[1:]:
        expected = _expected_failed_checks(estimator)
        if estimator.solver == "batch":
            assert expected == {}
        else:
            assert set(expected) == set(STEPWISE_EXPECTED_FAILURES)
    assert {e.optimizer for e in ADAPTIVE_BATCH} == set(ADAPTIVE_RULES)
    assert len(ESTIMATORS) + len(ADAPTIVE_BATCH) == len(LINEAR + POLYNOMIAL)


# xfail_strict: a declared failure that starts passing must be noticed.
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks, xfail_strict=True)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@parametrize_with_checks(ADAPTIVE_BATCH, expected_failed_checks=lambda e: ADAPTIVE_BATCH_EXPECTED_FAILURES,
                         xfail_strict=False)
def test_sklearn_compatible_estimator_full_batch_adaptive_rules(estimator, check):
    check(estimator)
