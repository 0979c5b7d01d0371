"""skgd.plotting: the drawn data is the estimators' own."""

import numpy as np
import pytest
import scipy.sparse as sp

from skgd import GDPolynomialRegressor, GDRegressor
from skgd.plotting import DescentPathDisplay, LossCurveDisplay, objective_at

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
    assert matplotlib.colors.to_hex(validation.get_color()) != matplotlib.colors.to_hex(display.lines_[0].get_color())
    hidden = LossCurveDisplay.from_estimator(model, show_validation=False)
    assert hidden.validation_ax_ is None


def test_loss_curve_display_needs_fitted_estimators_and_matching_lengths():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(GDRegressor())
    with pytest.raises(ValueError, match="2 loss curves, 1 labels"):
        LossCurveDisplay(loss_curves=[[1.0], [2.0]], labels=["a"]).plot()


def _exact_objective(model, design, y, coef, intercept):
    """J written out: half the mean squared error plus the L2 penalty on the standardised coefficients."""
    scale = model._state.features.to_internal(np.ones_like(coef), 0.0)[0]
    return 0.5 * np.mean((design @ coef + intercept - y) ** 2) + 0.5 * model.alpha * np.sum((coef * scale) ** 2)


@pytest.mark.parametrize("Estimator", [GDRegressor, GDPolynomialRegressor])
@pytest.mark.parametrize("solver", SOLVERS)
def test_descent_path_display_draws_the_path_over_the_exact_objective(Estimator, solver):
    X, y = make_regression_data(n_samples=40, n_features=2)
    model = Estimator(solver=solver, alpha=0.01, random_state=0, store_path="epoch").fit(X, y)
    display = DescentPathDisplay.from_estimator(model, X, y, coefs=(1, "intercept"), grid_resolution=7)
    (line,) = display.lines_
    np.testing.assert_array_equal(line.get_xdata(), model.coef_path_[:, 1])
    np.testing.assert_array_equal(line.get_ydata(), model.intercept_path_)
    # every grid value is the objective written out independently
    design = X if Estimator is GDRegressor else np.column_stack([X[:, 0], X[:, 1], X[:, 0] ** 2,
                                                                X[:, 0] * X[:, 1], X[:, 1] ** 2])
    assert display.objective.shape == (7, 7)
    for i, b in enumerate(display.grid_y):
        for j, w in enumerate(display.grid_x):
            coef = model.coef_.copy()
            coef[1] = w
            np.testing.assert_allclose(display.objective[i, j], _exact_objective(model, design, y, coef, b),
                                       rtol=1e-10)
    # the contours are those of this grid, and the grid covers the path
    assert display.contour_.zmin == display.objective.min() and display.contour_.zmax == display.objective.max()
    assert np.all((display.contour_.levels >= display.objective.min())
                  & (display.contour_.levels <= display.objective.max()))
    assert display.grid_x[0] < model.coef_path_[:, 1].min() and display.grid_x[-1] > model.coef_path_[:, 1].max()
    assert display.ax_.get_xlabel().startswith("coef_[1]") and display.ax_.get_ylabel() == "intercept_"


def test_descent_path_display_of_a_float32_model():
    """A float32 model's surface is computed in float64, by the kernels its fit compiled."""
    X, y = make_regression_data(n_samples=40, n_features=2)
    model = GDRegressor(solver="batch", alpha=0.01, store_path="epoch").fit(X.astype(np.float32), y)
    display = DescentPathDisplay.from_estimator(model, X, y, coefs=(1, "intercept"), grid_resolution=3)
    for i, b in enumerate(display.grid_y):
        for j, w in enumerate(display.grid_x):
            coef = model.coef_.astype(np.float64)
            coef[1] = w
            np.testing.assert_allclose(display.objective[i, j], _exact_objective(model, X, y, coef, b), rtol=1e-10)


@pytest.mark.parametrize("Estimator", [GDRegressor, GDPolynomialRegressor])
@pytest.mark.parametrize("penalty", [None, "l2", "elasticnet"])
def test_objective_at_the_batch_path_is_the_loss_curve(Estimator, penalty):
    """For full-batch descent under 'auto', loss_curve_[k] is J after epoch k: the display's J agrees."""
    X, y = make_regression_data(n_samples=40, n_features=2)
    weights = np.random.RandomState(0).uniform(0.5, 2.0, size=len(y))
    model = Estimator(solver="batch", loss="huber", epsilon=0.5, penalty=penalty, alpha=0.05, max_iter=20,
                      tol=None, store_path="epoch").fit(X, y, sample_weight=weights)
    n_coef = model.coef_.shape[0]
    points = np.column_stack([model.coef_path_, model.intercept_path_])[1:]
    every = objective_at(model, X, y, weights, list(range(n_coef + 1)), points)
    np.testing.assert_allclose(every, model.loss_curve_, rtol=1e-10)


