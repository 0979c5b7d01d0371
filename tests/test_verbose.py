"""``verbose``: nothing at 0, one line per epoch at 1 (as SGDRegressor), details and events at 2."""

import re

import pytest

from skgd import GDRegressor

from _shared import SOLVERS, make_regression_data

EPOCH_LINE = re.compile(
    r"^-- Epoch (\d+): objective (\S+), step (\S+), updates (\d+), time \d+\.\d{3} s(, validation R2 \S+)?$"
)


@pytest.mark.parametrize("solver", SOLVERS)
def test_verbose_zero_prints_nothing(solver, capsys):
    X, y = make_regression_data()
    GDRegressor(solver=solver, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("solver", SOLVERS)
def test_verbose_one_prints_a_line_per_epoch(solver, capsys):
    X, y = make_regression_data()
    model = GDRegressor(solver=solver, verbose=1, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    epochs = [EPOCH_LINE.match(line) for line in lines[:-1]]
    assert all(epochs) and len(epochs) == model.n_iter_
    assert [int(m.group(1)) for m in epochs] == list(range(1, model.n_iter_ + 1))
    assert [float(m.group(2)) for m in epochs] == pytest.approx(model.loss_curve_, rel=1e-5)
    assert int(epochs[-1].group(4)) == model.t_
    assert lines[-1].startswith(f"Convergence after {model.n_iter_} epochs took ")


def test_verbose_one_shows_the_validation_score(capsys):
    X, y = make_regression_data(n_samples=200)
    model = GDRegressor(early_stopping=True, verbose=1, random_state=0).fit(X, y)
    scores = [float(line.rsplit(" ", 1)[1]) for line in capsys.readouterr().out.splitlines()
              if "validation R2" in line]
    assert scores == pytest.approx(model.validation_scores_, abs=1e-4)


def test_verbose_two_shows_details_and_events(capsys):
    X, y = make_regression_data(n_samples=300, n_features=5, intercept=200.0)
    model = GDRegressor(solver="minibatch", optimizer="nesterov", momentum=0.99, verbose=2,
                        random_state=0).fit(X + 100.0, y)
    out = capsys.readouterr().out
    assert out.count("-- Epoch") == model.n_iter_
    assert out.count("   norm ") == model.n_iter_
    assert "velocity restarted" in out
    assert "step divided by 5" in out
