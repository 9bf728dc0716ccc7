"""VAETransformer: the scikit-learn face of the VAE. NumPy or pandas in, the same out."""

import contextlib
import math
import numbers
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.model_selection import train_test_split
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _conditional, _row_noise
from ._conditional import DEFAULT_N_IMPORTANCE
from ._device import place_training_data, resolve_device, restore_device
from ._input import as_plain_input
from ._inference import (
    InferenceCache,
    InferenceNetworks,
    draw_chunks,
    is_plain_float_matrix,
    map_row_batches,
    rows_per_batch,
    split_missing,
)
from ._likelihoods import KINDS
from ._memory import check_networks_fit
from ._networks import ACTIVATIONS, build_networks, count_parameters
from ._progress import EpochReporter
from ._schema import TableSchema, is_dataframe
from ._state import FITTED_FIELDS, check_state
from ._threads import ThreadTuner, resolve_n_jobs, torch_threads
from ._training import LR_DECAYS, StoppingRule, Trainer, make_adam, patience_epochs
from ._training import use_validation as wants_validation

_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}
_STATE_FIELDS = ("encoder_", "decoder_", "optimizer_")
# Adam's implementation choice is the machine's, not the model's (see _restore_torch_state).
_ADAM_IMPLEMENTATION_FLAGS = ("fused", "foreach")


class IntNotBool(Interval):
    """An integer Interval that refuses bools: ``latent_dim=True`` is a mistake, not 1."""

    def __init__(self, low, high, closed):
        super().__init__(Integral, low, high, closed=closed)

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


class VAETransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    r"""Variational autoencoder (Kingma & Welling, 2014) as a scikit-learn transformer.

    The generative model is a standard normal prior p(z) = N(0, I) on a
    ``latent_dim``-dimensional z and a decoder network p(x | z) that factorises
    over the columns, each column with its own observation model (see
    ``likelihood``): a Gaussian with learned mean and variance for reals, a
    softmax for categories, a negative binomial or Poisson for counts, ... An
    encoder network q(z | x) = N(mu(x), diag sigma(x)^2) is fitted jointly by
    maximising the evidence lower bound (ELBO) with Adam on minibatches,
    using the reparameterisation z = mu + sigma * eps, eps ~ N(0, I).

    X may be a NumPy array or a pandas DataFrame of mixed dtypes (numbers,
    booleans, categories, strings), and may have missing cells (NaN, None,
    ``pd.NA``): a missing cell drops out of log p(x | z), and the encoder sees
    the observed values and which cells are missing. A model fitted on a
    DataFrame returns DataFrames of the same schema from ``sample`` and
    ``inverse_transform``.

    ``transform`` returns the posterior mean mu(x): a nonlinear, probabilistic
    counterpart of :class:`~sklearn.decomposition.PCA`. ``score_samples``
    returns the ELBO of each row in nats (or the tighter importance-weighted
    bound), so that ``GridSearchCV`` can select ``latent_dim`` by held-out
    likelihood.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    latent_dim : int, default=10
        Dimension q of the latent space, the number of output features of
        ``transform``.

    hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the encoder's hidden layers; the decoder uses them in
        reverse order.

    activation : {"relu", "tanh", "logistic", "elu", "gelu", "identity"}, default="relu"
        Activation of the hidden layers.

    likelihood : str or dict, default="auto"
        Observation model p(x_j | z) of each column. One of ``"auto"``,
        ``"gaussian"``, ``"lognormal"``, ``"bernoulli"``, ``"categorical"``,
        ``"poisson"``, ``"negative_binomial"`` for every column, or a dict
        from column name (or position) to one of them, the columns it does not
        name being ``"auto"``: for example ``{"year": "categorical"}``.
        ``"auto"`` decides from the dtype and values: bool, category, object
        and string columns, and numeric columns with two distinct values or
        at most 10 (each seen 3 times on average), are categorical; whole
        numbers that look like counts (non-negative, median at most 20,
        variance at least the mean) are negative binomial; other numbers are
        Gaussian (decoded to whole numbers when they were whole); every
        column of a NumPy array is Gaussian. Decoded values stay inside each
        column's observed range and keep its decimals (a decoding rule: the
        scores are the model's density). See the user guide.
        ``"gaussian"``: learned mean and variance (floored
        at 3e-3 of the column's variance, so scores stay finite).
        ``"lognormal"``: positive reals, Gaussian in log x. ``"bernoulli"``:
        values in [0, 1] (pixels). ``"categorical"``: a softmax over the
        categories seen in fit. ``"poisson"``/``"negative_binomial"``:
        non-negative integer counts, the latter with one learned dispersion
        per column (as scVI).

    handle_unknown : {"error", "ignore"}, default="error"
        What ``transform``, ``score_samples`` and later ``partial_fit`` calls
        do with a category not seen in the first fit: raise a ValueError
        naming the column and values, or (``"ignore"``) treat the cell as
        missing, as :class:`~sklearn.preprocessing.OneHotEncoder` treats it as
        all zeros.

    beta : float, default=1.0
        Weight of the KL term in the training loss (beta-VAE; 1 is the ELBO),
        at most 1e12. Scores always report the true ELBO, whatever ``beta``.
        The bound is float32's: Adam squares ``beta`` times the KL gradient,
        which overflows float32 (3.4e38) from ``beta`` around 1e21 and stops
        training; 1e12 leaves nine orders of magnitude for the gradient.

    n_importance_train : int, default=1
        Samples of z per row in the training objective. 1: the ELBO (with
        ``beta``). K > 1: the importance-weighted bound of Burda et al. with K
        samples, a tighter objective that fits a better model p(x) at K times
        the decoder's cost per step (MIWAE trains so on incomplete data);
        ``beta`` must then be 1, since that bound has no separate KL term.

    batch_size : int, default=128
        Rows per minibatch; the last batch of an epoch may be smaller.

    learning_rate : float, default=1e-3
        Adam's step size.

    max_iter : int, default=200
        Maximum number of epochs (passes over the data) per ``fit``.

    tol : float, default=1e-3
        Improvement, in nats per row, that counts as progress for the
        stopping rule. Once the training loss (or, with validation, the
        negative validation ELBO) has not improved by ``tol`` for
        ``n_iter_no_change`` consecutive epochs, the learning rate is divided
        by 5; at the third such plateau training stops (scikit-learn MLP's
        ``learning_rate="adaptive"`` rule).

    n_iter_no_change : int, default=10
        Number of epochs without improvement that make a plateau; at least
        as many epochs as 700 optimizer steps take, so that data with few
        steps per epoch is not stopped on noise.

    early_stopping : "auto" or bool, default="auto"
        Hold out ``validation_fraction`` of the rows, monitor their ELBO,
        and restore the weights of the best validation epoch at the end.
        ``"auto"`` does so when the data are small enough to overfit:
        at most 10,000 rows, at least 10 weights of the networks per row,
        and at least 50 rows held out (so from 500 rows at the default
        ``validation_fraction``).

    validation_fraction : float, default=0.1
        Fraction of rows held out when validation is on.

    n_jobs : int or None, default=None
        CPU threads torch uses inside ``fit``, ``partial_fit`` and inference
        (ignored on a GPU). ``None``: automatic. skvae takes as many threads
        as the work of one step can keep busy, within the cores this process
        may use (CPU affinity, cgroup quota), ``OMP_NUM_THREADS`` and the
        limits of ``threadpoolctl`` or joblib's workers, and while training
        it keeps whichever of one thread or that many is measured faster, so
        that a busy machine does not stall every step at a thread barrier.
        ``-1``: every usable core; ``k >= 1``: exactly k threads (``-2``: all
        but one, as in joblib). torch's own setting is restored after every
        call. See :ref:`the user guide <threads>`.

    device : str or torch.device, default="auto"
        ``"auto"`` trains on CUDA when available, else on the CPU;
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` explicitly.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, the validation split and all
        noise. An int makes a CPU fit bit-for-bit repeatable. torch's global
        RNG is never touched.

    verbose : int, default=0
        0: silent. 1: a progress bar (plain lines when not on a terminal).
        2: one line per epoch.

    warm_start : bool, default=False
        When True, ``fit`` continues training the current networks instead of
        starting afresh.

    Attributes
    ----------
    encoder_ : torch.nn.Module
        The encoder network (on ``device_``, float32).

    decoder_ : torch.nn.Module
        The decoder network (on ``device_``, float32).

    optimizer_ : torch.optim.Adam
        The optimizer; its state persists across ``partial_fit`` calls.

    device_ : str
        The device the networks live on.

    n_features_in_ : int
        Number of features (columns) seen during ``fit``.

    column_kinds_ : dict
        The observation model chosen for each column, by column name (or
        position for arrays).

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when they are all strings.

    n_iter_ : int
        Number of epochs run, accumulated over ``warm_start`` fits and
        ``partial_fit`` calls.

    loss_curve_ : list of float
        Training loss (mean negative ELBO per row with KL weight ``beta``,
        in nats) after each epoch.

    best_loss_ : float or None
        Smallest training loss reached; None when the last fit used validation.

    validation_scores_ : list of float or None
        When the last fit used validation (see ``early_stopping``), the mean
        ELBO of the held-out rows after each epoch (nats, greater is better;
        the importance-weighted bound with ``n_importance_train > 1``); None
        otherwise.

    best_validation_score_ : float or None
        Best of ``validation_scores_``; None without validation.

    See Also
    --------
    sklearn.decomposition.PCA : Linear embedding by principal components.
    sklearn.decomposition.FactorAnalysis : The linear-Gaussian latent model a
        VAE generalises.
    sklearn.neural_network.MLPRegressor : Same training vocabulary.

    References
    ----------
    D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
    Y. Burda, R. Grosse and R. Salakhutdinov, "Importance Weighted
    Autoencoders", ICLR 2016.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skvae import VAETransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> vae = VAETransformer(latent_dim=2, likelihood="bernoulli", max_iter=5, random_state=0)
    >>> Z = vae.fit_transform(X / 16)
    >>> Z.shape
    (1797, 2)
    >>> bool(vae.score(X / 16) < 0)
    True

    A table with text and a missing cell:

    >>> import pandas as pd
    >>> sizes = [1.0 + 0.37 * i if i % 4 else None for i in range(100)]
    >>> df = pd.DataFrame({"size": sizes, "colour": ["red", "blue", "red", "green"] * 25})
    >>> vae = VAETransformer(latent_dim=2, max_iter=5, random_state=0).fit(df)
    >>> vae.column_kinds_
    {'size': 'gaussian', 'colour': 'categorical'}
    >>> vae.sample(3).dtypes.equals(df.dtypes)
    True
    """

    _parameter_constraints: dict = {
        "latent_dim": [IntNotBool(1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", IntNotBool(1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "likelihood": [StrOptions({"auto", *KINDS}), dict],
        "handle_unknown": [StrOptions({"error", "ignore"})],
        # See the docstring: beyond ~1e21 Adam's second moment overflows float32.
        "beta": [Interval(Real, 0, 1e12, closed="both")],
        "n_importance_train": [IntNotBool(1, None, closed="left")],
        "batch_size": [IntNotBool(1, None, closed="left")],
        # Adam's first step is 10 * learning_rate in float32: torch fails beyond ~3.4e37.
        "learning_rate": [Interval(Real, 0, 1e37, closed="right")],
        "max_iter": [IntNotBool(1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [IntNotBool(1, None, closed="left")],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_jobs": [Interval(Integral, None, -1, closed="right"), Interval(Integral, 1, None, closed="left"), None],
        "device": [str, torch.device],
        "random_state": [IntNotBool(0, 2**32 - 1, closed="both"), np.random.RandomState, None],
        # scikit-learn's convention: verbose=True is allowed, as in every sklearn estimator.
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        *,
        latent_dim=10,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        likelihood="auto",
        handle_unknown="error",
        beta=1.0,
        n_importance_train=1,
        batch_size=128,
        learning_rate=1e-3,
        max_iter=200,
        tol=1e-3,
        n_iter_no_change=10,
        early_stopping="auto",
        validation_fraction=0.1,
        n_jobs=None,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.latent_dim = latent_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.likelihood = likelihood
        self.handle_unknown = handle_unknown
        self.beta = beta
        self.n_importance_train = n_importance_train
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_jobs = n_jobs
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the VAE to X by maximising the ELBO.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training data; a DataFrame may mix numeric, boolean, categorical
            and string columns. Missing cells (NaN, None, ``pd.NA``) are allowed.
        y : None
            Ignored.

        Returns
        -------
        self : VAETransformer
            The fitted estimator.
        """
        with self._transaction():
            continuing = self.warm_start and self.__sklearn_is_fitted__()
            X = self._validate_table(X, reset=not continuing)
            with torch_threads(self._thread_plan(X.shape[1], self.batch_size)[0]):
                return self._fit(X, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one epoch (one shuffled pass in minibatches) over X.

        The first call initialises the model, including the column schema
        (kinds, scaling, category sets), which later calls keep; later calls
        continue it, with the optimizer state kept, and append one entry to
        ``loss_curve_``. ``early_stopping`` and ``max_iter`` do not apply.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            A block of training data.
        y : None
            Ignored.

        Returns
        -------
        self : VAETransformer
            The updated estimator.
        """
        with self._transaction():
            X = self._validate_table(X, reset=not self.__sklearn_is_fitted__())
            with torch_threads(self._thread_plan(X.shape[1], self.batch_size)[0]):
                return self._fit(X, incremental=True)

    @contextlib.contextmanager
    def _transaction(self):
        """A refused or failed fit leaves the estimator exactly as it was.

        Fitting assigns attributes as it goes (scikit-learn's validation sets
        ``n_features_in_`` first); restoring the attribute dict on any
        exception undoes all of it. A fresh fit builds new networks, so the
        old ones are untouched; a continued fit changes the networks only by
        completed training epochs.
        """
        saved = dict(self.__dict__)
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _fit(self, X, incremental):
        if self.n_importance_train > 1 and self.beta != 1:
            raise ValueError(
                f"beta={self.beta!r} weights the KL term of the ELBO, but n_importance_train="
                f"{self.n_importance_train} trains on the importance-weighted bound, which has none: "
                "set beta=1 or n_importance_train=1."
            )
        fresh = not self.__sklearn_is_fitted__() or not (incremental or self.warm_start)
        schema = TableSchema.fit(X, self.likelihood) if fresh else self._schema
        if not fresh:
            schema.check_likelihood_parameter(self.likelihood)
        encoded = schema.encode(schema.raw_values(X, self._handle_unknown(fresh)))
        likelihood = schema.likelihood()
        spec = self._new_network_spec(likelihood)
        if fresh:
            self._initialize(schema, spec)
        else:
            self._check_continuation(spec)
        use_validation = not incremental and wants_validation(
            self.early_stopping, encoded.shape[0], self.validation_fraction, count_parameters(spec)[1])
        train, valid = self._split_validation(encoded) if use_validation else (encoded, None)

        trainer = self._trainer(likelihood)
        validation = None if valid is None else self._validation_data(valid, trainer)
        n_epochs = 1 if incremental else self.max_iter
        reporter = EpochReporter(self.verbose, n_epochs)
        try:
            log = trainer.run(
                self._training_data(train, trainer.device),
                n_epochs,
                rule=None if incremental else self._stopping_rule(use_validation, train.shape[0]),
                validation=validation,
                reporter=reporter,
                first_epoch=self.n_iter_ + 1,
                fresh=fresh,
            )
        except ValueError:
            if fresh:
                # Not one finite epoch: initial weights are no model, so stay unfitted.
                del self.encoder_, self.decoder_, self.optimizer_
            raise
        # partial_fit runs one epoch by definition: no stopping to report.
        summary = f"Training stopped after epoch {self.n_iter_ + len(log.losses)}: {log.stop_reason}."
        reporter.close(None if incremental else summary)
        self._record(log, use_validation)
        self._inference_cache.clear()
        return self

    def _handle_unknown(self, fresh):
        # The first fit defines the categories; nothing can be unknown to it.
        return "error" if fresh else self.handle_unknown

    def _new_network_spec(self, likelihood):
        return {
            "n_inputs": int(likelihood.input_width),
            "n_params": int(likelihood.n_params),
            "n_free": int(likelihood.n_free),
            "latent_dim": int(self.latent_dim),
            "hidden_layer_sizes": list(self._hidden_layer_sizes()),
            "activation": self.activation,
        }

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = (sizes,)
        sizes = tuple(sizes)
        if not sizes or not all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must be a non-empty sequence of positive integers; "
                f"got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _initialize(self, schema, spec):
        """Resolve device and seed, keep the schema, build networks and optimizer."""
        device = str(resolve_device(self.device))
        # Before allocating: a spec far beyond memory is refused at once, not after swapping.
        check_networks_fit(spec, device)
        self.device_ = device
        self._seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self._schema = schema
        self._network_spec = spec
        self._inference_cache = InferenceCache()
        self.encoder_, self.decoder_ = self._build_networks(spec)
        self.optimizer_ = self._new_optimizer()
        self.n_iter_ = 0
        self.loss_curve_ = []
        self.best_loss_ = None
        self.validation_scores_ = None
        self.best_validation_score_ = None

    def _build_networks(self, spec):
        generator = torch.Generator().manual_seed(self._seed)
        try:
            encoder, decoder = build_networks(spec, generator)
            return encoder.to(self.device_), decoder.to(self.device_)
        except (RuntimeError, MemoryError) as error:
            raise ValueError(
                f"Could not build the networks with hidden_layer_sizes={self.hidden_layer_sizes!r}, "
                f"latent_dim={self.latent_dim!r} on device={self.device_!r}: {error}"
            ) from None

    def _new_optimizer(self):
        parameters = [*self.encoder_.parameters(), *self.decoder_.parameters()]
        return make_adam(parameters, self.learning_rate)

    def _check_continuation(self, spec):
        """warm_start and partial_fit continue a model: its architecture must be unchanged."""
        changed = [k for k in spec if spec[k] != self._network_spec[k]]
        if changed:
            was = ", ".join(f"{k}={self._network_spec[k]!r}" for k in changed)
            now = ", ".join(f"{k}={spec[k]!r}" for k in changed)
            raise ValueError(
                f"Cannot continue training: the fitted model has {was} but the parameters "
                f"now ask for {now}. Set warm_start=False (or start a new estimator) to refit."
            )
        for group in self.optimizer_.param_groups:
            group["lr"] = self.learning_rate

    def _generators(self):
        """Fresh generators for this call, derived from the fitted seed and n_iter_.

        Deriving them (rather than storing generator objects) keeps the
        estimator picklable and makes warm-started runs repeatable too.
        """
        shuffle_seed, noise_seed = np.random.SeedSequence([self._seed, self.n_iter_]).generate_state(2)
        shuffle = torch.Generator().manual_seed(int(shuffle_seed))
        noise = torch.Generator(device=self.device_).manual_seed(int(noise_seed))
        return shuffle, noise

    def _thread_plan(self, n_columns, n_rows):
        """(threads, tune) for steps of `n_rows` rows: n_jobs, or the policy of skvae._threads.

        The work of a step is its multiply-adds, about one per weight and row:
        the fitted networks', or before the first fit an estimate from the
        data's `n_columns`. None threads (torch left alone) off the CPU, where
        the GPU does the work.
        """
        fitted = self.__sklearn_is_fitted__()
        device = self.device_ if fitted else str(resolve_device(self.device))
        if device != "cpu":
            return None, False
        spec = self._network_spec if fitted else {
            "n_inputs": int(n_columns), "n_params": 2 * int(n_columns), "n_free": 0,
            "latent_dim": int(self.latent_dim), "hidden_layer_sizes": list(self._hidden_layer_sizes()),
        }
        return resolve_n_jobs(self.n_jobs, n_rows * count_parameters(spec)[1])

    def _trainer(self, likelihood):
        shuffle, noise = self._generators()
        n_threads, tune = self._thread_plan(self._network_spec["n_inputs"], self.batch_size)
        return Trainer(
            self.encoder_,
            self.decoder_,
            likelihood.to(torch.device(self.device_), torch.float32),
            self.optimizer_,
            batch_size=self.batch_size,
            beta=self.beta,
            shuffle_generator=shuffle,
            noise_generator=noise,
            n_importance=self.n_importance_train,
            thread_tuner=ThreadTuner(n_threads) if tune else None,
        )

    def _split_validation(self, encoded):
        if encoded.shape[0] < 2:
            raise ValueError(
                f"early_stopping=True needs at least 2 samples to hold out a validation set; "
                f"got n_samples={encoded.shape[0]}."
            )
        n_valid = max(1, int(round(self.validation_fraction * encoded.shape[0])))
        n_valid = min(n_valid, encoded.shape[0] - 1)
        return train_test_split(encoded, test_size=n_valid, random_state=self._seed + self.n_iter_)

    @staticmethod
    def _training_data(encoded, device):
        """(values, observed or None) as float32/bool tensors, placed on the device once."""
        values, observed = split_missing(encoded)
        values = place_training_data(np.ascontiguousarray(values, dtype=np.float32), device)
        if observed is not None:
            observed = place_training_data(np.ascontiguousarray(observed), device)
        return values, observed

    def _validation_data(self, encoded, trainer):
        values, observed = self._training_data(encoded, trainer.device)
        draws = () if trainer.n_importance == 1 else (trainer.n_importance,)
        noise = torch.randn(
            (*draws, values.shape[0], self._network_spec["latent_dim"]),
            generator=trainer.noise_generator,
            device=trainer.device,
        )
        return values.to(trainer.device), None if observed is None else observed.to(trainer.device), noise

    def _stopping_rule(self, use_validation, n_rows):
        if use_validation:
            best = -self.best_validation_score_ if self.best_validation_score_ is not None else math.inf
        else:
            best = self.best_loss_ if self.best_loss_ is not None else math.inf
        patience = patience_epochs(self.n_iter_no_change, math.ceil(n_rows / self.batch_size))
        return StoppingRule(self.tol, patience, best_loss=best, lr_decays=LR_DECAYS,
                            fixed_budget=self.n_iter_no_change >= self.max_iter)

    def _record(self, log, use_validation):
        self.n_iter_ += len(log.losses)
        self.loss_curve_.extend(log.losses)
        if use_validation:
            self.validation_scores_ = (self.validation_scores_ or []) + log.validation_scores
            self.best_validation_score_ = max(self.validation_scores_, default=None)
            self.best_loss_ = None
        elif self.loss_curve_:
            self.best_loss_ = min(self.loss_curve_)

    # ------------------------------------------------------------ inference

    def __sklearn_is_fitted__(self):
        return hasattr(self, "encoder_")

    @property
    def column_kinds_(self):
        check_is_fitted(self)
        return dict(zip(self._schema.names, self._schema.kinds))

    def transform(self, X):
        """Encode X as the posterior means mu(x).

        A row with no observed cell gets the prior mean, 0: nothing was seen
        to move the posterior away from the prior.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Data to encode; may have missing cells.

        Returns
        -------
        X_new : ndarray of shape (n_samples, latent_dim)
            Posterior means, in the dtype of X (float32 or float64).
        """
        encoded = self._encode_input(X, with_noise=False)
        networks = self._networks(encoded.dtype)

        def encode_rows(batch):
            codes = networks.encode_mean(*networks.batch(batch.values))
            return codes.masked_fill(networks.as_tensor(batch.empty)[:, None], 0.0)

        return map_row_batches(encode_rows, encoded, (self._network_spec["latent_dim"],), self._row_width(),
                               n_threads=self._inference_threads(encoded.shape[0]))

    def inverse_transform(self, X):
        """Decode latent vectors to the decoder's mean E[x | z].

        Parameters
        ----------
        X : array-like of shape (n_samples, latent_dim)
            Latent vectors z, e.g. the output of ``transform``.

        Returns
        -------
        X_original : ndarray or DataFrame of shape (n_samples, `n_features_in_`)
            Decoder means in the units of the training data: E[x | z] for real
            and count columns (rounded for integer columns; for
            ``"bernoulli"``, probabilities), the most probable category for
            categorical ones. A DataFrame of the training schema when the
            model was fitted on a DataFrame.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        latent_dim = self._network_spec["latent_dim"]
        if Z.shape[1] != latent_dim:
            raise ValueError(
                f"X has {Z.shape[1]} features, but inverse_transform of {type(self).__name__} "
                f"expects latent_dim={latent_dim} features."
            )
        networks = self._networks(Z.dtype)
        values = map_row_batches(
            lambda rows: networks.decode_point(networks.as_tensor(rows)),
            Z,
            (self.n_features_in_,),
            self._row_width(),
            n_threads=self._inference_threads(Z.shape[0]),
        )
        return self._schema.decode(values, dtype=Z.dtype)

    def score_samples(self, X, n_importance=1):
        """Per-row lower bound on log p(x), in nats (greater is better).

        With ``n_importance=1``, the ELBO: a one-sample reparameterised
        estimate of E_q[log p(x | z)] minus the closed-form KL(q(z|x) || p(z)).
        With ``n_importance=K > 1``, the importance-weighted bound of Burda et
        al. with K samples, which tightens towards log p(x) as K grows; memory
        stays bounded whatever K is.

        The number adds, over a row's columns, the log-density of each real
        column (in the column's units, so it may be positive) and the
        log-probability of each discrete one. A missing cell drops out: the
        score of an incomplete row bounds the log-likelihood of its observed
        cells, log p(x_observed); a row with no observed cell scores exactly 0
        (log 1). Scores of rows with different missing cells are therefore
        not on one scale.

        The Monte Carlo noise of each row is a function of the row's values and
        the fitted seed, so a row's score does not depend on the other rows in
        the call, their order, or the batch size.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Data to score.
        n_importance : int, default=1
            Number of importance samples K, at most 100,000 (a row costs K
            decoder passes; the bound's gap to log p(x) shrinks like 1/K).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Lower bounds on log p(x), greater is better.
        """
        n_importance = _check_n_importance(n_importance)
        encoded = self._encode_input(X)
        networks = self._networks(encoded.dtype)
        latent_dim, row_width = self._network_spec["latent_dim"], self._row_width()

        def score_rows(batch):
            x, observed = networks.batch(batch.values)
            if n_importance == 1:
                scores = networks.elbo(x, observed, networks.as_tensor(batch.noise(1, latent_dim)[0]))
            else:
                chunks = (
                    networks.as_tensor(batch.noise(size, latent_dim, first_draw=start))
                    for start, size in draw_chunks(n_importance, row_width, x.shape[0])
                )
                scores = networks.importance_weighted_bound(x, observed, chunks, n_importance)
            # log p(nothing observed) = log 1, exactly: no bound needed.
            return scores.masked_fill(networks.as_tensor(batch.empty), 0.0)

        return map_row_batches(score_rows, encoded, (), self._draws_width(n_importance),
                               n_threads=self._inference_threads(encoded.shape[0] * n_importance))

    def score(self, X, y=None, n_importance=1):
        """Mean of :meth:`score_samples`: the average ELBO per row, in nats.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Data to score.
        y : None
            Ignored.
        n_importance : int, default=1
            Number of importance samples, as in :meth:`score_samples`.

        Returns
        -------
        score : float
            Average lower bound on log p(x), greater is better.
        """
        return float(np.mean(self.score_samples(X, n_importance=n_importance)))

    def sample(self, n_samples=1, random_state=None, return_mean=False, *, given=None,
               n_importance=DEFAULT_N_IMPORTANCE):
        """Draw from the generative model: z ~ N(0, I), then x ~ p(x | z).

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws. None uses the estimator's ``random_state``
            (so an int ``random_state`` repeats the same draws, as
            ``GaussianMixture.sample`` does).
        return_mean : bool, default=False
            Return the decoder mean E[x | z] (as ``inverse_transform``)
            instead of a draw from p(x | z); with ``given``, the
            importance-weighted conditional mean E[x_free | x_given].
        given : dict, DataFrame, ndarray or None, default=None
            Conditions: a dict {column: value} that every row meets, or a
            DataFrame with one row of conditions per sampled row (NaN: free;
            ``n_samples`` then is its row count or left at 1), or for a model
            fitted on an array a 2-D array of the same kind. Given cells come
            back exactly; the others are drawn from the model's conditional
            p(x_free | x_given) by sampling-importance-resampling over
            ``n_importance`` samples of q(z | x_given): exact as
            ``n_importance`` grows, at ``n_importance`` decoder passes per row.
            See the user guide.
        n_importance : int, default=500
            Importance samples per row for ``given`` (ignored without it).

        Returns
        -------
        X : ndarray or DataFrame of shape (n_samples, `n_features_in_`)
            Generated rows in the units of the training data: float64 for a
            model fitted on an array; a DataFrame with the training columns,
            dtypes and categories for one fitted on a DataFrame.
        """
        check_is_fitted(self)
        n_samples = _check_count(n_samples, "n_samples")
        rng = check_random_state(self.random_state if random_state is None else random_state)
        if given is not None:
            n_importance = _check_n_importance(n_importance)
            table, given_mask = _conditional.condition_table(self, n_samples, given)
            values = _conditional.draw(self, table, n_importance, rng, return_mean)
            return _conditional.with_given_cells(self, values, table, given_mask)
        latent_seed, noise_seed = rng.randint(np.iinfo(np.int32).max, size=2)
        networks = self._networks(np.float64)
        latent_generator = torch.Generator().manual_seed(int(latent_seed))
        noise_generator = torch.Generator(device=networks.device).manual_seed(int(noise_seed))

        def generate(rows):
            z = torch.randn((rows.shape[0], self._network_spec["latent_dim"]), generator=latent_generator,
                            dtype=torch.float64).to(networks.device)
            if return_mean:
                return networks.decode_point(z)
            return networks.decode_sample(z, noise_generator)

        placeholder = np.broadcast_to(np.empty((1, 0)), (int(n_samples), 0))
        values = map_row_batches(generate, placeholder, (self.n_features_in_,), self._row_width(),
                                 n_threads=self._inference_threads(int(n_samples)))
        return self._schema.decode(values)

    # ------------------------------------------- per-cell and imputation hooks

    def _column_log_likelihood(self, X, n_samples=16):
        """E_q[log p(x_ij | z)] per cell, in nats (NaN for missing cells).

        A row's cells add up, minus KL(q(z|x) || p(z)), to its ELBO (averaged
        over `n_samples` draws of z): how much each column makes the row
        likely or unlikely. The draws are the row's own, as in ``score_samples``.
        """
        n_samples = _check_n_importance(n_samples, "n_samples")
        encoded = self._encode_input(X)
        networks = self._networks(encoded.dtype)
        latent_dim = self._network_spec["latent_dim"]

        def cells(batch):
            x, observed = networks.batch(batch.values)
            return networks.cell_log_likelihood(x, observed, networks.as_tensor(batch.noise(n_samples, latent_dim)))

        return map_row_batches(cells, encoded, (self.n_features_in_,), self._draws_width(n_samples),
                               nan_is_missing=True, n_threads=self._inference_threads(encoded.shape[0] * n_samples))

    def _reconstruct(self, X, n_importance=100, random_state=None, n_draws=1):
        """Every cell of X predicted from its row's observed cells (MIWAE), as decoded values.

        With ``random_state=None``, the self-normalised importance-weighted
        conditional mean (the most probable category for categories) over
        ``n_importance`` samples of q(z | x_observed). Otherwise one draw from
        the approximate conditional p(x_missing | x_observed), by
        sampling-importance-resampling, seeded by `random_state`.

        Observed cells are predicted too; callers keep them as they were.
        With `random_state` and ``n_draws=m > 1``: m draws per row from the
        same importance samples, shape (n_rows, m, n_features).
        """
        n_importance = _check_n_importance(n_importance)
        encoded = self._encode_input(X)
        networks = self._networks(encoded.dtype)
        latent_dim = self._network_spec["latent_dim"]
        generator = None
        if random_state is not None:
            seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
            generator = torch.Generator(device=networks.device).manual_seed(int(seed))

        def reconstruct(batch):
            x, observed = networks.batch(batch.values)
            return networks.impute(x, observed, networks.as_tensor(batch.noise(n_importance, latent_dim)), generator,
                                   n_draws=n_draws)

        width = self.n_features_in_ * (n_draws if generator is not None else 1)
        values = map_row_batches(reconstruct, encoded, (width,), self._draws_width(max(n_importance, n_draws)),
                                 out_dtype=np.float64,
                                 n_threads=self._inference_threads(encoded.shape[0] * n_importance))
        return values if n_draws == 1 or generator is None else values.reshape(len(values), n_draws, -1)

    # ------------------------------------------------------------ validation

    def _validate_table(self, X, reset):
        """Feature count and names checked, X as a numeric array or a DataFrame (not yet encoded)."""
        X = as_plain_input(X)
        if is_dataframe(X):
            if not reset:
                self._check_same_columns(X)
            X = validate_data(self, X, reset=reset, skip_check_array=True)
            if X.shape[0] < 1:
                raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
            if X.shape[1] < 1:
                raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
            return X
        # Not ensure_all_finite=True: NaN is a missing cell, and infinity gets
        # the schema's message saying it is not one.
        try:
            return validate_data(self, X, reset=reset, dtype=[np.float64, np.float32], ensure_all_finite=False)
        except ValueError as error:
            raise ValueError(_text_in_array_message(X, error)) from None

    def _check_same_columns(self, X):
        """A DataFrame with other column labels than at fit is refused, not read by position.

        scikit-learn checks the names only when they are all strings; a table
        with integer labels (or mixed ones) would otherwise be read column by
        column in whatever order it comes.
        """
        schema = getattr(self, "_schema", None)
        if schema is None or not schema.is_dataframe:
            return
        given = list(X.columns)
        if given != schema.names and not all(isinstance(name, str) for name in schema.names + given):
            raise ValueError(
                f"X has the columns {given[:10]!r}{' ...' if len(given) > 10 else ''}, but the model was fitted on "
                f"{schema.names[:10]!r}{' ...' if len(schema.names) > 10 else ''}: pass the same columns in the "
                "same order (columns are matched by label, never by position)."
            )

    def _encode_input(self, X, with_noise=True):
        """X checked, as rows that are encoded batch by batch (in X's float dtype, NaN where missing).

        `with_noise`: whether the batches carry their rows' Monte Carlo noise
        keys (``transform`` needs none, and hashing 784 values per row costs
        as much as the networks on one row).
        """
        check_is_fitted(self)
        # A plain float ndarray needs no conversion: checking it directly keeps
        # one-row transform as fast as PCA's (see is_plain_float_matrix).
        if hasattr(self, "feature_names_in_") or not is_plain_float_matrix(X, self.n_features_in_):
            X = self._validate_table(X, reset=False)
        return _EncodedRows(X, self._schema, self.handle_unknown, _float_dtype(X), self._seed if with_noise else None)

    def _row_width(self):
        """Elements one row needs in the widest layer: sizes inference batches."""
        spec = self._network_spec
        return max(spec["n_inputs"], spec["n_params"], spec["latent_dim"], *spec["hidden_layer_sizes"])

    def _draws_width(self, n_draws):
        """Row width when each row carries `n_draws` samples (at most a batch's worth at once)."""
        width = self._row_width()
        return min(n_draws, rows_per_batch(width)) * width

    def _inference_threads(self, n_rows):
        """CPU threads for inference on `n_rows` rows, sized by the largest batch."""
        return self._thread_plan(self.n_features_in_, min(n_rows, rows_per_batch(self._row_width())))[0]

    def _networks(self, dtype):
        """The fitted networks for data in `dtype` (float32 or float64), cached until the next fit."""
        dtype = _TORCH_DTYPES[np.dtype(dtype)]

        def build(dtype):
            return InferenceNetworks(self.encoder_, self.decoder_, self._schema.likelihood(), dtype)

        return self._inference_cache.get(dtype, build)

    @property
    def _n_features_out(self):
        return self._network_spec["latent_dim"]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.allow_nan = True
        return tags

    # ----------------------------------------------------------- pickling

    def __getstate__(self):
        """Plain state: networks and optimizer as CPU tensors, the schema as a dict."""
        # BaseEstimator may hand back self.__dict__ itself: copy before editing.
        state = dict(super().__getstate__())
        state.pop("_inference_cache", None)
        if "encoder_" in state:
            state["encoder_"] = _to_cpu(self.encoder_.state_dict())
            state["decoder_"] = _to_cpu(self.decoder_.state_dict())
            state["optimizer_"] = _to_cpu(self.optimizer_.state_dict())
        if "_schema" in state:
            state["_schema"] = self._schema.to_dict()
        return state

    #: The schema of the fitted state (see skvae._state); a subclass adding state extends it.
    _fitted_state_fields = FITTED_FIELDS

    def __setstate__(self, state):
        """Restore a state from ``__getstate__``, refusing one that does not hang together.

        Pickle, joblib, ``copy.deepcopy`` and :func:`skvae.load` all come here,
        so one schema (:mod:`skvae._state`) guards them all: a ValueError names
        the first inconsistency, and nothing is restored.
        """
        state = check_state(type(self), state)
        torch_state = {name: state.pop(name) for name in _STATE_FIELDS if name in state}
        super().__setstate__(state)
        self._inference_cache = InferenceCache()
        if torch_state:
            self._restore_torch_state(torch_state)

    def _restore_torch_state(self, torch_state):
        """Rebuild the networks and optimizer from CPU state dicts onto an available device."""
        self.device_ = str(restore_device(self.device_))
        check_networks_fit(self._network_spec, self.device_)
        self.encoder_, self.decoder_ = self._build_networks(self._network_spec)
        self.encoder_.load_state_dict(torch_state["encoder_"])
        self.decoder_.load_state_dict(torch_state["decoder_"])
        self.optimizer_ = self._new_optimizer()
        implementation = {flag: self.optimizer_.param_groups[0].get(flag) for flag in _ADAM_IMPLEMENTATION_FLAGS}
        self.optimizer_.load_state_dict(torch_state["optimizer_"])
        # Whether Adam runs fused is chosen for this machine's torch and device,
        # not stored: a GPU model's choice may not exist on the CPU loading it.
        self.optimizer_.param_groups[0].update(implementation)


def _text_in_array_message(X, error):
    """validate_data's message, with the column and value when an array holds text."""
    array = np.asarray(X, dtype=object) if not hasattr(X, "dtype") or X.dtype.kind in "OUS" else None
    if array is None or array.ndim != 2:
        return str(error)
    for j in range(array.shape[1]):
        for i, value in enumerate(array[:, j]):
            if isinstance(value, (str, bytes)):
                try:
                    float(value)
                except ValueError:
                    return (f"X holds text ({value!r} in column {j}, row {i}): an array must hold numbers. Pass the "
                            "table as a pandas DataFrame, whose text columns are modelled as categories.")
    return str(error)


#: The most importance samples per row a call takes. The bound's gap to log p(x)
#: shrinks like 1/K, so far below this K it is under the estimate's own noise;
#: each row costs K decoder passes, and Ctrl-C is only seen between batches, so
#: K = 10**9 would hold one row for minutes that cannot be interrupted.
MAX_N_IMPORTANCE = 100_000


def _check_count(value, name):
    """`value` as an int if it is a positive integer (bools are not), else a ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def _check_n_importance(value, name="n_importance"):
    value = _check_count(value, name)
    if value > MAX_N_IMPORTANCE:
        raise ValueError(
            f"{name}={value!r} is more than skvae takes ({MAX_N_IMPORTANCE:,} samples per row): each row costs "
            f"{name} decoder passes and cannot be interrupted mid-row, while the bound it buys changes less "
            "than its own Monte Carlo noise long before. Use at most 100000."
        )
    return int(value)


def _float_dtype(X):
    """float32 for float32 arrays (and all-float32 DataFrames), float64 otherwise."""
    dtypes = list(X.dtypes) if is_dataframe(X) else [X.dtype]
    return np.float32 if all(dtype == np.float32 for dtype in dtypes) else np.float64


class _EncodedRows:
    """Validated input that inference reads in row slices, each encoded on demand.

    Encoding the whole input at once would hold float64 copies of it; slice by
    slice, memory stays bounded by the batch (see :mod:`skvae._inference`).
    """

    def __init__(self, X, schema, handle_unknown, dtype, seed):
        # seed None: the batches carry no noise keys (inference without sampling).
        self.X, self.schema, self.handle_unknown, self.seed = X, schema, handle_unknown, seed
        self.dtype = np.dtype(dtype)
        self.shape = (X.shape[0], len(schema.columns))

    def __getitem__(self, rows):
        X = self.X.iloc[rows] if is_dataframe(self.X) else self.X[rows]
        raw = self.schema.raw_values(X, self.handle_unknown)
        # Keyed on the values in the user's units (codes for categories): the
        # same row gets the same noise whether it came as float32 or float64.
        keys = None if self.seed is None else _row_noise.row_keys(raw, self.seed)
        values = self.schema.encode(raw).astype(self.dtype, copy=False)
        return _EncodedBatch(values, keys, np.isnan(values).all(axis=1))


class _EncodedBatch:
    """One slice of encoded rows, with the keys of their Monte Carlo noise."""

    def __init__(self, values, keys, empty):
        self.values, self.keys, self.empty = values, keys, empty

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