def test_descent_path_display_of_several_estimators_on_one_surface():
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 2, size=(30, 1))
    y = 3 * X[:, 0] + 1 + 0.1 * rng.randn(30)
    models = [GDRegressor(solver="batch", learning_rate="constant", eta0=eta, max_iter=10, tol=None,
                          penalty=None, store_path="epoch").fit(X, y) for eta in (0.05, 0.5)]
    display = DescentPathDisplay.from_estimators(models, X, y, extent=(-1, 4, -1, 3), grid_resolution=11)
    assert [line.get_label() for line in display.lines_] == ["eta0=0.05", "eta0=0.5"]
    np.testing.assert_array_equal(display.grid_x, np.linspace(-1, 4, 11))
    np.testing.assert_array_equal(display.grid_y, np.linspace(-1, 3, 11))
    for line, model in zip(display.lines_, models):
        np.testing.assert_array_equal(line.get_xydata(), np.column_stack([model.coef_path_[:, 0],
                                                                          model.intercept_path_]))
    assert display.ax_.get_xlabel() == "coef_[0]" and display.ax_.get_ylabel() == "intercept_"


def test_descent_path_display_explains_what_it_needs():
    X, y = make_regression_data(n_samples=30, n_features=3)
    with pytest.raises(ValueError, match="store_path='epoch'"):
        DescentPathDisplay.from_estimator(GDRegressor().fit(X, y), X, y, coefs=(0, 1))
    model = GDRegressor(store_path="epoch").fit(X, y)
    with pytest.raises(ValueError, match="3 coefficients and an intercept: choose the two"):
        DescentPathDisplay.from_estimator(model, X, y)
    for coefs in [(0, 0), (0, 3), (0, "bias"), (0,)]:
        with pytest.raises(ValueError, match="coefs must"):
            DescentPathDisplay.from_estimator(model, X, y, coefs=coefs)
    with pytest.raises(ValueError, match="3 features"):
        DescentPathDisplay.from_estimator(model, X[:, :2], y, coefs=(0, 1))
    with pytest.raises(ValueError, match="coefs must"):
        DescentPathDisplay.from_estimator(model, X, y, coefs=(True, 2))
    no_intercept = GDRegressor(fit_intercept=False, store_path="epoch").fit(X, y)
    with pytest.raises(ValueError, match="fit_intercept=False"):
        DescentPathDisplay.from_estimator(no_intercept, X, y, coefs=(0, "intercept"))


def test_descent_path_display_spans_a_coordinate_that_did_not_move():
    X, y = make_regression_data(n_samples=40, n_features=1)
    X = X - X.mean()  # centred: under 'auto' the intercept starts, and stays, at mean(y)
    model = GDRegressor(solver="batch", store_path="epoch").fit(X, y)
    display = DescentPathDisplay.from_estimator(model, X, y, grid_resolution=9)
    assert display.grid_y[-1] - display.grid_y[0] >= 1.0
    assert len(display.contour_.levels) > 1


def test_missing_matplotlib_gives_scikit_learns_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="LossCurveDisplay.plot requires matplotlib"):
        LossCurveDisplay(loss_curves=[[1.0, 0.5]]).plot()


@pytest.mark.parametrize("method", ["from_estimator", "from_estimators"])
@pytest.mark.parametrize("Display", [LossCurveDisplay, DescentPathDisplay])
def test_missing_matplotlib_error_names_the_method_called(monkeypatch, Display, method):
    import sys

    X, y = make_regression_data(n_samples=40, n_features=1)
    model = GDRegressor(store_path="epoch", max_iter=3, tol=None).fit(X, y)
    data = () if Display is LossCurveDisplay else (X, y)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=rf"^{Display.__name__}\.{method} requires matplotlib"):
        getattr(Display, method)(model if method == "from_estimator" else [model], *data)


def test_validation_curve_has_its_own_colour_and_a_legend():
    """With early stopping and no labels, both curves are named in a legend, in different colours."""
    X, y = make_regression_data(n_samples=200)
    model = GDRegressor(early_stopping=True, random_state=0).fit(X, y)
    display = LossCurveDisplay.from_estimator(model)
    (line,), (validation,) = display.lines_, display.validation_lines_
    colours = {matplotlib.colors.to_hex(artist.get_color()) for artist in (line, validation)}
    assert len(colours) == 2
    legend = display.ax_.get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["objective", "validation R²"]
    two = [GDRegressor(early_stopping=True, random_state=seed).fit(X, y) for seed in (0, 1)]
    several = LossCurveDisplay.from_estimators(two)
    drawn = several.lines_ + several.validation_lines_
    assert len({matplotlib.colors.to_hex(artist.get_color()) for artist in drawn}) == 4


