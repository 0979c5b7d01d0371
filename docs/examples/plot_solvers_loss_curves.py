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
# The **batch** curve is smooth: each step follows the exact gradient, and its
# ``loss_curve_`` is the objective itself at the start of each epoch. Here it
# reaches the least-squares level after a single step: ``'auto'`` whitens the
# features (10 of them, so it uses the full inverse of their second-moment
# matrix), which makes this quadratic perfectly conditioned, and the step
# ``1 / L`` then lands on the minimum. The flat epochs after it are the
# stopping rule making sure the objective has stopped improving.
#
# The **mini-batch** and **SGD** curves jitter. Each of their steps follows the
# gradient of a few rows (200 of them, or one), a noisy estimate of the full
# gradient, so the coefficients wander around the minimum instead of settling
# on it, and the objective goes up as well as down from epoch to epoch (their
# ``loss_curve_`` averages each row's loss taken just before the update that
# used it, along that noisy path). Whenever the objective stalls for
# ``n_iter_no_change`` epochs, ``'auto'`` divides the step by 5, which shrinks
# the noise: the curves come down in steps, most visibly SGD's, and the fit
# stops once a division brings no improvement. They need more epochs than
# batch gradient descent here, but each of their epochs makes many cheap
# updates (3 for mini-batch, 442 for SGD), which is what pays off on data too
# large for full-batch steps.
