"""
==========================================================
Polynomial degree, and outliers with squared vs Huber loss
==========================================================

Two choices that decide what a gradient-descent regressor fits, whatever the
solver: the model (here, the degree of
:class:`~skgd.GDPolynomialRegressor`), and the loss (here, squared error
against Huber's loss on data with outliers, with :class:`~skgd.GDRegressor`).
"""

# %%
# Under- and over-fitting with the polynomial degree
# --------------------------------------------------
#
# Twenty noisy samples of a smooth curve, ``sin(x) + 0.3 x``, and polynomials
# of degree 1, 3 and 10 fitted to them. ``GDPolynomialRegressor`` standardises
# the monomials internally, so gradient descent converges at every degree;
# with ``penalty=None`` it reaches the least-squares polynomial.
import matplotlib.pyplot as plt
import numpy as np

from skgd import GDPolynomialRegressor, GDRegressor


def curve(x):
    return np.sin(x) + 0.3 * x


rng = np.random.RandomState(0)
x = np.sort(rng.uniform(-3, 3, size=20)).reshape(-1, 1)
y = curve(x[:, 0]) + 0.3 * rng.standard_normal(20)
# fresh samples from the same range, to measure how well each fit generalises
x_new = rng.uniform(x.min(), x.max(), size=(1000, 1))
y_new = curve(x_new[:, 0]) + 0.3 * rng.standard_normal(1000)

grid = np.linspace(x.min(), x.max(), 500).reshape(-1, 1)
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.scatter(x[:, 0], y, color="black", zorder=3, label="training samples")
ax.plot(grid[:, 0], curve(grid[:, 0]), color="grey", linestyle="--", label="true curve")
for degree in (1, 3, 10):
    model = GDPolynomialRegressor(degree=degree, penalty=None, random_state=0).fit(x, y)
    train, new = model.score(x, y), model.score(x_new, y_new)
    print(f"degree {degree:2d}: R² {train:.3f} on the training samples, {new:.3f} on new samples")
    ax.plot(grid[:, 0], model.predict(grid), linewidth=2, label=f"degree {degree} (R² on new samples {new:.2f})")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_title("Degree 1 under-fits, degree 10 over-fits")
ax.legend(fontsize="small")
plt.show()

# %%
# The straight line (degree 1) cannot follow the curve: it under-fits, with
# the lowest R² on the training samples. Degree 3 follows the curve closely.
# Degree 10 has the highest R² on the training samples, but it bends to chase
# their noise, and does worse than degree 3 on new samples drawn from the
# same curve, here even worse than the straight line: it over-fits. A penalty
# (``penalty='l2'`` with a larger ``alpha``) or fewer monomials would rein it in.

# %%
# Outliers: squared error against Huber's loss
# --------------------------------------------
#
# Fifty points on the line ``y = 2 x + 1`` with noise of standard deviation
# 0.5, of which the four with the largest ``x`` are gross outliers, 25 below
# the line. Squared error grows with the square of a residual, so these few
# points pull the whole fit; Huber's loss is quadratic only for residuals
# within ``epsilon`` and linear beyond, so each outlier pulls with a bounded
# force. ``epsilon`` is in the units of ``y``: set it on the scale of the
# residuals you consider normal, here 1.0, twice the noise.
rng = np.random.RandomState(0)
x = rng.uniform(0, 10, size=(50, 1))
y = 2 * x[:, 0] + 1 + 0.5 * rng.standard_normal(50)
outliers = np.argsort(x[:, 0])[-4:]
y[outliers] -= 25

squared = GDRegressor(loss="squared_error", penalty=None, random_state=0).fit(x, y)
huber = GDRegressor(loss="huber", epsilon=1.0, penalty=None, random_state=0).fit(x, y)
for name, model in [("squared error", squared), ("Huber", huber)]:
    print(f"{name:>13}: slope {model.coef_[0]:.3f}, intercept {model.intercept_:.3f} (true: 2 and 1)")

grid = np.linspace(0, 10, 2).reshape(-1, 1)
inliers = np.setdiff1d(np.arange(50), outliers)
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.scatter(x[inliers, 0], y[inliers], color="black", label="samples")
ax.scatter(x[outliers, 0], y[outliers], color="red", marker="x", s=60, label="outliers")
ax.plot(grid[:, 0], 2 * grid[:, 0] + 1, color="grey", linestyle="--", label="true line")
ax.plot(grid[:, 0], squared.predict(grid), linewidth=2,
        label=f"loss='squared_error' (slope {squared.coef_[0]:.2f})")
ax.plot(grid[:, 0], huber.predict(grid), linewidth=2,
        label=f"loss='huber', epsilon=1.0 (slope {huber.coef_[0]:.2f})")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_title("Squared error is pulled by four outliers, Huber's loss is not")
ax.legend(fontsize="small")
plt.show()

# %%
# The squared-error line tilts towards the outliers: its slope falls to less
# than half the true one, and it misses most of the other 46 points (37 of
# them by more than twice the noise). The Huber line stays on the true line,
# its slope within a few percent of 2.
# ``loss='absolute_error'`` resists outliers too; Huber's loss keeps the
# efficiency of squared error on the small residuals. See
# :ref:`losses` in the user guide for the losses and their derivatives.
