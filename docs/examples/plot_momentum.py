"""
==============================================
Momentum and Nesterov on a narrow valley
==============================================

When the objective curves much more steeply in one direction than in
another (a narrow valley: an ill-conditioned problem), plain gradient
descent must take steps small enough for the steep direction and then
crawls along the flat one. Momentum keeps a velocity, the running sum of
past gradients, which builds up along the valley floor; Nesterov's variant
looks ahead before it corrects, and overshoots less.
"""

# %%
# A narrow valley
# ---------------
#
# Two features of very different spread, rotated so that the valley lies at
# an angle, no intercept: the objective is a function of the two
# coefficients alone. The condition number (ratio of the Hessian's
# eigenvalues) is about 60.
import matplotlib.pyplot as plt
import numpy as np

from skgd import GDRegressor
from skgd.plotting import DescentPathDisplay, LossCurveDisplay

rng = np.random.RandomState(0)
rotation = np.array([[np.cos(0.5), np.sin(0.5)], [-np.sin(0.5), np.cos(0.5)]])
X = (rng.standard_normal((200, 2)) * [3.0, 0.4]) @ rotation
y = X @ [2.0, -1.0] + 0.1 * rng.standard_normal(200)
curvatures = np.linalg.eigvalsh(X.T @ X / len(X))
L = curvatures.max()
print(f"condition number {L / curvatures.min():.0f}")

# %%
# Plain, momentum and Nesterov with the same step
# -----------------------------------------------
#
# The full-batch solver with the constant step ``1 / L`` and, for the two
# accelerated rules, ``momentum=0.8``. ``store_path='epoch'`` records the
# path.
common = dict(solver="batch", learning_rate="constant", eta0=1 / L, fit_intercept=False,
              penalty=None, max_iter=40, tol=None, store_path="epoch")
names = ["plain", "momentum", "nesterov"]
models = [GDRegressor(optimizer=name, momentum=0.8, **common).fit(X, y) for name in names]
for name, model in zip(names, models):
    print(f"{name:>9}: objective after 40 epochs {model.loss_curve_[-1]:.4f}")

# %%
# Plain descent reaches the valley floor in one step and then creeps along
# it; after 40 epochs it is still half way. Momentum gathers speed along the
# floor but swings from wall to wall as it goes; Nesterov's look-ahead damps
# those swings, and it arrives first.
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
paths = DescentPathDisplay.from_estimators(models, X, y, labels=names, ax=left)
paths.lines_[0].set(linewidth=2.5, zorder=3)  # plain on top, where it runs along Nesterov's path
left.set_title("Paths over the objective")
LossCurveDisplay.from_estimators(models, labels=names, log_scale=True, ax=right)
right.set_title("Objective per epoch")
fig.tight_layout()
plt.show()
