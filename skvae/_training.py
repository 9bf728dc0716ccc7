"""The training loop: epochs of index-sliced minibatches, stopping rules, best weights.

Everything that decides *when* training stops lives here:

- :class:`StoppingRule`, scikit-learn MLP's rule with its adaptive learning
  rate: once the monitored loss has failed to improve on the best loss by at
  least ``tol`` for a patience of epochs, the learning rate is divided by 5,
  twice, and at the third such plateau training stops. The patience is
  ``n_iter_no_change`` epochs but at least :data:`MIN_PATIENCE_STEPS`
  optimizer steps (:func:`patience_epochs`), so that small data, with few
  steps per epoch, is not stopped on noise. The rule monitors the training
  loss, or with validation (``early_stopping=True``, or ``"auto"`` on data
  small enough to overfit, :func:`use_validation`) the negative validation
  ELBO, in which case the weights of the best validation epoch are restored
  at the end. Under ``max_iter="auto"`` the step floor lengthens a plateau
  to at most :data:`MAX_PATIENCE_EPOCHS` epochs: a floor that grows with the
  table, so that a few hundred rows (two steps per epoch) are not held for
  350 epochs per plateau, more than the whole budget.
- The batch: ``batch_size`` rows a step, or with ``batch_size="auto"``
  (:func:`batch_rows`) :data:`AUTO_BATCH_SMALL`, and :data:`AUTO_BATCH_LARGE`
  on data of :data:`AUTO_BATCH_LARGE_FROM` to :data:`AUTO_BATCH_LARGE_UNTIL`
  rows: a step costs about the same at 128 rows and at 512 on a table's
  narrow networks, so such tables train in fewer steps.
- The budget: ``max_iter`` epochs, or with ``max_iter="auto"``
  (:func:`budget_epochs`) :data:`AUTO_BUDGET_STEPS` optimizer steps, within
  :data:`AUTO_MIN_EPOCHS` and :data:`AUTO_MAX_EPOCHS` epochs, so that small
  tables, with few steps per epoch, get the epochs their three plateaus need
  and large ones keep their epochs.
- The end of the budget: over the last quarter of ``max_iter`` the learning
  rate is annealed (:func:`budget_anneal_factor`), so that a fit that runs
  out of epochs ends on settled weights rather than on minibatch noise.
- ``max_iter`` epochs without meeting the rule: a ``ConvergenceWarning``.
- A non-finite epoch loss (divergence): the weights from before that epoch
  are restored and training stops with a ``ConvergenceWarning``; where that
  epoch's first step was already non-finite at those weights (the previous
  epoch's last step broke them), the previous epoch is undone too. If no
  epoch of a fresh model is left there are no good weights to keep, and
  fitting fails with a ``ValueError``.
- ``KeyboardInterrupt`` (Ctrl-C): training stops with a warning and keeps the
  best weights so far, as scikit-learn's MLP does; ``warm_start=True`` or
  ``partial_fit`` continue from there.

Speed: the data sits on the device (moved once by the caller), and so does
the encoder's view of it (one-hot codes, transformed counts, the mask;
computed once per fit, :meth:`Trainer.training_rows`); batches are
gathered with one index per batch, the loss reaches the host once per epoch,
not once per batch, and Adam's update is torch's fused kernel where the
installed torch has one for the device (:func:`make_adam`; on the CPU since
torch 2.4), which updates every parameter in one pass instead of a dozen
elementwise passes. A snapshot of the weights per epoch (for divergence
restores) costs well under a millisecond against an epoch's hundreds, so it
stays.
"""

import contextlib
import math
from dataclasses import dataclass, field

import torch
from sklearn.exceptions import ConvergenceWarning
from torch.optim import optimizer as _torch_optimizer

from ._objectives import importance_weighted_bound, negative_elbo
from ._refusals import Refusal, Term, TermWarning, parameter
from ._torch_scope import DTYPE
from ._warnings import warn


class TermConvergenceWarning(TermWarning, ConvergenceWarning):
    """scikit-learn's ConvergenceWarning, its message kept as terms that each face says in its words."""


# Python prints a warning's category by its __name__ ("user.py:7: ConvergenceWarning: ..."): the user's
# and scikit-learn's name, not this subclass's (its __qualname__ stays, for pickle to find the class).
TermConvergenceWarning.__name__ = "ConvergenceWarning"


#: The encoder's view of the training rows is computed once per fit where it
#: takes at most this many bytes (:meth:`Trainer.training_rows`). Per batch it
#: was a sixth of a table's forward pass: about 25 small operations (one-hot
#: comparisons, casts, log1p, a concatenation) of 400 in a step, 6 % of a
#: step's time on randhie; 256 MiB is a million rows of 64 one-hot inputs.
ENCODER_INPUT_BYTES = 256 * 2**20

#: The data-only log terms of the training rows are summed in blocks of this
#: many rows (:meth:`Trainer._log_constant`), so that rows kept on the host
#: move to the device a block at a time.
LOG_CONSTANT_ROWS = 65_536

