"""
=================================================
Batch, mini-batch and stochastic gradient descent
=================================================

The three solvers of :class:`~skgd.GDRegressor` minimise the same objective
and differ only in how many rows each gradient step sees: all of them
(``'batch'``), ``batch_size`` shuffled rows (``'minibatch'``), or one
(``'sgd'``). Their loss curves, the objective epoch by epoch, show what that
changes.
"""

# %%
# Fit the three solvers
# ---------------------
#
# On the diabetes data (442 rows, 10 standardised features), with the default
# ``learning_rate='auto'``, which sizes each solver's step from the data. We
# leave out the penalty so that all three minimise half the mean squared
# error, whose minimum is that of least squares.
import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

from skgd import GDRegressor
from skgd.plotting import LossCurveDisplay

X, y = load_diabetes(return_X_y=True)
models = [
    GDRegressor(solver=solver, penalty=None, random_state=0).fit(X, y)
    for solver in ("batch", "minibatch", "sgd")
]
for model in models:
    print(
        f"{model.solver:>9}: {model.n_iter_:3d} epochs, {model.t_:6d} updates, "
        f"R² {model.score(X, y):.4f}"
    )

# %%
# The least-squares optimum
# -------------------------
#
# ``LinearRegression`` gives the minimum in closed form. Its objective, half
# the mean squared residual, is ``0.5 * (1 - R²) * var(y)``: the level the
# three curves should come down to.
reference = LinearRegression().fit(X, y)
optimum = 0.5 * (1 - reference.score(X, y)) * y.var()
print(f"least-squares objective: {optimum:.1f}")
for model in models:
    print(f"{model.solver:>9}: last epoch's objective {model.loss_curve_[-1]:.1f}")

# %%
# The loss curves
# ---------------
#
# :meth:`LossCurveDisplay.from_estimators <skgd.plotting.LossCurveDisplay.from_estimators>`
# draws the ``loss_curve_`` of each model on one axes, labelled by the
# parameter in which they differ.
display = LossCurveDisplay.from_estimators(models, log_scale=True)
display.ax_.axhline(optimum, color="grey", linestyle=":", label="least squares")
display.ax_.legend()
display.ax_.set_title("GDRegressor on load_diabetes: objective per epoch")
plt.show()

# %%
# With ``learning_rate='auto'``, ``loss_curve_`` holds the exact objective of
# the model after each epoch, measured on every training row.
#
# The **batch** curve is flat from the start: each step follows the exact
# gradient, and ``'auto'`` whitens the features (10 of them, so it uses the
# full inverse of their second-moment matrix), which makes this quadratic
# perfectly conditioned: the first step ``1 / L`` lands on the minimum, and the
# second epoch confirms that the objective has settled, so the fit stops.
#
# The **mini-batch** and **SGD** steps each follow the gradient of a few rows
# (200 of them, or one), a noisy estimate of the full gradient, so their
# iterates wander around the minimum instead of settling on it. The model of
# each of their epochs is the better of the last iterate and the running mean
# of the iterates (Polyak-Ruppert averaging), which cancels most of that
# noise: the curves come down to the least-squares level within a few epochs.
# When the objective stops falling, ``'auto'`` divides the step by 5 and
# restarts from the best model, which shrinks the noise further; the fit stops
# once a division brings no improvement, and returns the best model it
# measured (SGD's curve rises for a few epochs before a division, but its
# model does not). They need more epochs than batch gradient descent here,
# but each of their epochs makes many cheap updates (3 for mini-batch, 442 for
# SGD), which is what pays off on data too large for full-batch steps.
