"""
==============================================
Too low, too high and a good learning rate
==============================================

Gradient descent takes steps ``θ ← θ − η ∇J(θ)``. How far it gets, and
whether it gets anywhere, depends on the learning rate ``η`` against the
curvature ``L`` of the objective (the largest eigenvalue of its Hessian):
below ``2 / L`` every step shrinks the error, ``1 / L`` takes the stiffest
direction down in one step, and above ``2 / L`` each step overshoots by more
than it gained, so the descent diverges.

Here are the three cases on the same surface: a straight line ``y = w x + b``
fitted to noisy points, drawn in the plane of its two parameters.
"""

# %%
# Data and curvature
# ------------------
#
# For half the mean squared error the Hessian over ``(w, b)`` is the second
# moment matrix of ``(x, 1)``; its largest eigenvalue is ``L``.
import matplotlib.pyplot as plt
import numpy as np

from skgd import GDRegressor
from skgd.plotting import DescentPathDisplay, LossCurveDisplay

rng = np.random.RandomState(0)
x = rng.uniform(0, 2, size=(60, 1))
y = 3 * x[:, 0] + 1 + 0.3 * rng.randn(60)
design = np.column_stack([x[:, 0], np.ones(len(x))])
L = np.linalg.eigvalsh(design.T @ design / len(x)).max()
print(f"L = {L:.3f}: 1 / L = {1 / L:.3f}, 2 / L = {2 / L:.3f}")

# %%
# Three learning rates, twelve epochs each
# ----------------------------------------
#
# ``learning_rate='constant'`` is the textbook update with ``eta0`` as ``η``,
# from ``w = b = 0``; the full-batch solver makes one step per epoch, and
# ``store_path='epoch'`` records every point. With ``tol=None`` each runs
# exactly ``max_iter`` epochs.
rates = {"too low (0.1 / L)": 0.1 / L, "good (1 / L)": 1 / L, "too high (2.05 / L)": 2.05 / L}
models = [
    GDRegressor(solver="batch", learning_rate="constant", eta0=eta, penalty=None,
                max_iter=12, tol=None, store_path="epoch").fit(x, y)
    for eta in rates.values()
]
for name, model in zip(rates, models):
    print(f"{name:>18}: w = {model.coef_[0]:8.3f}, b = {model.intercept_:8.3f}, "
          f"objective {model.loss_curve_[-1]:.4g}")

# %%
# The paths over the contours of the objective
# --------------------------------------------
#
# The same grid for the three panels, so that the surfaces are comparable.
# Too low crawls down the slope and stops far from the minimum; the good
# rate reaches the valley floor at once and then runs along it; too high
# jumps from one side of the valley to the other, further out at each step.
points = np.vstack([np.column_stack([m.coef_path_[:, 0], m.intercept_path_]) for m in models])
low, high = points.min(axis=0), points.max(axis=0)
pad = 0.1 * (high - low)
extent = (low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1])
fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), sharex=True, sharey=True)
for ax, name, model in zip(axes, rates, models):
    DescentPathDisplay.from_estimator(model, x, y, extent=extent, ax=ax)
    ax.set_title(f"η {name}")
fig.tight_layout()

# %%
# The loss curves tell the same story
# -----------------------------------
#
# On a log scale: too low falls slowly, the good rate falls fast, too high
# rises epoch after epoch (skgd raises an error once the objective has grown
# a trillion-fold, so this run is kept short).
display = LossCurveDisplay.from_estimators(models, labels=list(rates), log_scale=True)
display.ax_.set_title("Objective per epoch")
plt.show()