def test_displays_take_a_fitted_pipeline_as_its_final_step():
    """As scikit-learn's displays do; the path is drawn on the data the earlier steps make of X."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = make_regression_data(n_samples=60, n_features=1)
    pipeline = make_pipeline(StandardScaler(), GDRegressor(store_path="epoch", random_state=0)).fit(10 * X, y)
    model = pipeline[-1]
    curves = LossCurveDisplay.from_estimator(pipeline)
    np.testing.assert_array_equal(curves.lines_[0].get_ydata(), model.loss_curve_)
    path = DescentPathDisplay.from_estimator(pipeline, 10 * X, y)
    np.testing.assert_array_equal(path.lines_[0].get_xydata(),
                                  np.column_stack([model.coef_path_[:, 0], model.intercept_path_]))
    direct = DescentPathDisplay.from_estimator(model, pipeline[0].transform(10 * X), y)
    np.testing.assert_allclose(path.objective, direct.objective)
    unfitted = make_pipeline(StandardScaler(), GDRegressor())
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(unfitted)


@pytest.mark.parametrize("curves", [
    [[2900.0, 1600.0, 1450.0, 1440.0], [3000.0, 1500.0, 1440.0]],   # the demo's: within a decade
    [[1e4, 1e2, 3.0, 1.0]],
])
def test_log_scale_labels_several_ticks_in_plain_numbers(curves):
    display = LossCurveDisplay(loss_curves=curves).plot(log_scale=True)
    display.figure_.canvas.draw()
    low, high = display.ax_.get_ylim()
    labels = [tick.label1.get_text() for tick in display.ax_.yaxis.get_major_ticks()
              if low <= tick.get_loc() <= high and tick.label1.get_text()]
    assert display.ax_.get_yscale() == "log"
    assert len(labels) >= 3
    assert all(float(label) > 0 for label in labels)  # plain numbers, not 10^k


def test_descent_path_display_has_a_colour_bar_of_the_objective():
    X, y = make_regression_data(n_samples=40, n_features=1)
    model = GDRegressor(store_path="epoch", max_iter=5, tol=None).fit(X, y)
    display = DescentPathDisplay.from_estimator(model, X, y)
    assert display.colorbar_.mappable is display.contour_
    assert display.colorbar_.ax.get_ylabel() == "objective"


def test_demo_saves_the_loss_curves_of_the_three_solvers(tmp_path, capsys):
    from skgd.__main__ import main

    png = tmp_path / "curves.png"
    main(png)
    assert png.stat().st_size > 10_000
    assert str(png.resolve()) in capsys.readouterr().out


def test_displays_of_a_multi_output_fit_draw_the_whole_objective_and_one_target():
    X, y = make_regression_data(n_samples=40, n_features=2)
    Y = np.column_stack([y, -3.0 * y + 1.0])
    model = GDRegressor(solver="batch", alpha=0.01, random_state=0, store_path="epoch").fit(X, Y)
    (line,) = LossCurveDisplay.from_estimator(model).lines_
    np.testing.assert_array_equal(line.get_ydata(), model.loss_curve_)
    alone = GDRegressor(**model.get_params()).fit(X, Y[:, 1])
    display = DescentPathDisplay.from_estimator(model, X, Y, coefs=(1, "intercept"), target=1, grid_resolution=5)
    expected = DescentPathDisplay.from_estimator(alone, X, Y[:, 1], coefs=(1, "intercept"), grid_resolution=5)
    np.testing.assert_allclose(display.lines_[0].get_xydata(), expected.lines_[0].get_xydata(), rtol=1e-10)
    np.testing.assert_allclose(display.objective, expected.objective, rtol=1e-10)
    with pytest.raises(ValueError, match="fitted to 2 targets"):
        DescentPathDisplay.from_estimator(model, X, Y, coefs=(1, "intercept"))
    with pytest.raises(ValueError, match="this one has one"):
        DescentPathDisplay.from_estimator(alone, X, Y[:, 1], coefs=(1, "intercept"), target=0)
    plt.close("all")


@pytest.mark.parametrize("Estimator", [GDRegressor, GDPolynomialRegressor])
@pytest.mark.parametrize("two_targets", [False, True])
def test_descent_path_display_of_a_sparsified_model_is_that_of_the_dense_one(Estimator, two_targets):
    """After ``sparsify()`` the display draws what it draws for the dense model, and leaves ``coef_`` sparse."""
    X, y = make_regression_data(n_samples=40, n_features=2)
    Y = np.column_stack([y, -3.0 * y + 1.0]) if two_targets else y
    target = 1 if two_targets else None
    model = Estimator(solver="batch", penalty="l1", alpha=0.5, random_state=0, store_path="epoch").fit(X, Y)
    dense = DescentPathDisplay.from_estimator(model, X, Y, coefs=(1, "intercept"), target=target, grid_resolution=4)
    model.sparsify()
    sparse = DescentPathDisplay.from_estimator(model, X, Y, coefs=(1, "intercept"), target=target, grid_resolution=4)
    np.testing.assert_array_equal(sparse.objective, dense.objective)
    np.testing.assert_array_equal(sparse.lines_[0].get_xydata(), dense.lines_[0].get_xydata())
    assert sp.issparse(model.coef_)