#: Validation-based stopping under ``early_stopping="auto"``: up to this many
#: rows, where a (128, 64) network has enough weights per row to overfit...
AUTO_VALIDATION_MAX_ROWS = 10_000
#: ...and where the networks have at least this many weights per row. The
#: known-truth data (20 features, 5,000 rows, 6 weights per row) do not
#: overfit, and validation cost them 0.1 nat of held-out ELBO (the rows it
#: takes from training) against the whole budget on every row; digits (30 per
#: row) and the 4,000 28x28 images of issue 12 (75 per row) do overfit.
AUTO_VALIDATION_MIN_WEIGHTS_PER_ROW = 10
#: ...and from this many held-out rows (495 rows at validation_fraction=0.1: the
#: held-out count is rounded, and 49.5 rounds to 50).
#: On 200 rows (20 held out) validation cost 0.85 nat of held-out ELBO against
#: the training-loss rule in benchmarks/stopping_study.py: the rows it takes
#: from training matter more there than the epoch it picks.
AUTO_VALIDATION_MIN_HELD_OUT = 50

#: Patience is at least this many optimizer steps, whatever ``n_iter_no_change``
#: says in epochs: on 200 rows an epoch is 2 steps, and 10 epochs of 2 steps
#: are too few for the loss to move by more than its noise. 700 (20 epochs of
#: 4,500 training rows): with 200 the known-truth data at 5,000 rows stopped
#: at epoch 149, 0.26 nat below what the remaining epochs and the end-of-budget
#: annealing reach (with 400 at epoch 128); with 700 the fit uses its budget
#: and ends 0.05 nat below the best epoch of any rule studied, against 0.26
#: (benchmarks/stopping_study.py, 2 seeds).
#: Large data (over 700 / n_iter_no_change = 70 steps per epoch) keep
#: n_iter_no_change epochs.
MIN_PATIENCE_STEPS = 700
#: ...but under ``max_iter="auto"`` the floor lengthens a plateau to at most
#: this many epochs (an int ``max_iter`` keeps the floor whole). Without a
#: cap a table of a few hundred rows (two steps per epoch) waited 350 epochs
#: per plateau, and its three plateaus could not end a fit of any affordable
#: budget: every default fit on the tables benchmark ran into ``max_iter``.
#: A longer cap let small tables, monitored on their training loss, train on
#: into overfitting; a shorter one stopped them before they had converged
#: (benchmarks/budget_study.py; the numbers in benchmarks/README.md).
MAX_PATIENCE_EPOCHS = 20

#: ``max_iter="auto"``: a budget of this many optimizer steps...
AUTO_BUDGET_STEPS = 4000
#: ...and at least this many epochs (the budget of large data, as before)...
AUTO_MIN_EPOCHS = 200
#: ...and at most this many: a small table whose rule does not fire must not
#: train on into overfitting, nor for many times the old budget's time
#: (benchmarks/README.md, budget_study.py).
AUTO_MAX_EPOCHS = 600

#: ``batch_size="auto"``: AUTO_BATCH_SMALL rows a step, or AUTO_BATCH_LARGE
#: on data of at least AUTO_BATCH_LARGE_FROM rows (four steps an epoch or
#: more). On a table's narrow networks a step is bound by its count of
#: operations, not by its rows: a 512-row step costs little more than a
#: 128-row one. Measured on the tables benchmark (benchmarks/efficacy_study.py
#: and tables.py, seeds 0-2; results/BATCH_STUDY.md): 512 rows fitted computer
#: prices (4,381 training rows) in 0.69x the time of 128 at equal or better
#: fidelity (R² 0.817 against 0.808, shapes 0.986 against 0.982) and credit
#: scoring (2,827) in 0.80x (accuracy 0.768 against 0.766); but tables of
#: hundreds to 1,400 rows lost: column-pair trends 0.002-0.010 lower on fair
#: and randhie at 175 to 350 rows a step, fair's accuracy 0.677 -> 0.648 at
#: 350, anes96's (660 rows) AUC 0.92 -> 0.77 at 512, star98 (212 rows) shapes
#: 0.944 -> 0.934 at 256. Hence two sizes, not a batch that grows with the
#: rows: the evidence has no table between 1,400 and 2,827 rows. And 512 only
#: up to AUTO_BATCH_LARGE_UNTIL rows, where 4,000 steps of 512 rows still
#: exceed the 200-epoch floor of ``max_iter="auto"``, so that the stopping
#: rule, not the floor, ends the fit: beyond, 512-row fits stop at the floor
#: with a quarter of the 128-row fits' steps. On the quality benchmark's
#: known-truth arrays (20,000 rows, 30 features, seed 0) 512 rows ran into
#: the floor at 0.43-0.55x the time and lost 0.16-0.19 nat of held-out
#: importance-weighted bound (latent_dim=2: 20.112 against 20.268; the truth
#: 20.502).
AUTO_BATCH_SMALL = 128
AUTO_BATCH_LARGE = 512
AUTO_BATCH_LARGE_FROM = 4 * AUTO_BATCH_LARGE
AUTO_BATCH_LARGE_UNTIL = AUTO_BUDGET_STEPS // AUTO_MIN_EPOCHS * AUTO_BATCH_LARGE

#: On a plateau the learning rate is divided by LR_DECAY_FACTOR, up to
#: LR_DECAYS times, before training stops: the smaller steps average out
#: minibatch noise and gain ELBO that a fixed rate never reaches.
LR_DECAY_FACTOR = 5.0
LR_DECAYS = 2

