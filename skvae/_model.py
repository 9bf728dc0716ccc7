"""The model core: one object owns the fitted schema, the networks, their training and their inference.

The scikit-learn faces (:class:`skvae.VAETransformer`, and through it the
imputer and the outlier detector) validate their input and parameters, call
one method of a :class:`VAEModel`, and shape its result. Everything below
that line lives here or in the modules this one calls:

- the column schema and the likelihood blocks (:mod:`skvae._schema`,
  :mod:`skvae._likelihoods`),
- the networks (:mod:`skvae._networks`) on a device (:mod:`skvae._device`),
- training (:mod:`skvae._training`, with the objectives of
  :mod:`skvae._objectives`),
- inference in bounded batches (:mod:`skvae._inference`, the same objectives).

No scikit-learn here: parameters arrive as a plain dict (the face's
``get_params()``, already validated) and randomness as integer seeds.
"""

import copy
import functools
import math
import threading

import numpy as np
import torch

from . import _row_noise
from ._device import place_training_data, resolve_device, restore_device, runs_on
from ._inference import (
    BLOCK_WORK,
    FLOAT32_SAFE,
    InferenceCache,
    InferenceNetworks,
    NetworkOverflow,
    draw_chunks,
    map_row_batches,
    rows_per_batch,
    split_missing,
)
from ._likelihoods import GaussianBlock
from ._memory import (
    check_host_allocation,
    check_networks_fit,
    check_step_fits,
    networks_terms,
)
from ._missingness import build_missingness, mechanism_name
from ._moments import standardize
from ._networks import build_networks, count_parameters
from ._progress import EpochReporter
from ._refusals import Refusal, TermWarning, advice, count, parameter
from ._schema import TableSchema, is_dataframe
from ._exclusive_groups import group_level_shares
from ._seen_pairs import level_shares, raking_weights, ruled_columns, weighted_choice
from ._threads import ThreadTuner, resolve_n_jobs, torch_threads, training_threads
from ._torch_scope import DTYPE
from ._training import (
    LR_DECAYS,
    StoppingRule,
    Trainer,
    batch_rows,
    budget_epochs,
    make_adam,
    patience_epochs,
    use_validation,
)
from ._warnings import warn

#: The type a ``device`` parameter may have besides a string (for the faces' constraints).
DEVICE_TYPE = torch.device

_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}

#: Largest standardized magnitude :meth:`VAEModel._transform_plain` takes: far
#: below FLOAT32_SAFE, so that no rounding to float32 can move a row across it.
_PLAIN_BOUND = FLOAT32_SAFE / 2
# Adam's implementation choice is the machine's, not the model's (see VAEModel.from_state).
_ADAM_IMPLEMENTATION_FLAGS = ("fused", "foreach")
_INT32_MAX = np.iinfo(np.int32).max
#: Rounds of redrawing the samples that pair discrete values never seen
#: together (see VAEModel._keep_seen_pairs): each round redraws only the rows
#: still holding one, so a share r of such rows costs about r / (1 - r) more
#: draws, and after 20 rounds r**21 of them are left (below 1e-6 for r = 0.5).
MAX_PAIR_REDRAWS = 20
#: Rows times columns per chunk of samples kept to the seen pairs: the chunk's
#: extra draws are held at once, and its level shares are estimated on it.
SAMPLE_CHUNK_CELLS = 1 << 22
#: Rows drawn per sample kept to the seen pairs, where a chunk holds an unseen
#: pair: the kept rows are chosen among them, and a row is chosen at most
#: once, so a row's weight counts in full up to this many times the mean.
POOL_FACTOR = 3
#: Rows times training rows per block of the posterior densities that give
#: samples their missing cells (VAEModel._holes_at).
HOLE_BLOCK_ENTRIES = 1 << 22

#: The estimator's pickled fields that a :class:`VAEModel` holds, and its
#: attribute for each (see :data:`skvae._state.FITTED_FIELDS`), in 0.2.0's order.
STATE_FIELDS = {
    "device_": "device",
    "_seed": "seed",
    "_schema": "schema",
    "_network_spec": "spec",
    "encoder_": "encoder",
    "decoder_": "decoder",
    "optimizer_": "optimizer",
    "n_iter_": "n_iter",
    "loss_curve_": "loss_curve",
    "best_loss_": "best_loss",
    "validation_scores_": "validation_scores",
    "best_validation_score_": "best_validation_score",
    # Only in the state of a model with a missingness mechanism (not ignorable).
    "missingness_": "missingness",
    # Only in the state of a model fitted since skvae 0.4 (see set_latent_mixture).
    "_latent_mixture": "latent_mixture",
    # Only in the state of a model fitted since skvae 0.11: how its rows' noise is keyed (see EncodedRows).
    "_noise_keys": "noise_keys",
}
_TORCH_FIELDS = ("encoder_", "decoder_", "optimizer_", "missingness_")


