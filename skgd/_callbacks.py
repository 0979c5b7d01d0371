"""scikit-learn's callbacks (``sklearn.callback``, scikit-learn 1.9+) told of each epoch.

A fit is one task whose subtasks are its epochs (at most ``max_iter``; a
``partial_fit`` call is a task of one epoch). ``on_fit_task_begin`` and
``on_fit_task_end`` are called around the fit and around each epoch, with
the ``X`` and ``y`` given to the fit, ``sample_weight`` as metadata, and, on
demand, a ``fitted_estimator``: a copy of the estimator holding the model of
that moment, ready to predict and score. So scikit-learn's ``ProgressBar``
shows epochs and ``ScoringMonitor`` scores the model after each one. A
callback whose ``on_fit_task_end`` returns True at an epoch's end stops the
fit there. With no callback set, none of this runs.
"""

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9 has no callbacks

    class CallbackSupportMixin:
        """Stand-in for scikit-learn < 1.9: no ``set_callbacks``."""


class EpochCallbacks:
    """The callbacks of one fit (or ``partial_fit`` call) of ``estimator``.

    Built by :meth:`start`; ``model_attributes(state)`` gives the fitted
    attributes of the model a training state holds.
    """

    def __init__(self, estimator, context, model_attributes, **data):
        self.estimator = estimator
        self.context = context
        self.model_attributes = model_attributes
        self.data = data
        self.epoch = None

    @classmethod
    def start(cls, estimator, X, y, sample_weight, max_epochs, model_attributes):
        """Begin the fit's task, or return None when no callback listens."""
        listening = hasattr(estimator, "_skl_callbacks") or hasattr(estimator, "_parent_callback_ctx")
        if not (listening and hasattr(estimator, "_init_callback_context")):
            return None
        context = estimator._init_callback_context(max_subtasks=max_epochs)
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        callbacks = cls(estimator, context, model_attributes, X=X, y=y, metadata=metadata)
        context.call_on_fit_task_begin(estimator=estimator, **callbacks.data)
        return callbacks

    def epoch_begin(self, state):
        """Begin an epoch's task, from the model ``state`` holds."""
        self.epoch = self.context.subcontext(task_name="epoch")
        self.epoch.call_on_fit_task_begin(
            estimator=self.estimator, **self.data,
            reconstruction_attributes=lambda: self.model_attributes(state),
        )

    def epoch_end(self, state):
        """End the epoch's task; True if a callback asks to stop."""
        return self.epoch.call_on_fit_task_end(
            estimator=self.estimator, **self.data,
            reconstruction_attributes=lambda: self.model_attributes(state),
        )

    def end(self, state):
        """End the fit's task, with the model it returns."""
        self.context.call_on_fit_task_end(
            estimator=self.estimator, **self.data,
            reconstruction_attributes=lambda: self.model_attributes(state),
        )