#: A fit that runs into its budget still ends settled: over the last
#: BUDGET_ANNEAL_FRACTION of the ``max_iter`` epochs of one ``fit`` call the
#: learning rate follows a half cosine down to BUDGET_ANNEAL_FLOOR times its
#: value. Small data never reach a plateau (200 rows: 2 steps per epoch), so
#: without it the model kept the last epoch's minibatch noise: on 200 rows of
#: the known-truth data the final held-out ELBO was 0.35-0.41 nat below the
#: best epoch's; annealed, 0.01-0.05, and 0.15 nat higher, at the same cost
#: (benchmarks/stopping_study.py). Fits that stop on a plateau earlier never
#: reach it.
BUDGET_ANNEAL_FRACTION = 0.25
BUDGET_ANNEAL_FLOOR = 0.1


def use_validation(early_stopping, n_samples, validation_fraction, n_weights):
    """Whether a fit monitors held-out rows: `early_stopping` as a bool, or the "auto" rule.

    `n_weights` is the number of the networks' parameters.
    """
    if early_stopping != "auto":
        return bool(early_stopping)
    held_out = round(validation_fraction * n_samples)
    return (AUTO_VALIDATION_MIN_HELD_OUT <= held_out and n_samples <= AUTO_VALIDATION_MAX_ROWS
            and n_weights >= AUTO_VALIDATION_MIN_WEIGHTS_PER_ROW * n_samples)


def budget_anneal_factor(epochs_done, n_epochs):
    """Learning-rate multiplier for the epoch after `epochs_done` of a budget of `n_epochs` epochs.

    Taken at the epoch's start, so a one-epoch fit is exactly one epoch of
    ``partial_fit``, and the last epoch of a long budget runs close to the floor.
    """
    start = (1.0 - BUDGET_ANNEAL_FRACTION) * n_epochs
    progress = (epochs_done - start) / (BUDGET_ANNEAL_FRACTION * n_epochs)
    if progress <= 0:
        return 1.0
    return BUDGET_ANNEAL_FLOOR + (1.0 - BUDGET_ANNEAL_FLOOR) * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


@contextlib.contextmanager
def scaled_learning_rate(optimizer, factor):
    """The optimizer's learning rates times `factor` inside, exactly as they were after.

    The stored rates stay the unscaled ones, so a plateau's decay and a later
    ``warm_start`` or ``partial_fit`` see them, not the annealed ones.
    """
    saved = [group["lr"] for group in optimizer.param_groups]
    if factor != 1.0:
        for group in optimizer.param_groups:
            group["lr"] = group["lr"] * factor
    try:
        yield
    finally:
        for group, lr in zip(optimizer.param_groups, saved):
            group["lr"] = lr


def patience_epochs(n_iter_no_change, steps_per_epoch, *, auto_budget):
    """Epochs without improvement before a plateau.

    ``n_iter_no_change``, or as many epochs as :data:`MIN_PATIENCE_STEPS`
    steps take, whichever is longer. Under an `auto_budget`
    (``max_iter="auto"``) the steps count for at most
    :data:`MAX_PATIENCE_EPOCHS` epochs, so that three plateaus fit in the
    budget; an int ``max_iter`` is the user's budget, and keeps the rule it
    had.
    """
    from_steps = math.ceil(MIN_PATIENCE_STEPS / max(1, steps_per_epoch))
    if auto_budget:
        from_steps = min(from_steps, MAX_PATIENCE_EPOCHS)
    return max(n_iter_no_change, from_steps)


def epochs_for_steps(steps, steps_per_epoch, *, low=1, high=None):
    """The epochs that make `steps` optimizer steps at `steps_per_epoch`, held within [`low`, `high`]."""
    epochs = max(low, math.ceil(steps / max(1, steps_per_epoch)))
    return epochs if high is None else min(epochs, high)


def batch_rows(batch_size, n_rows):
    """Rows per optimizer step of a fit on `n_rows` rows: `batch_size`, or those ``"auto"`` sets."""
    if batch_size != "auto":
        return batch_size
    return AUTO_BATCH_LARGE if AUTO_BATCH_LARGE_FROM <= n_rows <= AUTO_BATCH_LARGE_UNTIL else AUTO_BATCH_SMALL


def budget_epochs(max_iter, steps_per_epoch):
    """The epochs of one ``fit``: `max_iter`, or for ``"auto"`` :data:`AUTO_BUDGET_STEPS` steps' worth.

    ``"auto"`` gives at least :data:`AUTO_MIN_EPOCHS` epochs and at most :data:`AUTO_MAX_EPOCHS`.
    """
    if max_iter != "auto":
        return max_iter
    return epochs_for_steps(AUTO_BUDGET_STEPS, steps_per_epoch, low=AUTO_MIN_EPOCHS, high=AUTO_MAX_EPOCHS)


