"""skgd.plotting: the drawn data is the estimators' own."""

import numpy as np
import pytest

from skgd import GDPolynomialRegressor, GDRegressor
from skgd.plotting import LossCurveDisplay

from _shared import SOLVERS, make_regression_data

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("Estimator", [GDRegressor, GDPolynomialRegressor])
@pytest.mark.parametrize("solver", SOLVERS)
def test_loss_curve_display_draws_loss_curve(Estimator, solver):
    X, y = make_regression_data()
    model = Estimator(solver=solver, random_state=0).fit(X, y)
    display = LossCurveDisplay.from_estimator(model)
    (line,) = display.lines_
    np.testing.assert_array_equal(line.get_ydata(), model.loss_curve_)
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, model.n_iter_ + 1))
    assert display.ax_.get_xlabel() == "epoch"
    assert display.figure_ is display.ax_.figure
    assert display.validation_ax_ is None and display.validation_lines_ == []
    assert display.ax_.get_legend() is None


def test_loss_curve_display_of_several_estimators_on_one_axes():
    X, y = make_regression_data()
    models = [GDRegressor(solver=s, random_state=0).fit(X, y) for s in SOLVERS]
    _, ax = plt.subplots()
    display = LossCurveDisplay.from_estimators(models, ax=ax, log_scale=True)
    assert display.ax_ is ax
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in display.lines_] == [f"solver={s!r}" for s in SOLVERS]
    for line, model in zip(display.lines_, models):
        np.testing.assert_array_equal(line.get_ydata(), model.loss_curve_)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == [f"solver={s!r}" for s in SOLVERS]


def test_loss_curve_display_labels_several_differing_parameters():
    X, y = make_regression_data()
    models = [GDRegressor(learning_rate="constant", eta0=eta, max_iter=30, tol=None).fit(X, y)
              for eta in (0.001, 0.01, 0.1)]
    display = LossCurveDisplay.from_estimators(models, labels=None)
    assert [line.get_label() for line in display.lines_] == ["eta0=0.001", "eta0=0.01", "eta0=0.1"]
    custom = LossCurveDisplay.from_estimators(models, labels=["slow", "better", "fast"])
    assert [line.get_label() for line in custom.lines_] == ["slow", "better", "fast"]


def test_loss_curve_display_draws_validation_scores_on_a_second_axis():
    X, y = make_regression_data(n_samples=200)
    model = GDRegressor(early_stopping=True, random_state=0).fit(X, y)
    display = LossCurveDisplay.from_estimator(model, label="early stopping")
    (validation,) = display.validation_lines_
    np.testing.assert_array_equal(validation.get_ydata(), model.validation_scores_)
    assert validation.axes is display.validation_ax_ is not display.ax_
    assert validation.get_color() == display.lines_[0].get_color()
    hidden = LossCurveDisplay.from_estimator(model, show_validation=False)
    assert hidden.validation_ax_ is None


def test_loss_curve_display_needs_fitted_estimators_and_matching_lengths():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(GDRegressor())
    with pytest.raises(ValueError, match="2 loss curves, 1 labels"):
        LossCurveDisplay(loss_curves=[[1.0], [2.0]], labels=["a"]).plot()


def test_missing_matplotlib_gives_scikit_learns_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="LossCurveDisplay.plot requires matplotlib"):
        LossCurveDisplay(loss_curves=[[1.0, 0.5]]).plot()


def test_demo_saves_the_loss_curves_of_the_three_solvers(tmp_path, capsys):
    from skgd.__main__ import main

    png = tmp_path / "curves.png"
    main(png)
    assert png.stat().st_size > 10_000
    assert str(png.resolve()) in capsys.readouterr().out
