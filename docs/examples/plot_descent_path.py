"""
=========================================
The descent's path over the cost surface
=========================================

Fit with ``store_path``, a :class:`~skgd.GDRegressor` keeps the coefficients
and intercept after every epoch (``'epoch'``) or every update (``'step'``).
:class:`~skgd.plotting.DescentPathDisplay` draws that path over the contours
of the objective, computed exactly from the training data.
"""

# %%
# One feature: the path in (w, b)
# -------------------------------
#
# A straight line ``y = w x + b`` and the textbook update with a constant
# step. The batch solver takes one smooth step per epoch; mini-batches of 10
# rows take six noisier ones; per-sample SGD takes sixty, each pulled
# towards one point, so its path jitters and ends in a cloud around the
# minimum rather than on it.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes

from skgd import GDRegressor
from skgd.plotting import DescentPathDisplay

rng = np.random.RandomState(0)
x = rng.uniform(0, 2, size=(60, 1))
y = 3 * x[:, 0] + 1 + 0.3 * rng.randn(60)

models = [
    GDRegressor(solver=solver, batch_size=10, learning_rate="constant", eta0=0.1, penalty=None,
                max_iter=30, tol=None, store_path="step", random_state=0).fit(x, y)
    for solver in ("batch", "minibatch", "sgd")
]
fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), sharex=True, sharey=True)
for ax, model in zip(axes, models):
    DescentPathDisplay.from_estimator(model, x, y, extent=(-0.5, 3.8, -0.5, 2.2), ax=ax)
    ax.set_title(f"solver={model.solver!r}: {model.t_} updates in {model.n_iter_} epochs")
fig.tight_layout()

# %%
# Any two coefficients of a larger model
# --------------------------------------
#
# With more features, choose two coordinates with ``coefs``: here the
# coefficients of body mass index and of the blood serum measurement
# ``s5`` in the diabetes data; the other coefficients and the intercept are
# held at their fitted values, so the contours are a slice of the objective
# through the fitted model. The descent moves every coordinate at once, so
# its path is the shadow of a path through all eleven dimensions. With the
# default ``learning_rate='auto'`` the descent runs in whitened coordinates,
# and heads almost straight for the minimum.
data = load_diabetes()
X, y_diabetes = data.data, data.target
model = GDRegressor(solver="batch", penalty=None, store_path="epoch").fit(X, y_diabetes)
bmi, s5 = data.feature_names.index("bmi"), data.feature_names.index("s5")
display = DescentPathDisplay.from_estimator(model, X, y_diabetes, coefs=(bmi, s5))
display.ax_.set(title=f"diabetes, learning_rate='auto': {model.n_iter_} epochs",
               xlabel=f"coef_[{bmi}] (bmi)", ylabel=f"coef_[{s5}] (s5)")
plt.show()