class StoppingRule:
    """Counts epochs whose loss fails to beat the best loss by at least `tol`.

    After `n_iter_no_change` such epochs the loss has reached a plateau: the
    learning rate is divided by :data:`LR_DECAY_FACTOR` (at most `lr_decays`
    times, counting restarts), and then training stops.
    """

    def __init__(self, tol, n_iter_no_change, best_loss=math.inf, lr_decays=0, fixed_budget=False,
                 auto_budget=False):
        # A fixed budget (VAEImputer's default: patience as long as max_iter)
        # asks for max_iter epochs: reaching them is no failure to converge.
        self.fixed_budget = fixed_budget
        # max_iter="auto": the warning at the budget says where its epochs came from.
        self.auto_budget = auto_budget
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.best_loss = best_loss
        self.n_epochs_without_improvement = 0
        self.lr_decays_left = lr_decays

    def on_plateau(self, optimizer):
        """At a plateau: lower the learning rate and go on (True), or stop (False)."""
        if self.lr_decays_left <= 0:
            return False
        self.lr_decays_left -= 1
        for group in optimizer.param_groups:
            group["lr"] = group["lr"] / LR_DECAY_FACTOR
        self.n_epochs_without_improvement = 0
        return True

    def update(self, loss):
        """Record an epoch's loss; return True if it is the best so far."""
        if loss > self.best_loss - self.tol:
            self.n_epochs_without_improvement += 1
        else:
            self.n_epochs_without_improvement = 0
        improved = loss < self.best_loss
        if improved:
            self.best_loss = loss
        return improved

    @property
    def should_stop(self):
        return self.n_epochs_without_improvement >= self.n_iter_no_change


@dataclass
class TrainingLog:
    """What one call of :meth:`Trainer.run` did, in nats per row of raw data."""

    losses: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    stop_reason: str = "max_iter"