def _without_inference_tensors(value):
    """`value` (a state dict, nested) with tensors made under ``torch.inference_mode`` cloned to normal ones.

    Unpickling inside the user's inference mode makes every tensor of the state
    an inference tensor; Adam's step counters, kept as they are by
    ``load_state_dict``, could then never be updated in place (the next fit fails).
    """
    if isinstance(value, torch.Tensor):
        return value.clone() if value.is_inference() else value
    if isinstance(value, dict):
        return {key: _without_inference_tensors(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_without_inference_tensors(item) for item in value)
    return value


def network_spec(likelihood, params):
    """The architecture of the networks for `likelihood` and the face's `params` (a plain dict)."""
    return {
        "n_inputs": int(likelihood.input_width),
        "n_params": int(likelihood.n_params),
        "n_free": int(likelihood.n_free),
        "latent_dim": int(params["latent_dim"]),
        "hidden_layer_sizes": [int(size) for size in params["hidden_layer_sizes"]],
        "activation": params["activation"],
    }


def fit_model(model, X, params, *, incremental, seed=None):
    """Train on validated X: a new model when `model` is None (seeded by `seed`), else `model` in place.

    `params` are the face's parameters, validated, with ``hidden_layer_sizes``
    as a tuple of ints. `incremental`: one epoch without stopping rule or
    validation (``partial_fit``). Returns the trained model. A new model is
    returned only on success, so a failed fresh fit leaves the caller's model
    as it was; a continued one trains `model` in place, and the call's
    transaction puts it back if the call fails (:meth:`VAEModel.rollback_point`).
    """
    fresh = model is None
    # The rows of this call decide an "auto" batch, as they decide an "auto" budget.
    params = {**params, "batch_size": batch_rows(params["batch_size"], X.shape[0])}
    if fresh:
        schema, raw = TableSchema.fit_with_raw_values(X, params["likelihood"])
        encoded = schema.encode(raw)
        spec = network_spec(schema.likelihood(), params)
        device = str(resolve_device(params["device"]))
        # The networks first: an oversized spec is the reason to report, not the step it would take.
        check_networks_fit(spec, device)
        check_step_fits(spec, min(params["batch_size"], len(encoded)), params["n_importance_train"], device)
        model = VAEModel(schema, spec, device, seed, params["learning_rate"], params["missing_mechanism"])
    else:
        # Hostile sweep 14: partial_fit continues whatever warm_start says, so "set warm_start=False"
        # led back to the same refusal there.
        refit = ("Call fit (with warm_start=False) or start a new estimator to refit" if incremental
                 else "Set warm_start=False (or start a new estimator) to refit")
        model.schema.check_likelihood_parameter(params["likelihood"], refit)
        raw = model.schema.raw_values(X, params["handle_unknown"], continued=True)
        beyond_range = model.schema.beyond_fitted_range(raw)  # before encode, which overwrites raw
        levels_now_seen = model.schema.unseen_levels_held(raw)
        seen_pairs = model.schema.seen_pairs_with(raw)
        groups = model.schema.exclusive_groups_with(raw)
        encoded = model.schema.encode(raw)
        model.check_continuation(network_spec(model.schema.likelihood(), params), params["learning_rate"],
                                 params["missing_mechanism"], params["device"], refit)
        check_step_fits(model.spec, min(params["batch_size"], len(encoded)), params["n_importance_train"],
                        model.device)
    n_threads, tune = training_threads(params["n_jobs"], *model.thread_plan(params["n_jobs"], params["batch_size"]))
    with torch_threads(n_threads):
        model.train(encoded, params, incremental=incremental, fresh=fresh,
                    thread_tuner=ThreadTuner(n_threads) if tune else None)
    if not fresh:
        # After training: a refused or failed continuation leaves the record as it was.
        model.schema.set_seen_pairs(seen_pairs)
        model.schema.set_exclusive_groups(groups)
        model.schema.mark_levels_seen(levels_now_seen)
        model.inference_cache.clear()  # networks built with the decoding masks of the levels seen before
        if beyond_range:
            _warn_beyond_fitted_range(beyond_range, incremental)
    return model


def _warn_beyond_fitted_range(beyond_range, incremental):
    """Warn that a continued fit trained on numbers outside the range the first fit fixed, naming the columns.

    Decided (hostile sweep 31): a warning, not a refusal. The first fit fixes
    the schema by design (sweep 20), and the rows are fair training data; but
    what is generated and imputed stays in the first fit's range, which the
    user must hear of: a category the first fit did not see is refused.
    """
    from ._warnings import warn

    shown = "; ".join(f"column {name!r} holds {value:.6g} (fitted range [{low:.6g}, {high:.6g}])"
                      for name, value, low, high in beyond_range[:5])
    more = f"; and {len(beyond_range) - 5} more column(s)" if len(beyond_range) > 5 else ""
    first = "the first partial_fit block" if incremental else "the first fit"
    warn(f"This continued fit's X holds values outside the range {first} saw, which fixed each column's "
         f"scaling and range: {shown}{more}. sample(), inverse_transform and imputed values never leave "
         f"the fitted range. To model the whole range, fit on a table (or a first block) that spans it, or "
         f"refit with warm_start=False.", UserWarning)


class VAEModel:
    """A fitted VAE: schema, networks, optimizer, training history; trains and infers.

    Parameters
    ----------
    schema : TableSchema
        The fitted column schema (encoding, kinds, likelihood blocks).
    spec : dict
        The network architecture (:func:`network_spec`).
    device : str
        Where the networks live.
    seed : int
        Seeds the initial weights, every training step's randomness (with
        ``n_iter``) and every row's Monte Carlo noise in inference.
    learning_rate : float
        Adam's step size.
    missing_mechanism : {"ignorable", "self_masking"}, default="ignorable"
        The model of the missingness mask (:mod:`skvae._missingness`),
        trained jointly with the networks.
    """

    def __init__(self, schema, spec, device, seed, learning_rate, missing_mechanism="ignorable"):
        # Before allocating: a spec far beyond memory is refused at once, not after swapping.
        check_networks_fit(spec, device)
        self.schema, self.spec, self.device, self.seed = schema, spec, device, int(seed)
        self.encoder, self.decoder = self._build_networks()
        self.missingness = self._build_missingness(missing_mechanism)
        if self.missingness is not None and not self.missingness.all_columns:
            # The parameter as a term (hostile sweep 23): the command line says its option,
            # --missing-mechanism self_masking, where it warned with the Python parameter.
            warn(TermWarning(
                parameter("missing_mechanism", "self_masking"),
                " models no column of this table: it applies to columns of the "
                "'gaussian', 'quantile_normal' and 'lognormal' kinds, and 'categorical' columns whose levels are "
                "numbers, that have missing cells "
                f"(the kinds here: {sorted(set(schema.kinds))}). The fit is the ignorable one."),
                TermWarning)
        self.latent_mixture = None
        # A new model keys its rows' noise on their values rounded to float32; one loaded from a file that
        # says nothing keys it on float64 bits, as it was fitted and scored (see EncodedRows).
        self.noise_keys = "float32"
        self.optimizer = make_adam(self._parameters(), learning_rate)
        self.n_iter = 0
        self.loss_curve = []
        self.best_loss = None
        self.validation_scores = None
        self.best_validation_score = None
        self.inference_cache = InferenceCache()

    def _build_networks(self):
        generator = torch.Generator().manual_seed(self.seed)
        try:
            encoder, decoder = build_networks(self.spec, generator)
            return encoder.to(self.device), decoder.to(self.device)
        except (RuntimeError, MemoryError) as error:
            raise Refusal(
                "Could not build the networks with ",
                *networks_terms(self.spec["hidden_layer_sizes"], self.spec["latent_dim"]),
                " on ", parameter("device", self.device), f": {error}",
            ) from None

    def _build_missingness(self, missing_mechanism, n_parameters=None):
        missingness = build_missingness(missing_mechanism, self.schema.likelihood(), n_parameters)
        return None if missingness is None else missingness.to(self.device)

    def _parameters(self):
        """What Adam trains, in the optimizer state's order: encoder, decoder, then the mechanism."""
        modules = (self.encoder, self.decoder) if self.missingness is None else (
            self.encoder, self.decoder, self.missingness)
        return [parameter for module in modules for parameter in module.parameters()]

    def rollback_point(self):
        """What a call may change in place (weights, Adam's state, the record), for :meth:`roll_back`.

        A continued fit (``warm_start``, ``partial_fit``) trains this model in
        place, and the work after training can still fail (the latent
        mixture; the imputer's and the detector's scoring of their rows): the
        call's transaction (:mod:`skvae._transaction`) then puts it back.
        """
        with torch.no_grad():
            weights = [parameter.detach().clone() for parameter in self._parameters()]
        return dict(vars(self)), dict(vars(self.schema)), weights, copy.deepcopy(self.optimizer.state_dict())

    def roll_back(self, point):
        """Put back the state of :meth:`rollback_point` (its networks and optimizer, refilled in place)."""
        fields, schema_fields, weights, optimizer_state = point
        vars(self).clear()
        vars(self).update(fields)
        vars(self.schema).clear()
        vars(self.schema).update(schema_fields)
        with torch.no_grad():
            for parameter, saved in zip(self._parameters(), weights):
                parameter.copy_(saved)
        _load_adam_state(self.optimizer, optimizer_state)
        self.inference_cache.clear()

    @property
    def missing_mechanism(self):
        """The fitted ``missing_mechanism``: "ignorable" or "self_masking"."""
        return mechanism_name(self.missingness)

    @property
    def modelled_missingness(self):
        """The mechanism where it models some column, else None: what inference and the detector use.

        A ``"self_masking"`` fit on a table with no column the mechanism can
        model keeps its empty module (the fitted ``missing_mechanism`` stays
        ``"self_masking"``, so a later ``partial_fit`` continues it), and
        warns that the fit is the ignorable one. Hostile sweep 23: its
        inference still took the mechanism's path, so a row with no observed
        cell scored a noisy bound (-0.078 where the ignorable model says 0,
        exactly) and ``VAEOutlierDetector`` ranked such rows as inliers
        instead of flagging them; with no column to model, p(s) = 1 and the
        model is the ignorable one in every answer, as the warning says.
        """
        missingness = self.missingness
        return missingness if missingness is not None and missingness.all_columns else None

    @property
    def self_masked_columns(self):
        """Table positions of the columns the mechanism models (none when ignorable)."""
        return () if self.missingness is None else tuple(self.missingness.columns)

    @property
    def noise_width(self):
        """Standard normal entries per row and draw in the bounds: z's, then the mechanism's draws."""
        return self.latent_dim + (0 if self.missingness is None else self.missingness.noise_width)

    # ------------------------------------------------------------ state

    def state(self):
        """The model's part of the estimator's pickled state: plain values and CPU state dicts."""
        state = {field: getattr(self, name) for field, name in STATE_FIELDS.items()}
        state["_schema"] = self.schema.to_dict()
        if self.missingness is None:
            # An ignorable model's state is 0.2.0's: no entry for the mechanism.
            del state["missingness_"]
        if self.latent_mixture is None:
            del state["_latent_mixture"]
        if self.noise_keys is None:
            del state["_noise_keys"]
        for field in _TORCH_FIELDS:
            if field in state:
                state[field] = _to_cpu(state[field].state_dict())
        return state

    @classmethod
    def from_state(cls, state):
        """The model of a checked state (:func:`skvae._state.check_state`), on an available device."""
        model = cls.__new__(cls)
        for field, name in STATE_FIELDS.items():
            if field not in _TORCH_FIELDS:
                # check_state made sure the required fields are there.
                setattr(model, name, state.get(field))
        model.device = str(restore_device(model.device))
        check_networks_fit(model.spec, model.device)
        model.encoder, model.decoder = model._build_networks()
        state = {field: _without_inference_tensors(state[field]) for field in _TORCH_FIELDS if field in state}
        model.encoder.load_state_dict(state["encoder_"])
        model.decoder.load_state_dict(state["decoder_"])
        model.missingness = None
        if "missingness_" in state:
            model.missingness = model._build_missingness(
                "self_masking", n_parameters=len(state["missingness_"]["slope_raw"]))
            model.missingness.load_state_dict(state["missingness_"])
        # The learning rate comes with the optimizer's state.
        model.optimizer = make_adam(model._parameters(), 1e-3)
        _load_adam_state(model.optimizer, state["optimizer_"])
        model.inference_cache = InferenceCache()
        return model

    def replaced(self, name, value):
        """A shallow copy with attribute `name` set to `value` (and its own inference cache)."""
        model = copy.copy(self)
        setattr(model, name, value)
        model.inference_cache = InferenceCache()
        return model

    @property
    def n_features(self):
        return len(self.schema.columns)

    @property
    def latent_dim(self):
        return self.spec["latent_dim"]

    @property
    def column_kinds(self):
        return dict(zip(self.schema.names, self.schema.kinds))

    # ------------------------------------------------------------ training

    def check_continuation(self, spec, learning_rate, missing_mechanism="ignorable", device="auto",
                           refit="Set warm_start=False (or start a new estimator) to refit"):
        """warm_start and partial_fit continue a model: its architecture, mechanism and device must be unchanged.

        ``device="auto"`` continues where the networks live, and so does a
        device of a kind skvae runs on that this machine lacks (``"cuda"``
        for a model fitted on a GPU and loaded on the CPU, as the load
        warned). A `device` that names no such device (``"garbage"``) is
        refused as a fresh fit refuses it, and one that exists here but is
        not the networks' is refused rather than ignored. `refit` is the
        advice that ends a refusal: how the caller's method refits instead.
        """
        if not (isinstance(device, str) and device == "auto"):
            try:
                wanted = str(resolve_device(device))
            except ValueError:
                if not runs_on(device):
                    raise
                wanted = self.device
            if wanted != self.device:
                raise ValueError(
                    f"Cannot continue training: the fitted model lives on {self.device!r} but the parameters now "
                    f"ask for device={device!r}. Set device={self.device!r} (or 'auto') to continue, or "
                    f"{refit[0].lower()}{refit[1:]} there."
                )
        if missing_mechanism != self.missing_mechanism:
            raise ValueError(
                f"Cannot continue training: the fitted model has missing_mechanism={self.missing_mechanism!r} "
                f"but the parameters now ask for {missing_mechanism!r}. {refit}."
            )
        changed = [k for k in spec if spec[k] != self.spec[k]]
        if changed:
            was = ", ".join(f"{k}={self.spec[k]!r}" for k in changed)
            now = ", ".join(f"{k}={spec[k]!r}" for k in changed)
            raise ValueError(
                f"Cannot continue training: the fitted model has {was} but the parameters "
                f"now ask for {now}. {refit}."
            )
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate

    def thread_plan(self, n_jobs, n_rows):
        """(threads, tune) for steps of `n_rows` rows: `n_jobs`, or the policy of skvae._threads.

        The work of a step is its multiply-adds, about one per weight and row.
        None threads (torch left alone) off the CPU, where the GPU does the work.
        """
        if self.device != "cpu":
            return None, False
        return resolve_n_jobs(n_jobs, n_rows * self.n_weights)

    @functools.cached_property
    def n_weights(self):
        """Scalar parameters of the networks: a fixed spec's, counted once, not on every one-row call."""
        return count_parameters(self.spec)[1]

    def train(self, encoded, params, *, incremental, fresh, thread_tuner=None):
        """Train on `encoded` rows (the schema's encoding, NaN where missing) and record the history."""
        early_stopping = params["early_stopping"]
        may_validate = not incremental and (isinstance(early_stopping, str) or bool(early_stopping))
        validatable = self._validatable_rows(encoded) if may_validate else None
        # The "auto" rule counts the rows a held-out set can be drawn from: it asks for 50 held-out rows
        # because fewer tell too little, and rows with nothing observed tell nothing.
        with_validation = may_validate and use_validation(
            early_stopping, encoded.shape[0] if validatable is None else int(validatable.sum()),
            params["validation_fraction"], self.n_weights)
        train, valid = self._split_validation(encoded, params["validation_fraction"], validatable) \
            if with_validation else (encoded, None)
        if valid is not None:
            valid = self._without_levels_unseen_in_training(train, valid)
        trainer = self._trainer(params, thread_tuner)
        steps_per_epoch = math.ceil(train.shape[0] / params["batch_size"])
        n_epochs = 1 if incremental else budget_epochs(params["max_iter"], steps_per_epoch)
        reporter = EpochReporter(params["verbose"], n_epochs)
        validation = None if valid is None else self._validation_data(valid, trainer)
        # Hostile sweep 23: a continued fit (warm_start) with validation took the previous fit's best
        # score as the one to beat, though that score was of other held-out rows or other noise, and
        # where no epoch beat it kept its last epoch's weights, whatever they scored: the weights it
        # started from (the previous fit's best) are now scored on this fit's held-out rows and count as
        # the best so far, so a continued fit keeps them unless an epoch beats them.
        start_score = None if validation is None or fresh else trainer.validation_score(validation)
        if start_score is not None and not math.isfinite(start_score):
            start_score = None  # weights that score no number on the held-out rows are no best to keep
        log = trainer.run(
            trainer.training_rows(*_training_data(train, trainer.device)),
            n_epochs,
            rule=None if incremental else self._stopping_rule(params, with_validation, steps_per_epoch, n_epochs,
                                                              start_score),
            validation=validation,
            reporter=reporter,
            first_epoch=self.n_iter + 1,
            fresh=fresh,
            start_is_best=start_score is not None,
        )
        # partial_fit runs one epoch by definition: no stopping to report.
        summary = f"Training stopped after epoch {self.n_iter + len(log.losses)}: {log.stop_reason}."
        reporter.close(None if incremental else summary)
        self._record(log, with_validation, start_score)
        self.inference_cache.clear()

    def _generators(self, n_iter=None):
        """Fresh generators for this call, derived from the seed and n_iter (`n_iter`, or the model's).

        Deriving them (rather than storing generator objects) keeps the model
        picklable and makes warm-started runs repeatable too.
        """
        n_iter = self.n_iter if n_iter is None else n_iter
        shuffle_seed, noise_seed = np.random.SeedSequence([self.seed, n_iter]).generate_state(2)
        shuffle = torch.Generator().manual_seed(int(shuffle_seed))
        noise = torch.Generator(device=self.device).manual_seed(int(noise_seed))
        return shuffle, noise

    def _trainer(self, params, thread_tuner):
        shuffle, noise = self._generators()
        return Trainer(
            self.encoder,
            self.decoder,
            self.schema.likelihood().to(torch.device(self.device), torch.float32),
            self.optimizer,
            batch_size=params["batch_size"],
            beta=params["beta"],
            shuffle_generator=shuffle,
            noise_generator=noise,
            n_importance=params["n_importance_train"],
            thread_tuner=thread_tuner,
            missingness=self.missingness,
        )

    def _validatable_rows(self, encoded):
        """Which rows a held-out set may take (a bool per row), or None for every row.

        Hostile sweep 23: under the ignorable mechanism a row with no observed cell has no data to
        score, only the KL term of the encoder's answer to nothing, so a held-out set of such rows
        (early_stopping=True on a few rows, a table with empty rows) judged the epochs and picked the
        weights by that term alone. Such rows train; the held-out ones are drawn from the others.
        Under self-masking the mask itself is scored, and every row counts; a self_masking fit that models
        no column scores no mask (p(s) = 1, :attr:`modelled_missingness`), so its empty rows hold nothing out
        either (a review of sweep 23: they were held out there, the ignorable fit's defect again).
        """
        if self.modelled_missingness is not None:
            return None
        empty = np.isnan(encoded).all(axis=1)
        return ~empty if empty.any() else None

    def _split_validation(self, encoded, validation_fraction, validatable=None):
        """(train, valid) rows, shuffled: the split of ``sklearn.model_selection.train_test_split``.

        The held-out rows are drawn from the `validatable` ones (every row when None);
        the others all train.
        """
        n_rows = encoded.shape[0]
        if n_rows < 2:
            # The parameter as a term (hostile sweep 28): ``skvae fit --early-stopping`` of one row said
            # early_stopping=True. scikit-learn's checks look for "n_samples=1", which stays.
            raise Refusal(
                advice("validation_on", "early_stopping=True"),
                f" needs at least 2 samples to hold out a validation set; got n_samples={n_rows}.",
            )
        # The permutation train_test_split(random_state=seed) draws, so that fits repeat 0.2.0's. Hostile
        # sweep 23: it was drawn from seed + n_iter, so a warm_start fit on the same rows held out rows the
        # fit before had trained on; their score fell as training went on without them, and the stopping
        # rule kept the continued fit's first epoch. The same rows are held out now, fit after fit.
        order = np.random.RandomState(self.seed).permutation(n_rows)
        candidates = order if validatable is None else order[validatable[order]]
        if len(candidates) < 2:
            raise Refusal(
                advice("validation_on", "early_stopping=True"), " needs at least 2 rows with an observed cell, to "
                "hold one out for validation (a row with no observed cell scores alike under any weights); the "
                f"table has {len(candidates)}. ", advice("validation_off", "Set early_stopping=False."),
            )
        n_valid = min(max(1, int(round(validation_fraction * len(candidates)))), len(candidates) - 1)
        held_out = candidates[:n_valid]
        if validatable is None:
            return encoded[order[n_valid:]], encoded[held_out]
        return encoded[order[~np.isin(order, held_out)]], encoded[held_out]

    def _without_levels_unseen_in_training(self, train, valid):
        """`valid` with its category cells of levels that no training row holds made missing.

        The held-out rows judge what the fit can learn; a level no training row
        holds has no evidence in the fit, and as training goes on the softmax
        gives it less and less probability, whatever the weights learn of the
        other columns. An identifier-like column (a name or a sample id per row)
        holds such a level in every held-out row: their score then fell from
        the first epochs and the stopping rule ended the fit early, every other
        column undertrained (real-tables sweep, modeldata's ``biomass`` with
        its ``sample`` column: stopped at 65 epochs, mean column shape 0.878;
        without the column 224 epochs and 0.958; ``sulfur`` 0.797 against
        0.955). Such cells are scored as missing cells are: dropped from
        log p(x), the rest of their rows scored. Under self-masking, the level
        columns the mechanism models keep their cells: their mask is scored,
        and a hole there would be scored as a missing value. Held-out rows
        left with no observed cell are not held out (they would be scored by
        the KL term alone, see :meth:`_validatable_rows`), unless no held-out
        row keeps one: the split then stays as it was.
        """
        categorical = self.schema._positions[0].get("categorical", [])
        modelled = self.modelled_missingness
        kept = set() if modelled is None else set(modelled.level_columns)
        masked = valid
        for j in categorical:
            if j in kept:
                continue
            codes = valid[:, j]
            trained = train[:, j]
            seen = np.unique(trained[~np.isnan(trained)])
            unseen = ~np.isnan(codes) & ~np.isin(codes, seen)
            if unseen.any():
                if masked is valid:
                    masked = valid.copy()
                masked[unseen, j] = np.nan
        if masked is valid or modelled is not None:
            return masked
        scored = ~np.isnan(masked).all(axis=1)
        return masked[scored] if scored.any() else valid

    def _validation_data(self, encoded, trainer):
        values, observed = _training_data(encoded, trainer.device)
        draws = () if trainer.n_importance == 1 else (trainer.n_importance,)
        # The held-out rows' noise is that of the first fit's, fit after fit (as the rows are): a continued
        # fit's scores then compare with the fit before's, at the same weights the same.
        generator = trainer.noise_generator if self.n_iter == 0 else self._generators(n_iter=0)[1]
        noise = torch.randn((*draws, values.shape[0], self.noise_width),
                            generator=generator, device=trainer.device, dtype=DTYPE)
        values, observed = values.to(trainer.device), None if observed is None else observed.to(trainer.device)
        # The view only: validation scores take every term of the likelihood, data-only ones included.
        return values, observed, trainer.encoder_view(values, observed), noise

    def _stopping_rule(self, params, with_validation, steps_per_epoch, n_epochs, start_score=None):
        """The rule of this fit; with validation, `start_score` (a continued fit's starting weights, scored) to beat.

        Hostile sweep 23: without validation a continued fit's rule took ``best_loss_``, the smallest
        training loss of every fit before, as the one to beat: a warm_start fit on new data (or after a
        change of beta or batch_size), whose loss fell from 79 to 28 nats, counted every epoch as no
        improvement on the first data's 8.5, divided its learning rate twice and stopped after three
        "plateaus" of 20 epochs, as converged. The training loss has no such loss of the start to beat
        (it is taken during the steps), so a continued fit's rule judges its own epochs from the first.
        """
        if with_validation:
            best = -start_score if start_score is not None else math.inf
        else:
            best = math.inf
        patience = patience_epochs(params["n_iter_no_change"], steps_per_epoch,
                                   auto_budget=params["max_iter"] == "auto")
        return StoppingRule(params["tol"], patience, best_loss=best, lr_decays=LR_DECAYS,
                            fixed_budget=params["n_iter_no_change"] >= n_epochs,
                            auto_budget=params["max_iter"] == "auto")

    def _record(self, log, with_validation, start_score=None):
        self.n_iter += len(log.losses)
        # Rebound, not extended: a copy.copy of the estimator shares the list.
        self.loss_curve = [*self.loss_curve, *log.losses]
        if with_validation:
            self.validation_scores = (self.validation_scores or []) + log.validation_scores
            # Hostile sweep 26: a continued fit keeps the weights it started from unless an epoch beats
            # their held-out score (`start_score`, sweep 23), but only the epochs' scores were recorded.
            # After a fit without validation none of the record scored those weights, so where no epoch
            # beat them best_validation_score_ was a discarded epoch's score (-7.60 beside weights
            # scoring -6.65), or None after a Ctrl-C before the first epoch. The kept weights' score
            # counts as a candidate; it adds nothing to validation_scores_, one entry per epoch.
            candidates = self.validation_scores if start_score is None else [*self.validation_scores, start_score]
            self.best_validation_score = max(candidates, default=None)
            self.best_loss = None
        else:
            # Hostile sweep 20: a warm-start fit or partial_fit without validation after one with it
            # kept the earlier fit's validation_scores_ and best_validation_score_ beside a new
            # best_loss_, though both document the last fit (None when it held no rows out).
            self.validation_scores = None
            self.best_validation_score = None
            if self.loss_curve:
                self.best_loss = min(self.loss_curve)

    # ------------------------------------------------------------ inference
    #
    # X arrives validated by the face (a float array or a DataFrame of the
    # fitted columns); `handle_unknown` and `n_jobs` are the face's current
    # parameters, which may have changed since the fit.

    def networks(self, dtype):
        """The fitted networks for data in `dtype` (float32 or float64), cached until the next fit."""
        dtype = _TORCH_DTYPES[np.dtype(dtype)]

        def build(dtype):
            return InferenceNetworks(self.encoder, self.decoder, self.schema.likelihood(), dtype,
                                     self.modelled_missingness)

        return self.inference_cache.get(dtype, build)

    def transform(self, X, *, handle_unknown, n_jobs):
        """Posterior means mu(x), shape (n_rows, latent_dim), in X's float dtype; 0 for an empty row."""
        codes = self._transform_plain(X, n_jobs)
        if codes is not None:
            return codes
        encoded = self.rows(X, handle_unknown, with_noise=False)
        networks = self.networks(encoded.dtype)

        def encode_rows(batch):
            values, observed = networks.batch(batch.values)
            codes = networks.encode_mean(values, observed)
            if observed is None or not batch.empty.any():  # no missing cell, so no empty row
                return codes
            # Nothing was seen to move the posterior away from the prior.
            return codes.masked_fill(networks.as_tensor(batch.empty)[:, None], 0.0)

        return self._naming_overflowing_cells(
            X, handle_unknown, encoded.dtype,
            lambda: map_row_batches(encode_rows, encoded, (self.latent_dim,), self.row_width(),
                                    n_threads=self.inference_threads(n_jobs, encoded.shape[0])))

    def _naming_overflowing_cells(self, X, handle_unknown, dtype, compute):
        """``compute()``, its overflow refused naming the columns and cells of X that caused it.

        Hostile sweep 21: ``transform`` and ``score_samples`` (the detector's
        too) of a row holding 1e300 in a column fitted on values near 1e-300
        said only "The fitted networks overflowed on 1 of 60 rows", naming no
        column, where VAEImputer (sweep 10) and ``sample(given=...)`` name the
        value and its fitted range. The same words now, from the same finder
        (``_conditional.overflowing_cells``); where no number lies outside its
        range, the refusal stays as the networks gave it.
        """
        try:
            return compute()
        except NetworkOverflow as error:
            from ._conditional import overflowing_cells

            message = overflowing_cells(self.schema, X, error.rows, X.shape[0], handle_unknown)
            if message is None:
                raise
            hint = (" float64 input has a far wider range than float32.",) if dtype == np.float32 else ()
            raise NetworkOverflow(message + hint, error.rows) from None

    def _transform_plain(self, X, n_jobs):
        """:meth:`transform` of one batch of plain float rows of an all-Gaussian model, or None where it does not apply.

        A one-row ``transform`` is mostly fixed cost: the general path's
        per-kind encoding, tensor conversions, padding and checks took longer
        than the network itself (benchmarks/results/PROFILE.md, "One-row
        transform"). For the commonest case (a float ndarray, every column
        Gaussian, no missingness inputs, the CPU), this path standardizes in
        NumPy, casts and pads on the NumPy side in one write, and runs the
        float32 encoder on the same padded shape. Every step is the general
        path's arithmetic, so each row's bits are the same on both paths (and
        so whatever its batch). Anything else answers None: other kinds,
        DataFrames, missing or infinite cells, values near FLOAT32_SAFE
        (whose rows may need the float64 networks), several batches.
        """
        if type(X) is not np.ndarray or self.device != "cpu" or X.ndim != 2 or X.shape[0] < 1:
            return None
        groups = self.schema._groups
        if len(groups) != 1 or groups[0][0] is not GaussianBlock or self.schema.mask_columns:
            return None
        _, columns, constants = groups[0]
        if columns != slice(0, X.shape[1]) or X.dtype not in _TORCH_DTYPES:
            return None
        if X.shape[0] > rows_per_batch(self.row_width()):  # bulk: the general path's bounded batches
            return None
        encoded = standardize(X, constants["shift"], constants["scale"])
        # NaN fails both tests; the bound keeps far from FLOAT32_SAFE, where the
        # general path decides in X's dtype which rows need float64 networks.
        if not (-_PLAIN_BOUND <= encoded.min() and encoded.max() <= _PLAIN_BOUND):
            return None
        networks = self.networks(X.dtype)
        return map_row_batches(networks.mean_of_plain_rows, encoded, (self.latent_dim,), self.row_width(),
                               out_dtype=X.dtype, n_threads=self.inference_threads(n_jobs, X.shape[0]))

    def posterior(self, X, *, handle_unknown, n_jobs, with_holes=False):
        """(means, standard deviations) of q(z | x) per row, each (n_rows, latent_dim), in X's float dtype.

        A row with no observed cell gets the prior's, (0, 1). `with_holes`:
        with a third array, (n_rows, columns) bool, whether each cell is
        missing (read in the same pass over X).
        """
        encoded = self.rows(X, handle_unknown, with_noise=False, with_holes=with_holes)
        networks = self.networks(encoded.dtype)
        latent_dim = self.latent_dim

        def posterior_rows(batch):
            mean, log_variance = networks.encoder(networks.likelihood.encoder_input(*networks.batch(batch.values)))
            empty = networks.as_tensor(batch.empty)[:, None]
            parts = [mean.masked_fill(empty, 0.0), (0.5 * log_variance).exp().masked_fill(empty, 1.0)]
            if with_holes:
                parts.append(networks.as_tensor(batch.holes).to(mean.dtype))
            return torch.cat(parts, -1)

        width = 2 * latent_dim + (encoded.shape[1] if with_holes else 0)
        both = map_row_batches(posterior_rows, encoded, (width,), self.row_width(),
                               n_threads=self.inference_threads(n_jobs, encoded.shape[0]))
        means, deviations = both[:, :latent_dim], both[:, latent_dim:2 * latent_dim]
        if with_holes:
            return means, deviations, both[:, 2 * latent_dim:] > 0.5
        return means, deviations

    def decode_mean(self, Z, *, n_jobs):
        """E[x | z] for latent rows `Z` (a float ndarray), decoded to the training data's units."""
        # Hostile sweep 26: a model fitted on a DataFrame decodes into the training columns' dtypes
        # (int64, float64), whatever the codes' dtype; float32 codes were decoded by the float32
        # networks, so every value was float32's rounding of itself (ids near 5e8 all multiples of
        # 32), and 1e12 +- 0.002 came back as 1e12 - 4096, outside the column's observed range (the
        # clip to it, in float32, cannot hold its bounds). A float32 code is exactly a float64 one:
        # such a model decodes in float64. An array model keeps float32 (its output is float32).
        dtype = np.float64 if self.schema.is_dataframe else Z.dtype
        networks = self.networks(dtype)
        values = map_row_batches(lambda rows: networks.decode_point(networks.as_tensor(rows)),
                                 Z.astype(dtype, copy=False),
                                 (self.n_features,), self.row_width(),
                                 n_threads=self.inference_threads(n_jobs, Z.shape[0]))
        return self.schema.decode(values, dtype=Z.dtype)

    def score_samples(self, X, n_importance, *, handle_unknown, n_jobs):
        """Per-row ELBO (`n_importance` 1) or importance-weighted bound, in nats; 0 for an empty row.

        With a missingness mechanism the bound is on log p(x_observed, s),
        the mask included; an empty row then scores its bound too.
        """
        encoded = self.rows(X, handle_unknown)
        networks = self.networks(encoded.dtype)
        noise_width, row_width, missingness = self.noise_width, self.row_width(), networks.missingness

        def score_rows(batch):
            x, observed = networks.batch(batch.values)
            if n_importance == 1:
                scores = networks.elbo(x, observed, networks.as_tensor(batch.noise(1, noise_width)[0]), missingness)
            else:
                chunks = (
                    networks.as_tensor(batch.noise(size, noise_width, first_draw=start))
                    for start, size in draw_chunks(n_importance, row_width, x.shape[0], x.dtype)
                )
                scores = networks.importance_weighted_bound(x, observed, chunks, n_importance, missingness)
            if missingness is not None:
                return scores
            # log p(nothing observed) = log 1, exactly: no bound needed.
            return scores.masked_fill(networks.as_tensor(batch.empty), 0.0)

        return self._naming_overflowing_cells(
            X, handle_unknown, encoded.dtype,
            lambda: map_row_batches(score_rows, encoded, (), self.draws_width(n_importance),
                                    n_threads=self.inference_threads(n_jobs, encoded.shape[0] * n_importance),
                                    padded=True))

    # ------------------------------------------------------------ the latent law of samples

    def set_latent_mixture(self, weights, means, covariances, n_rows, *, hole_record=None):
        """Sample z from this Gaussian mixture (fitted to the training rows' posteriors) instead of the prior.

        The VAE's prior N(0, I) has regions no training row's posterior
        covers; decoded, they give rows unlike any seen, such as a species on
        an island where it never lives. A mixture fitted to draws from the
        training rows' posteriors q(z | x), the aggregate posterior, has no
        such holes (Ghosh et al., 2020, "From variational to deterministic
        autoencoders", ex-post density estimation; see
        :func:`skvae._latent_mixture.fit_latent_mixture`). Scores stay the
        model's. `n_rows`: the training rows it stands for, which weigh it
        against the next ``partial_fit`` block's.

        `hole_record`, where the training table had missing cells: the
        posteriors q(z | x_i) (means and standard deviations, each (rows,
        latent_dim)) of the rows the mixture was fitted on, and their
        missing cells (rows, columns). A row drawn with missing cells takes
        those of training row i drawn with probability in proportion to
        q(z | x_i) at its z (:meth:`_holes_at`): its share of the aggregate
        posterior there. The encoder reads a row's mask with its values, so
        the holes of a sample follow its values as in training (an income
        column empty where the status says unemployed), and where z is drawn
        from the aggregate posterior each training row's pattern keeps its
        frequency.
        """
        # Kept in float32, as every tensor of the state (and of a file) is; holes as 0.0 / 1.0.
        self.latent_mixture = {
            "weights": torch.as_tensor(weights, dtype=torch.float32),
            "means": torch.as_tensor(means, dtype=torch.float32),
            "scale_trils": torch.linalg.cholesky(torch.as_tensor(covariances, dtype=torch.float64)).float(),
            "n_rows": torch.tensor(float(n_rows), dtype=torch.float32),
        }
        if hole_record is not None:
            for key, part in zip(("hole_means", "hole_deviations", "holes"), hole_record):
                self.latent_mixture[key] = torch.as_tensor(np.asarray(part, dtype=np.float32))

    @property
    def has_row_holes(self):
        """Whether samples' missing cells can follow their rows (the training rows' holes were recorded)."""
        return self.latent_mixture is not None and "holes" in self.latent_mixture

    def _holes_at(self, z, generator):
        """Missing cells for the rows of `z` (CPU, float64), bool (rows, columns): see :meth:`set_latent_mixture`.

        Only where :attr:`has_row_holes` (not for a table without missing
        cells, a model without a mixture, or one saved before skvae recorded
        them, whose samples take patterns drawn apart from the rows).
        """
        mixture = self.latent_mixture
        means, deviations = mixture["hole_means"].double(), mixture["hole_deviations"].double()
        # log q(z | x_i) up to a constant, as matrix products over (rows, training rows): the sum over latent
        # dimensions of ((z - mu_i) / sigma_i)^2 expanded, so that no (rows, training rows, latent_dim) array
        # is made (drawing with missing cells cost 100 times a plain draw that way).
        precisions = deviations.pow(-2)
        constant = -0.5 * (means.square() * precisions).sum(-1) - deviations.log().sum(-1)
        chosen = torch.empty(z.shape[0], dtype=torch.long)
        step = max(1, HOLE_BLOCK_ENTRIES // max(means.shape[0], 1))
        for start in range(0, z.shape[0], step):
            block = z[start:start + step]
            log_q = block @ (means * precisions).T - 0.5 * block.square() @ precisions.T + constant
            # Inverse-CDF draw (torch.multinomial over 2,000 categories cost most of the call): the first
            # row whose cumulative weight passes u; right=True never picks a row of weight 0.
            cumulative = (log_q - log_q.amax(dim=1, keepdim=True)).exp().cumsum(dim=1)
            u = torch.rand((block.shape[0], 1), generator=generator, dtype=cumulative.dtype) * cumulative[:, -1:]
            chosen[start:start + step] = torch.searchsorted(cumulative, u, right=True)[:, 0].clamp_max(means.shape[0] - 1)
        return mixture["holes"][chosen] > 0.5

    def _draw_latent(self, n_rows, generator, prior):
        """z for `n_rows` samples: from the prior, or from the latent mixture where there is one."""
        eps = torch.randn((n_rows, self.latent_dim), generator=generator, dtype=torch.float64)
        if prior or self.latent_mixture is None:
            return eps
        weights, means, trils = (self.latent_mixture[key].double() for key in ("weights", "means", "scale_trils"))
        components = torch.multinomial(weights, n_rows, replacement=True, generator=generator)
        return means[components] + (trils[components] @ eps[:, :, None])[:, :, 0]

    def sample(self, n_samples, latent_seed, noise_seed, *, return_mean, n_jobs, with_missing=False, missing=None,
               prior=False, seen_pairs_only=False):
        """`n_samples` rows from z (the latent mixture, or N(0, I) with `prior`), x ~ p(x | z) (or E[x | z]).

        Decoded. With `with_missing`, each row has the missing cells of a
        training row drawn at its z where the model recorded them
        (:meth:`_holes_at`), else NaN where `missing` (patterns drawn apart
        from the rows). With `seen_pairs_only`, rows keep to the pairs of
        discrete values seen together in training (see :meth:`_keep_seen_pairs`).
        """
        networks = self.networks(np.float64)
        latent_generator = torch.Generator().manual_seed(int(latent_seed))
        noise_generator = torch.Generator(device=networks.device).manual_seed(int(noise_seed))

        holes_follow_rows = with_missing and self.has_row_holes
        n_features = self.n_features

        def generate(rows):
            z = self._draw_latent(rows.shape[0], latent_generator, prior)
            holes = self._holes_at(z, latent_generator) if holes_follow_rows else None
            z = z.to(networks.device)
            values = networks.decode_point(z) if return_mean else networks.decode_sample(z, noise_generator)
            if holes is not None:
                # Returned beside the values, not as NaN in them: a NaN decoded is still refused as overflow.
                return torch.cat([values, holes.to(device=values.device, dtype=values.dtype)], dim=1)
            return values

        def draw(n_rows, holes):
            placeholder = np.broadcast_to(np.empty((1, 0)), (n_rows, 0))
            width = 2 * n_features if holes_follow_rows else n_features
            values = map_row_batches(generate, placeholder, (width,), self.row_width(),
                                     n_threads=self.inference_threads(n_jobs, n_rows), sequential=True)
            if holes_follow_rows:
                values, holes = values[:, :n_features], values[:, n_features:] > 0.5
            if holes is not None:
                values[holes] = np.nan
            return values

        values = draw(n_samples, missing)
        if seen_pairs_only:
            # The selection's generator comes from the latent one: one random_state repeats every draw.
            selection = np.random.RandomState(int(torch.randint(_INT32_MAX, (1,), generator=latent_generator)))
            self._keep_seen_pairs(values, draw, missing, selection)
        return self.schema.decode(values)

    def _keep_seen_pairs(self, values, draw, missing, selection):
        """Replace, in place, rows of `values` that pair discrete values never seen together in training.

        Chunk by chunk of rows (bounding memory), where a chunk of n rows
        holds such a row, or one whose exactly-one group of dummies holds no
        1 or two (:meth:`TableSchema.unseen_rows`; a missing cell never
        counts):

        1. 2n more rows are drawn, with the same missing cells;
        2. each of the 3n rows holding an unseen pair is drawn again (z and
           x afresh), up to :data:`MAX_PAIR_REDRAWS` rounds, which alone
           would give the model's draws conditioned on seen pairs (rejection
           sampling);
        3. rejection lowers the share of the levels that unseen pairs
           involve (rejecting rows with two exclusive dummies set lowers
           both dummies' share of ones), so the rows get weights, found by
           iterative proportional fitting, that give each column of a
           recorded pair the shares of its levels in the 3n first draws,
           the model's own; the columns of an exactly-one group, whose
           shares of 1s among the model's draws sum to less than 1 where
           draws hold no member set (which no kept row can give), get those
           shares scaled to sum to 1 (:func:`~skvae._exclusive_groups.group_level_shares`);
        4. n of the 3n rows are drawn with probabilities in proportion to
           those weights, without replacement, in their order (a row's
           probability is at most 1: weights beyond 3 times the mean are not
           fully met); rows still holding an unseen pair are drawn only if
           fewer than n rows hold none.
        """
        schema = self.schema
        table = schema.seen_pair_table
        if (table is None or not len(table)) and not schema.sampled_groups:
            return
        positions, levels = ruled_columns(table, schema.columns, schema.sampled_groups)
        step = max(1, SAMPLE_CHUNK_CELLS // max(self.n_features, 1))
        for start in range(0, values.shape[0], step):
            chunk = values[start:start + step]
            if not schema.unseen_rows(chunk).any():
                continue
            holes = None if missing is None else missing[start:start + step]
            extra = POOL_FACTOR - 1
            extra_holes = None if holes is None else np.tile(holes, (extra, 1))
            pool = np.concatenate([chunk, draw(extra * len(chunk), extra_holes)])
            pool_holes = None if holes is None else np.tile(holes, (POOL_FACTOR, 1))
            shares = group_level_shares(level_shares(pool, positions, levels), positions, schema.sampled_groups)
            redraw = np.flatnonzero(schema.unseen_rows(pool))
            for _ in range(MAX_PAIR_REDRAWS):
                if not redraw.size:
                    break
                fresh = draw(redraw.size, None if pool_holes is None else pool_holes[redraw])
                pool[redraw] = fresh
                redraw = redraw[schema.unseen_rows(fresh)]
            weights = raking_weights(pool, positions, levels, shares)
            if len(pool) - redraw.size >= len(chunk):
                weights[redraw] = 0.0
            chunk[...] = pool[weighted_choice(weights, len(chunk), selection)]

    def column_log_likelihood(self, X, n_samples, *, handle_unknown, n_jobs):
        """E_q[log p(x_ij | z)] per cell over `n_samples` draws of the row's own noise (NaN where missing)."""
        encoded = self.rows(X, handle_unknown)
        networks = self.networks(encoded.dtype)

        def cells(batch):
            x, observed = networks.batch(batch.values)
            out = networks.cell_log_likelihood(x, observed, networks.as_tensor(batch.noise(n_samples, self.latent_dim)))
            # Hostile sweep 21: NaN is a missing cell's answer here, so the NaN of an observed cell whose row
            # overflowed the networks (1e300 in a column fitted near 1e-300) was returned as if missing, without
            # a word. At an observed cell it is marked +inf, which the overflow check refuses (no log-density is).
            seen = torch.ones_like(out, dtype=torch.bool) if observed is None else observed.bool()
            return out.masked_fill(torch.isnan(out) & seen, float("inf"))

        return self._naming_overflowing_cells(
            X, handle_unknown, encoded.dtype,
            lambda: map_row_batches(cells, encoded, (self.n_features,), self.draws_width(n_samples),
                                    nan_is_missing=True, log_densities=True,
                                    n_threads=self.inference_threads(n_jobs, encoded.shape[0] * n_samples),
                                    padded=True))

    def reconstruct(self, X, n_importance, seed, *, handle_unknown, n_jobs, n_draws=1):
        """Every cell predicted from its row's observed cells, encoded (float64).

        `seed` None: the importance-weighted conditional mean; an int: a
        draw by sampling-importance-resampling (see InferenceNetworks.impute),
        or with ``n_draws=m > 1`` m draws per row from the same importance
        samples, shape (n_rows, m, n_features).
        """
        # Hostile sweep 25: draws are made in float64 whatever X's dtype. torch draws other numbers from
        # one generator for float32 tensors than for float64 ones (torch.multinomial over the weights,
        # the likelihood's normal and categorical draws), so a float32 copy of a table was given other
        # imputations than the table, by the same seed, where its point fills and scores agree with the
        # table's to float32's precision. Encoded in float64 (a float32 value is exactly a float64 one),
        # the two draw alike; the caller casts the draws back to X's dtype.
        # Hostile sweep 25: a draw's importance samples are keyed on the call's seed too. Keyed on the
        # fitted seed alone (as a score's noise is, so that it repeats), every successive draw of a row
        # resampled the same K samples of z: not the independent draws with importance samples of their
        # own that VAEImputer documents (with n_importance=1, every draw decoded one z). Still a function
        # of each row alone, whichever rows share the call; the copies of one multiple_imputations call
        # share them, as documented.
        encoded = self.rows(X, handle_unknown, dtype=None if seed is None else np.float64,
                            noise_seed=None if seed is None else _draws_noise_seed(self.seed, seed))
        networks = self.networks(encoded.dtype)
        generator = None if seed is None else torch.Generator(device=networks.device).manual_seed(int(seed))
        draws = {} if n_draws == 1 else {"n_draws": n_draws}

        def reconstruct(batch):
            x, observed = networks.batch(batch.values)
            noise = networks.as_tensor(batch.noise(n_importance, self.noise_width))
            return networks.impute(x, observed, noise, generator, missingness=networks.missingness, **draws)

        width = self.n_features * (n_draws if generator is not None else 1)
        values = map_row_batches(reconstruct, encoded, (width,), self.draws_width(max(n_importance, n_draws)),
                                 out_dtype=np.float64, sequential=generator is not None,
                                 n_threads=self.inference_threads(n_jobs, encoded.shape[0] * n_importance),
                                 padded=generator is None)  # draws take the rows given (InferenceNetworks.impute)
        return values if n_draws == 1 or generator is None else values.reshape(len(values), n_draws, -1)

    def empty_rows(self, X, *, handle_unknown, step=4096):
        """Per row of X, whether it has no observed cell (an unknown category ignored counts as missing).

        Read slice by slice, as inference reads X, so memory stays bounded.
        """
        encoded = self.rows(X, handle_unknown, with_noise=False)
        n_rows = encoded.shape[0]
        return np.concatenate([encoded[slice(start, start + step)].empty for start in range(0, n_rows, step)]
                              or [np.zeros(0, dtype=bool)])

    def rows(self, X, handle_unknown, with_noise=True, with_holes=False, dtype=None, noise_seed=None):
        """X as rows encoded batch by batch (`with_noise`: carrying their noise keys; `with_holes`: their masks).

        In `dtype`, or where it is None in X's own float dtype (:func:`_float_dtype`); the noise keyed
        on `noise_seed`, or where it is None on the fitted seed.
        """
        dtype = _float_dtype(X) if dtype is None else dtype
        noise_seed = self.seed if noise_seed is None else noise_seed
        return EncodedRows(X, self.schema, handle_unknown, dtype, noise_seed if with_noise else None,
                           float32_keys=self.noise_keys == "float32", keep_holes=with_holes)

    def check_sample_fits(self, n_rows):
        """Refuse (ValueError) drawing `n_rows` rows whose arrays cannot fit in the host's memory.

        A row is held as latent codes, decoder outputs, encoded values and
        decoded float64 cells before it is returned.
        """
        spec = self.spec
        per_row = 2 * spec["latent_dim"] + spec["n_params"] + spec["n_inputs"] + 2 * self.n_features
        check_host_allocation(8 * n_rows * per_row, ("Drawing ", count("n_samples", n_rows, "rows")),
                              "Ask for fewer rows, or draw them in several calls.")

    def row_width(self):
        """Elements one row needs in the widest layer: sizes inference batches."""
        spec = self.spec
        width = max(spec["n_inputs"], spec["n_params"], spec["latent_dim"], *spec["hidden_layer_sizes"])
        if self.missingness is None:
            return width
        return max(width, self.missingness.row_width)

    def draws_width(self, n_draws):
        """Row width when each row carries `n_draws` samples (at most a batch's worth at once)."""
        width = self.row_width()
        return min(n_draws, rows_per_batch(width)) * width

    def inference_threads(self, n_jobs, n_rows):
        """CPU threads for inference on `n_rows` rows, sized by the largest batch.

        Never more than one per :data:`~skvae._inference.BLOCK_WORK`
        multiply-adds, whatever `n_jobs` says (an int is a ceiling here): the
        threads share a call's rows in blocks, and handing a block to
        another thread costs more than a small block's products.
        """
        batch_rows = min(n_rows, rows_per_batch(self.row_width()))
        threads = self.thread_plan(n_jobs, batch_rows)[0]
        if threads is None or threads == 1:
            return threads
        return min(threads, max(1, batch_rows * self.n_weights // BLOCK_WORK))


def new_seed(random_state):
    """The model seed drawn from a NumPy RandomState."""
    return int(random_state.randint(_INT32_MAX))


def _load_adam_state(optimizer, state):
    """Load Adam's `state` (moments, steps, learning rate) into `optimizer`, keeping its implementation flags.

    Whether Adam runs fused is chosen for this machine's torch and device,
    not stored: a GPU model's choice may not exist on the CPU loading it.
    """
    implementation = {flag: optimizer.param_groups[0].get(flag) for flag in _ADAM_IMPLEMENTATION_FLAGS}
    optimizer.load_state_dict(state)
    optimizer.param_groups[0].update(implementation)


def _training_data(encoded, device):
    """(values, observed or None) as float32/bool tensors, placed on the device once."""
    values, observed = split_missing(encoded)
    # A value beyond float32's range (a continued fit's row far outside the first fit's scaling)
    # becomes inf: training reports the divergence it causes, in its own words.
    with np.errstate(over="ignore"):
        values = np.ascontiguousarray(values, dtype=np.float32)
    values = place_training_data(values, device)
    if observed is not None:
        observed = place_training_data(np.ascontiguousarray(observed), device)
    return values, observed


def _draws_noise_seed(model_seed, call_seed):
    """The seed of a draw's row noise: the fitted seed and the call's, mixed (a uint64 as an int)."""
    return int(np.random.SeedSequence([int(model_seed), int(call_seed)]).generate_state(1, np.uint64)[0])


def _float_dtype(X):
    """float32 for float32 arrays (and all-float32 DataFrames), float64 otherwise."""
    dtypes = list(X.dtypes) if is_dataframe(X) else [X.dtype]
    return np.float32 if all(dtype == np.float32 for dtype in dtypes) else np.float64


class EncodedRows:
    """Validated input that inference reads in row slices, each encoded on demand.

    Encoding the whole input at once would hold float64 copies of it; slice by
    slice, memory stays bounded by the batch (see :mod:`skvae._inference`).
    """

    def __init__(self, X, schema, handle_unknown, dtype, seed, float32_keys=True, keep_holes=False):
        # seed None: the batches carry no noise keys (inference without sampling). float32_keys: see
        # skvae._row_noise.row_keys; False for models fitted before skvae 0.11, whose files promise their scores.
        self.X, self.schema, self.handle_unknown, self.seed = X, schema, handle_unknown, seed
        self.float32_keys, self.keep_holes = float32_keys, keep_holes
        self.dtype = np.dtype(dtype)
        self.shape = (X.shape[0], len(schema.columns))
        # Hostile sweep 22: a batch of the networks may hold a single row (sample(given=...) carries
        # n_importance draws per row of a wide model), and reading a DataFrame costs pandas' work per
        # column on every read: a Python cost of columns per row (200 categorical columns, 200 rows:
        # 16 million calls). Small slices are served from blocks read at once, a block as many rows as
        # a batch of the table's own width holds (bounded memory, as a batch). Encoding is cell by
        # cell, so a row's values are the same whichever block read it.
        self._block_rows = rows_per_batch(self.shape[1])
        self._blocks = {}  # aligned block number -> _EncodedBatch, the two last used
        self._blocks_lock = threading.Lock()

    def __getitem__(self, rows):
        if isinstance(rows, slice) and rows.step in (None, 1):
            start, stop, _ = rows.indices(self.shape[0])
            size = self._block_rows
            # Only slices far smaller than a block (the cliff was batches of a row or a few): a batch near a
            # block's size, as inference's own, is read as it comes, or the two blocks kept would add to its
            # working set (score_samples of 200,000 rows passed its memory bound; tests/test_memory.py).
            if 0 < stop - start <= size // 16 and start // size == (stop - 1) // size:
                with self._blocks_lock:
                    number = start // size
                    block = self._blocks.pop(number, None)
                    if block is None:
                        block = self._read(slice(number * size, min(self.shape[0], (number + 1) * size)))
                    self._blocks[number] = block  # the most recently used last
                    while len(self._blocks) > 2:
                        del self._blocks[next(iter(self._blocks))]
                return block.rows(start - number * size, stop - number * size)
        return self._read(rows)

    def _read(self, rows):
        """Rows `rows` of X read, checked and encoded."""
        X = self.X.iloc[rows] if is_dataframe(self.X) else self.X[rows]
        raw = self.schema.raw_values(X, self.handle_unknown)
        # Keyed on the values in the user's units (codes for categories), read
        # to float32's precision: a row gets the same noise as its float32 copy.
        keys = None if self.seed is None else _row_noise.row_keys(raw, self.seed, self.float32_keys)
        # A float32 row whose encoded value passes float32's range becomes inf here, and inference
        # refuses it as an overflow naming its rows: NumPy's "overflow encountered in cast" only
        # repeated that to the caller, a warning about skvae's arithmetic rather than the data.
        with np.errstate(over="ignore"):
            values = self.schema.encode(raw).astype(self.dtype, copy=False)
        return _EncodedBatch(values, keys, np.isnan(raw) if self.keep_holes else None)


class _EncodedBatch:
    """One slice of encoded rows, with the keys of their Monte Carlo noise (and their raw values)."""

    def __init__(self, values, keys, holes=None):
        # holes: per row and column of the table (not of the encoding), whether the cell is missing; kept
        # only where a pass asks for them (EncodedRows' keep_holes), as a bool mask, not the raw values.
        self.values, self.keys, self.holes = values, keys, holes

    def rows(self, start, stop):
        """Rows start..stop-1 as a batch of their own (copies: a caller may write into its batch)."""
        return _EncodedBatch(self.values[start:stop].copy(), None if self.keys is None else self.keys[start:stop].copy(),
                             None if self.holes is None else self.holes[start:stop].copy())

    @functools.cached_property
    def empty(self):
        """Per row, whether no cell is observed (computed where a call asks)."""
        return np.isnan(self.values).all(axis=1)

    def noise(self, n_draws, latent_dim, first_draw=0):
        """eps of shape (n_draws, rows, latent_dim), a function of each row alone."""
        return _row_noise.standard_normal(self.keys, n_draws, latent_dim, first_draw)


def _to_cpu(value):
    """A copy of a (nested) state dict with every tensor on the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone()
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cpu(v) for v in value)
    return value