def make_adam(parameters, learning_rate):
    """``torch.optim.Adam`` over `parameters`, fused where this torch supports it.

    The fused kernel computes the same update as the default implementation
    (to rounding) in one pass over the parameters. Older torch versions, or
    devices without a fused kernel, refuse ``fused=True`` in the constructor;
    then the default implementation is used.
    """
    parameters = list(parameters)
    try:
        return _DirectAdam(parameters, lr=learning_rate, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(parameters, lr=learning_rate)


def _without_dynamo_guard(method):
    """torch's Optimizer `method` itself where torch wraps it in its lazy dynamo guard, else `method`.

    torch wraps ``Optimizer.add_param_group``, ``state_dict`` and
    ``load_state_dict`` in ``torch._disable_dynamo``, whose first call in a
    process imports ``torch._dynamo`` (and with it ``torch.distributed`` and
    more): 0.8 s on this 2-core machine, which every process's first fit paid
    (a table fit of 300 rows: 0.81 s first, 0.05 s after; every command-line
    ``fit`` and every joblib worker of a grid search pays it again). The guard
    only tells torch.compile not to trace into the method; skvae never
    compiles its optimizer, so it calls what the guard wraps. Where the
    method is not so wrapped (another torch), it is called as it is.
    """
    try:
        guard = torch._disable_dynamo(lambda: None).__code__
    except (AttributeError, TypeError):
        return method
    inner = getattr(method, "__wrapped__", None)
    return inner if inner is not None and getattr(method, "__code__", None) is guard else method


_ADD_PARAM_GROUP = _without_dynamo_guard(torch.optim.Optimizer.add_param_group)
_STATE_DICT = _without_dynamo_guard(torch.optim.Optimizer.state_dict)
_LOAD_STATE_DICT = _without_dynamo_guard(torch.optim.Optimizer.load_state_dict)


class _DirectAdam(torch.optim.Adam):
    """Fused Adam whose step calls the fused kernel directly.

    ``Adam.step`` spends about 200 µs of Python per step on a table's fifteen
    parameters around a 35 µs kernel (grouping the tensors by device and
    dtype, hooks, profiler records, option checks), and ``zero_grad`` another
    80 µs: together 17 % of a step on the randhie table. Here a step with the
    options skvae uses (one group, float ``lr`` and betas, no weight decay,
    amsgrad, maximize, capturable or differentiable, one device and dtype,
    no hooks) creates a parameter's state where it has none, as
    ``Adam._init_group`` does, and makes the same two calls that
    ``torch.optim.adam._fused_adam`` makes, so the weights and the state are
    bit-identical (``tests/test_stopping.py``); anything else goes through
    ``Adam.step``. ``Adam.step`` also imports ``torch._dynamo`` on its first
    call, which the direct step, and the methods of
    :func:`_without_dynamo_guard`, spare a process's first fit.
    """

    def step(self, closure=None):
        direct = None if closure is not None else self._direct_arguments()
        if direct is None:
            return super().step(closure)
        group, params, grads, states = direct
        for parameter, state in zip(params, states):
            if not state:
                state.update(_fresh_fused_adam_state(parameter))
        steps = [state["step"] for state in states]
        beta1, beta2 = group["betas"]
        with torch.no_grad():
            torch._foreach_add_(steps, 1)
            torch._fused_adam_(
                params, grads, [state["exp_avg"] for state in states], [state["exp_avg_sq"] for state in states], [],
                steps, amsgrad=False, lr=group["lr"], beta1=beta1, beta2=beta2, weight_decay=0.0, eps=group["eps"],
                maximize=False, grad_scale=None, found_inf=None,
            )
        return None

    def add_param_group(self, param_group):
        return _ADD_PARAM_GROUP(self, param_group)

    def state_dict(self):
        return _STATE_DICT(self)

    def load_state_dict(self, state_dict):
        return _LOAD_STATE_DICT(self, state_dict)

    def _direct_arguments(self):
        """(group, params, grads, states) for the direct step, or None where ``Adam.step`` must run."""
        if (len(self.param_groups) != 1 or self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks
                or _torch_optimizer._global_optimizer_pre_hooks or _torch_optimizer._global_optimizer_post_hooks):
            return None
        group = self.param_groups[0]
        if not (group["fused"] and not group["amsgrad"] and not group["maximize"] and not group["capturable"]
                and not group["differentiable"] and not group.get("decoupled_weight_decay", False)
                and group["weight_decay"] == 0 and type(group["lr"]) is float
                and all(type(beta) is float for beta in group["betas"])):
            return None
        dtype = self._common_dtype(group["params"])
        # As Adam.step, parameters without a gradient (the decoder's empty
        # `free` where no column has a free parameter) are left alone.
        params = [p for p in group["params"] if p.grad is not None]
        grads = [p.grad for p in params]
        # A parameter without state gets it in the step (torch's defaultdict
        # makes the empty dict that Adam._init_group fills).
        states = [self.state[p] for p in params]
        if dtype is None or not params or any(g.dtype is not dtype or g.layout is not torch.strided for g in grads):
            return None
        return group, params, grads, states

    def _common_dtype(self, params):
        """The parameters' dtype where they share one dtype and device (else None), kept per parameter list."""
        key = [(id(p), p.dtype) for p in params]
        if getattr(self, "_checked_params", None) != key:
            first = params[0] if params else None
            same = first is not None and all(p.device == first.device and p.dtype == first.dtype for p in params)
            self._checked_params, self._checked_dtype = key, first.dtype if same else None
        return self._checked_dtype

    # Optimizer.__init__ wraps a class's step in its profiler-and-hooks
    # wrapper unless the step says it is hooked already: the direct step is
    # what avoids that wrapper's cost, and where hooks exist it defers to
    # Adam.step, whose wrapper runs them (once).
    step.hooked = True

    def zero_grad(self, set_to_none=True):
        # Optimizer.zero_grad's profiler record and per-parameter checks cost
        # ~80 µs a step; dropping the gradients is what set_to_none asks.
        if not set_to_none:
            return super().zero_grad(set_to_none=False)
        for group in self.param_groups:
            for parameter in group["params"]:
                parameter.grad = None
        return None


#: torch's check that the fused kernel takes a parameter's device and dtype, which ``Adam._init_group`` makes
#: before a parameter's first state (None in a torch without it).
_CHECK_FUSED_DEVICE_DTYPE = getattr(_torch_optimizer, "_device_dtype_check_for_fused", None)


def _fresh_fused_adam_state(parameter):
    """A parameter's first Adam state, as ``Adam._init_group`` makes it for the fused kernel."""
    if _CHECK_FUSED_DEVICE_DTYPE is not None:
        _CHECK_FUSED_DEVICE_DTYPE(parameter)
    return {"step": torch.zeros((), dtype=torch.float32, device=parameter.device),
            "exp_avg": torch.zeros_like(parameter, memory_format=torch.preserve_format),
            "exp_avg_sq": torch.zeros_like(parameter, memory_format=torch.preserve_format)}


class _FlatWeights:
    """The trained modules' parameters, copied to and from one flat tensor.

    The epoch loop keeps the weights before each epoch (to undo one that
    breaks them), checks them after it, and keeps the best ones so far. A
    ``state_dict`` clone and a finiteness check cost about 170 µs of Python
    per epoch over the modules' tensors, a few per cent of a small table's
    epoch; one concatenation into a kept buffer does both in one kernel, and
    the check reads the copy. Adam and ``load_state_dict`` write the
    parameters in place, so the flat views taken here stay theirs for the
    whole run (the modules' buffers are constants, never trained).
    """

    def __init__(self, modules):
        self._parameters = [p for module in modules for p in module.parameters()]
        self._flat_views = [p.detach().view(-1) for p in self._parameters]

    def copy(self, out=None):
        """The parameters, concatenated (into `out` where given)."""
        return torch.cat(self._flat_views, out=out)

    def load(self, flat):
        """Write a :meth:`copy` back into the parameters."""
        with torch.no_grad():
            for parameter, chunk in zip(self._parameters, flat.split([p.numel() for p in self._parameters])):
                parameter.copy_(chunk.view_as(parameter))


class _AdamMoments:
    """Adam's state at the start of an epoch, kept to be put back with the weights when Ctrl-C cuts the epoch short.

    Mid-epoch weights are undone to the epoch's start; Adam's moments and
    step counts had moved on with the undone steps, so a continued fit
    (``warm_start``, ``partial_fit``) started from the whole epoch's weights
    with another epoch's moments. As :class:`_FlatWeights` does for the
    weights, the moments are copied into kept buffers in one concatenation
    per kind per epoch (Adam updates them in place, so the views stay theirs
    once a step has made them). Parameters without state (before their first
    step; one that never gets a gradient) have none to keep: putting back
    removes the state the epoch gave them.
    """

    _KEYS = ("exp_avg", "exp_avg_sq", "step")

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self._stateful = None  # the parameters whose state was kept, in order
        self._views = {}  # per key, the flat views of those parameters' state tensors
        self._saved = {}  # per key, the kept copy

    def save(self):
        state = self.optimizer.state
        stateful = [p for group in self.optimizer.param_groups for p in group["params"] if p in state]
        if stateful != self._stateful:
            if not all(torch.is_tensor(state[p].get(key)) for p in stateful for key in self._KEYS):
                stateful = []  # a state skvae's Adam does not make: cleared on an interrupt, as before a step
            self._stateful, self._saved = stateful, {}
            self._views = {key: [state[p][key].detach().reshape(-1) for p in stateful] for key in self._KEYS}
        if stateful:
            self._saved = {key: torch.cat(views, out=self._saved.get(key)) for key, views in self._views.items()}

    def restore(self):
        state = self.optimizer.state
        kept = set(self._stateful or ())
        for parameter in [p for p in state if p not in kept]:
            del state[parameter]
        if not kept:
            return
        with torch.no_grad():
            for key, views in self._views.items():
                for view, chunk in zip(views, self._saved[key].split([v.numel() for v in views])):
                    view.copy_(chunk)


class Trainer:
    """Runs epochs of Adam steps on the negative ELBO.

    Warnings are raised with the stack levels of a call from
    ``VAETransformer.fit``/``partial_fit`` (through scikit-learn's
    ``_fit_context`` wrapper), so that they point at the user's line.

    Parameters
    ----------
    encoder, decoder : torch.nn.Module
    likelihood : CompositeLikelihood from :mod:`skvae._likelihoods`
    optimizer : torch.optim.Optimizer over both networks' parameters
    batch_size : int
    beta : float
        Weight of the KL term in the training loss.
    shuffle_generator : torch.Generator on the CPU, for the epoch permutations.
    noise_generator : torch.Generator on the training device, for eps.
    n_importance : int
        1 trains on the ELBO (with KL weight `beta`); K > 1 on the
        importance-weighted bound with K samples (IWAE; MIWAE on incomplete data).
    thread_tuner : :class:`skvae._threads.ThreadTuner` or None
        Chooses torch's CPU thread count step by step; None leaves it alone.
    missingness : :class:`skvae._missingness.SelfMasking` or None
        The missingness mechanism trained jointly (its parameters are in
        `optimizer`); None: ignorable.

    Losses are in nats of the data as the user gave it: the likelihood blocks
    include the log-Jacobians of their encodings.
    """

    def __init__(self, encoder, decoder, likelihood, optimizer, *, batch_size, beta,
                 shuffle_generator, noise_generator, n_importance=1, thread_tuner=None, missingness=None):
        self.n_importance = n_importance
        self.missingness = missingness
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.beta = beta
        self.shuffle_generator = shuffle_generator
        self.noise_generator = noise_generator
        self.thread_tuner = thread_tuner
        self.first_step_loss = None  # the loss of the current epoch's first step (run_epoch)
        self.latent_dim = encoder.mean_head.out_features
        #: Noise entries per row and draw: z's, then the missing values' draws.
        self.noise_width = self.latent_dim + (0 if missingness is None else missingness.noise_width)
        self.device = encoder.mean_head.weight.device

    @property
    def _modules(self):
        return (self.encoder, self.decoder) if self.missingness is None else (
            self.encoder, self.decoder, self.missingness)

    def training_rows(self, X, observed):
        """(X, observed, the encoder's view of X or None, the data-only log terms): the rows :meth:`run_epoch` takes.

        The last is the sum over the rows of the likelihood's terms that
        depend on the data alone (log-Jacobians, -log x!; see
        ``CompositeLikelihood.log_constant``), a device scalar: they carry no
        gradient, so steps leave them out (on the computer-prices table they
        were 4 % of a step) and each epoch's loss adds them once.

        The view (one-hot codes, transformed counts, the missingness mask) is
        a function of each row alone, so it is computed once per fit rather
        than once per batch, where it takes at most
        :data:`ENCODER_INPUT_BYTES`; None where it would take more or where X
        stayed on the host, too large for the device (each batch then
        computes its own), and where it is X itself (all-Gaussian columns
        without a mask).
        """
        return X, observed, self.encoder_view(X, observed), self._log_constant(X, observed)

    def encoder_view(self, X, observed):
        """The encoder's view of X computed once, or None (see :meth:`training_rows`): also validation's."""
        too_large = X.shape[0] * self.likelihood.input_width * X.element_size() > ENCODER_INPUT_BYTES
        if too_large or X.device != self.device:
            return None
        with torch.no_grad():
            inputs = self.likelihood.encoder_input(X, observed)
        # A view of all of X (x[..., 0:width] of one Gaussian block) is X: no second gather per batch.
        same = (inputs.data_ptr(), inputs.shape, inputs.stride()) == (X.data_ptr(), X.shape, X.stride())
        return None if same else inputs

    def _log_constant(self, X, observed):
        """Sum over the rows of the likelihood's data-only log terms, in blocks of rows moved to the device."""
        total = torch.zeros((), device=self.device, dtype=DTYPE)
        with torch.no_grad():
            for start in range(0, X.shape[0], LOG_CONSTANT_ROWS):
                rows = slice(start, start + LOG_CONSTANT_ROWS)
                mask = None if observed is None else observed[rows].to(self.device)
                total += self.likelihood.log_constant(X[rows].to(self.device), mask).sum()
        return total

    def train_step(self, x, observed=None, encoder_input=None):
        """One Adam step on a batch; returns the batch's summed loss (a device tensor).

        The loss leaves out the likelihood's data-only terms (the same for
        every weight: no gradient); :meth:`run_epoch` adds their sum over the
        rows, taken once per fit.

        `observed` (bool, like x) marks the cells that are there; None means all.
        `encoder_input`: the encoder's view of the batch, or None to compute it.
        """
        if self.n_importance == 1:
            noise = torch.randn((x.shape[0], self.noise_width), generator=self.noise_generator, device=self.device,
                                dtype=DTYPE)
            loss = negative_elbo(self.encoder, self.decoder, self.likelihood, x, noise, self.beta, observed,
                                 self.missingness, encoder_input, constants=False).mean()
        else:
            noise = torch.randn(
                (self.n_importance, x.shape[0], self.noise_width), generator=self.noise_generator, device=self.device,
                dtype=DTYPE,
            )
            loss = -importance_weighted_bound(self.encoder, self.decoder, self.likelihood, x, noise, observed,
                                              missingness=self.missingness, encoder_input=encoder_input,
                                              constants=False).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.detach() * x.shape[0]

    def run_epoch(self, data):
        """One pass over `data` (:meth:`training_rows`) in shuffled minibatches.

        Returns the mean loss per row (one host sync per epoch).
        """
        X, observed, inputs, log_constant = data
        n_rows = X.shape[0]
        order = torch.randperm(n_rows, generator=self.shuffle_generator).to(X.device)
        total = -log_constant
        self.first_step_loss = None
        for start in range(0, n_rows, self.batch_size):
            index = order[start : start + self.batch_size]
            batch = X[index].to(self.device, non_blocking=True)
            mask = None if observed is None else observed[index].to(self.device, non_blocking=True)
            view = None if inputs is None else inputs[index]  # on the device: training_rows made it there
            if self.thread_tuner is not None:
                self.thread_tuner.before_step()
            step_loss = self.train_step(batch, mask, view)
            if self.first_step_loss is None:
                # A device tensor: read (one host sync) only when the epoch diverges (run's rollback).
                self.first_step_loss = step_loss
            total += step_loss
            if self.thread_tuner is not None:
                self.thread_tuner.after_step()
        return float(total) / n_rows

    def validation_score(self, validation):
        """Mean held-out bound per row, with noise fixed for the whole fit.

        The bound the model is trained on: the ELBO (beta = 1), or with
        ``n_importance`` > 1 the importance-weighted bound, which IWAE
        training raises while its ELBO may fall. `validation` is
        (X_valid, observed, encoder view or None, noise).
        """
        X_valid, observed, inputs, noise = validation
        total = 0.0
        with torch.inference_mode():
            for start in range(0, X_valid.shape[0], 4096):
                rows = slice(start, start + 4096)
                mask = None if observed is None else observed[rows]
                view = None if inputs is None else inputs[rows]
                if noise.dim() == 3:
                    bound = importance_weighted_bound(
                        self.encoder, self.decoder, self.likelihood, X_valid[rows], noise[:, rows], mask,
                        missingness=self.missingness, encoder_input=view)
                else:
                    bound = -negative_elbo(
                        self.encoder, self.decoder, self.likelihood, X_valid[rows], noise[rows], observed=mask,
                        missingness=self.missingness, encoder_input=view)
                total += float(bound.sum())
        return total / X_valid.shape[0]

    def run(self, data, n_epochs, *, rule=None, validation=None, reporter=None,
            first_epoch=1, fresh=False, start_is_best=False):
        """Train for up to `n_epochs` epochs; returns a :class:`TrainingLog`.

        `data` is :meth:`training_rows`' (X, observed or None, view or None, data-only log terms).
        `rule` (a :class:`StoppingRule`, or None for exactly `n_epochs` epochs) monitors the training loss, or the
        negative validation score when `validation` = (X_valid, observed,
        view, noise) is given. `start_is_best`: the weights before the first
        epoch are the best so far (a continued fit's, scored as `rule`'s best
        loss), kept unless an epoch beats them.
        """
        log = TrainingLog()
        best = None
        epoch = first_epoch - 1
        weights = _FlatWeights(self._modules)
        before_epoch = weights.copy()
        after_epoch = torch.empty_like(before_epoch)
        # The weights before the last finite epoch (None before one): its first step's loss was finite at them.
        earlier = None
        # Whether the epoch in flight has done its bookkeeping (loss, validation score, report), and
        # how many entries the log had before it: a Ctrl-C before that drops the epoch whole.
        epoch_done, whole_losses, whole_scores = True, 0, 0
        spare_best = None
        last_was_best = False  # whether the last whole epoch's weights are `best` (and spare_best the best before)
        if start_is_best:
            best = weights.copy()
        moments = _AdamMoments(self.optimizer)
        try:
            for epoch in range(first_epoch, first_epoch + n_epochs):
                moments.save()
                epoch_done, whole_losses, whole_scores = False, len(log.losses), len(log.validation_scores)
                # partial_fit (no rule) is one epoch of a budget only the user knows.
                factor = 1.0 if rule is None else budget_anneal_factor(epoch - first_epoch, n_epochs)
                self.first_step_loss = None
                with scaled_learning_rate(self.optimizer, factor):
                    loss = self.run_epoch(data)
                weights.copy(out=after_epoch)
                # The last step of an epoch can break the weights after its loss was taken.
                if not (math.isfinite(loss) and bool(after_epoch.isfinite().all())):
                    weights.load(before_epoch)
                    if earlier is not None and self._first_step_broke():
                        # Hostile sweep 18: an epoch's loss is taken before each of its steps, so the
                        # weights after its last step are first scored by the next epoch's first step.
                        # Where that step's loss is already non-finite, the weights "of the last good
                        # epoch" are the broken ones: with one batch per epoch, learning_rate=1e6 kept
                        # weights scoring -1e51 (with a warning calling them good), and 1e37 failed after
                        # training with the networks' overflow on the training rows, blamed on the data.
                        # Back to the weights that epoch started from, which its own first step scored:
                        # the epoch is undone (and with it, in a fresh fit of one such epoch, the model).
                        weights.load(earlier)
                        log.losses.pop()
                        if validation is not None:
                            # Hostile sweep 23: with validation this undo was skipped, so a fit with
                            # early_stopping=True kept the broken epoch (its held-out score -inf, the model
                            # scoring -1e43) where one without refused it. Its score goes with it, and so
                            # does its place as the best (the best before it comes back, or none).
                            log.validation_scores.pop()
                            if last_was_best:
                                best = spare_best
                    # Adam's moments hold the non-finite gradients: keeping them
                    # would break the restored weights again on the next step.
                    self.optimizer.state.clear()
                    self._diverged(epoch, loss, no_good_weights=fresh and not log.losses)
                    log.stop_reason = "diverged"
                    break
                log.losses.append(loss)
                monitored = loss
                if validation is not None:
                    score = self.validation_score(validation)
                    log.validation_scores.append(score)
                    monitored = -score
                if reporter is not None:
                    reporter.update(epoch, loss, log.validation_scores[-1] if validation else None)
                # Hostile sweep 20: a Ctrl-C while the held-out rows were scored or the progress line
                # written rolled the weights back to the epoch's start but kept its loss (and score):
                # a model of one epoch was labelled as two, and loss_curve_ outran validation_scores_.
                # The epoch is whole, and its weights kept, once its score has been judged: interrupted
                # while it was, the best weights (restored below) would not be those of the best score.
                # The best weights are copied aside and swapped in by one assignment, with the flag, so
                # that no Ctrl-C lands between them.
                last_was_best = False
                if rule is not None and rule.update(monitored) and validation is not None:
                    candidate = weights.copy(out=spare_best)
                    best, spare_best, last_was_best, epoch_done = candidate, best, True, True
                epoch_done = True
                if rule is not None and rule.should_stop and not rule.on_plateau(self.optimizer):
                    log.stop_reason = "converged"
                    break
                spare = earlier if earlier is not None else torch.empty_like(before_epoch)
                earlier, before_epoch, after_epoch = before_epoch, after_epoch, spare
        except KeyboardInterrupt:
            if not epoch_done:
                # Mid-epoch weights are a partial update: keep the last whole epoch, its log and Adam's state.
                weights.load(before_epoch)
                moments.restore()
                del log.losses[whole_losses:]
                del log.validation_scores[whole_scores:]
            log.stop_reason = "interrupted"
            warn(
                f"Training interrupted by the user during epoch {epoch}; the model "
                "keeps the best weights so far.",
                UserWarning,
            )
        if best is not None:
            weights.load(best)
        if rule is not None and log.stop_reason == "max_iter" and not rule.fixed_budget:
            # scikit-learn MLP's words first (users filter on them), then what to do about it.
            # The parameter as terms (hostile sweep 28): ``skvae fit`` says --max-iter.
            origin = ("the budget ", parameter("max_iter", "auto"), " gives data of this size; ") if rule.auto_budget \
                else ()
            warn(TermConvergenceWarning(
                f"Stochastic optimizer: maximum iterations ({n_epochs}) reached and the "
                "optimization hasn't converged yet (", *origin, Term("parameter", "an int max_iter", name="max_iter"),
                f" above {n_epochs} trains longer).",
            ), TermConvergenceWarning)
        return log

    def _first_step_broke(self):
        """Whether the last epoch's first step had a non-finite loss (:meth:`run_epoch` records it)."""
        first = self.first_step_loss
        return first is not None and not math.isfinite(float(first))

    def _diverged(self, epoch, loss, no_good_weights):
        what = f"The training loss became {loss}" if not math.isfinite(loss) else "The weights became non-finite"
        # The parameter as a term (hostile sweep 28): ``skvae fit`` says --learning-rate.
        message = (f"{what} in epoch {epoch}. This usually means ", parameter("learning_rate"),
                   " is too large for this data, or the data holds extreme values.")
        if no_good_weights:
            raise Refusal(*message, " No finite epoch was reached, so there is no model to keep.")
        warn(TermConvergenceWarning(
            *message, " Training stopped and the model keeps the weights of the last good epoch.",
        ), TermConvergenceWarning)
