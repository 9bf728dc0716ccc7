"""VAETransformer: the scikit-learn face of the VAE. NumPy in, NumPy out."""

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

from . import _row_noise
from ._device import place_training_data, resolve_device, restore_device
from ._inference import (
    InferenceCache,
    InferenceNetworks,
    is_plain_float_matrix,
    map_row_batches,
    networks_in_dtype,
    rows_per_batch,
    to_tensor,
)
from ._likelihoods import LIKELIHOODS
from ._networks import ACTIVATIONS, build_networks
from ._progress import EpochReporter
from ._threads import ThreadTuner, resolve_n_jobs, torch_threads
from ._training import LR_DECAYS, StoppingRule, Trainer, make_adam, patience_epochs
from ._training import use_validation as wants_validation

_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}
_STATE_FIELDS = ("encoder_", "decoder_", "optimizer_")


class VAETransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    r"""Variational autoencoder (Kingma & Welling, 2014) as a scikit-learn transformer.

    The generative model is a standard normal prior p(z) = N(0, I) on a
    ``latent_dim``-dimensional z and a decoder network p(x | z): a diagonal
    Gaussian with learned mean and per-feature variance (``"gaussian"``), or
    independent Bernoullis for data in [0, 1] (``"bernoulli"``). An encoder
    network q(z | x) = N(mu(x), diag sigma(x)^2) is fitted jointly by
    maximising the evidence lower bound (ELBO) with Adam on minibatches,
    using the reparameterisation z = mu + sigma * eps, eps ~ N(0, I).

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

    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        Observation model p(x | z). ``"gaussian"``: diagonal Gaussian with
        learned mean and learned variance (floored at 3e-3 of each feature's
        variance, so scores stay finite). ``"bernoulli"``: independent
        Bernoullis; every value of X must lie in [0, 1].

    beta : float, default=1.0
        Weight of the KL term in the training loss (beta-VAE; 1 is the ELBO).
        Scores always report the true ELBO, whatever ``beta``.

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
        as many epochs as 200 optimizer steps take, so that data with few
        steps per epoch is not stopped on noise.

    early_stopping : "auto" or bool, default="auto"
        Hold out ``validation_fraction`` of the rows, monitor their ELBO,
        and restore the weights of the best validation epoch at the end.
        ``"auto"`` does so when the data are small enough to overfit:
        at most 10,000 rows, and at least 50 of them held out (so from 500
        rows at the default ``validation_fraction``).

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
        Number of features seen during ``fit``.

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
        ELBO of the held-out rows after each epoch (nats, greater is better);
        None otherwise.

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
    """

    _parameter_constraints: dict = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "likelihood": [StrOptions(set(LIKELIHOODS))],
        "beta": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        # Adam's first step is 10 * learning_rate in float32: torch fails beyond ~3.4e37.
        "learning_rate": [Interval(Real, 0, 1e37, closed="right")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_jobs": [Interval(Integral, None, -1, closed="right"), Interval(Integral, 1, None, closed="left"), None],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        latent_dim=10,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        likelihood="gaussian",
        beta=1.0,
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
        self.beta = beta
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
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : VAETransformer
            The fitted estimator.
        """
        continuing = self.warm_start and self.__sklearn_is_fitted__()
        X = validate_data(self, X, reset=not continuing, dtype=[np.float64, np.float32])
        with torch_threads(self._thread_plan(X.shape[1], self.batch_size)[0]):
            return self._fit(X, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one epoch (one shuffled pass in minibatches) over X.

        The first call initialises the model; later calls continue it, with
        the optimizer state kept, and append one entry to ``loss_curve_``.
        ``early_stopping`` and ``max_iter`` do not apply.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A block of training data.
        y : None
            Ignored.

        Returns
        -------
        self : VAETransformer
            The updated estimator.
        """
        first_call = not self.__sklearn_is_fitted__()
        X = validate_data(self, X, reset=first_call, dtype=[np.float64, np.float32])
        with torch_threads(self._thread_plan(X.shape[1], self.batch_size)[0]):
            return self._fit(X, incremental=True)

    def _fit(self, X, incremental):
        likelihood = LIKELIHOODS[self.likelihood]()
        likelihood.check_data(X)
        spec = self._new_network_spec(X.shape[1])
        fresh = not self.__sklearn_is_fitted__() or not (incremental or self.warm_start)
        if fresh:
            self._initialize(X, spec, likelihood)
        else:
            self._check_continuation(spec)
        use_validation = not incremental and wants_validation(
            self.early_stopping, X.shape[0], self.validation_fraction)
        X_train, X_valid = self._split_validation(X) if use_validation else (X, None)

        trainer = self._trainer(likelihood)
        validation = None if X_valid is None else self._validation_data(X_valid, trainer)
        n_epochs = 1 if incremental else self.max_iter
        reporter = EpochReporter(self.verbose, n_epochs)
        try:
            log = trainer.run(
                place_training_data(self._standardized_float32(X_train), trainer.device),
                n_epochs,
                rule=None if incremental else self._stopping_rule(use_validation, X_train.shape[0]),
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

    def _new_network_spec(self, n_features):
        return {
            "n_features": int(n_features),
            "latent_dim": int(self.latent_dim),
            "hidden_layer_sizes": list(self._hidden_layer_sizes()),
            "activation": self.activation,
            "likelihood": self.likelihood,
            "n_heads": LIKELIHOODS[self.likelihood].n_heads,
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

    def _initialize(self, X, spec, likelihood):
        """Resolve device and seed, fix the data scaling, build networks and optimizer."""
        self.device_ = str(resolve_device(self.device))
        self._seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self._data_shift, self._data_scale = likelihood.data_shift_scale(X)
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

    def _thread_plan(self, n_features, n_rows):
        """(threads, tune) for steps of `n_rows` rows: n_jobs, or the policy of skvae._threads.

        None threads (torch left alone) off the CPU, where the GPU does the work.
        """
        fitted = self.__sklearn_is_fitted__()
        device = self.device_ if fitted else str(resolve_device(self.device))
        if device != "cpu":
            return None, False
        spec = self._network_spec if fitted else self._new_network_spec(n_features)
        widths = [spec["n_features"], *spec["hidden_layer_sizes"], spec["latent_dim"]]
        weights = sum(a * b for a, b in zip(widths[:-1], widths[1:])) * 2 + widths[-2] * widths[-1]
        weights += widths[1] * widths[0] * (spec["n_heads"] - 1)  # the decoder's extra output heads
        return resolve_n_jobs(self.n_jobs, n_rows * weights)

    def _trainer(self, likelihood):
        shuffle, noise = self._generators()
        n_threads, tune = self._thread_plan(self._network_spec["n_features"], self.batch_size)
        return Trainer(
            self.encoder_,
            self.decoder_,
            likelihood,
            self.optimizer_,
            batch_size=self.batch_size,
            beta=self.beta,
            shuffle_generator=shuffle,
            noise_generator=noise,
            loss_offset=float(np.sum(np.log(self._data_scale))),
            thread_tuner=ThreadTuner(n_threads) if tune else None,
        )

    def _split_validation(self, X):
        if X.shape[0] < 2:
            raise ValueError(
                f"early_stopping=True needs at least 2 samples to hold out a validation set; "
                f"got n_samples={X.shape[0]}."
            )
        n_valid = max(1, int(round(self.validation_fraction * X.shape[0])))
        n_valid = min(n_valid, X.shape[0] - 1)
        return train_test_split(X, test_size=n_valid, random_state=self._seed + self.n_iter_)

    def _validation_data(self, X_valid, trainer):
        x = to_tensor(self._standardized_float32(X_valid)).to(trainer.device)
        noise = torch.randn(
            (x.shape[0], self._network_spec["latent_dim"]),
            generator=trainer.noise_generator,
            device=trainer.device,
        )
        return x, noise

    def _stopping_rule(self, use_validation, n_rows):
        if use_validation:
            best = -self.best_validation_score_ if self.best_validation_score_ is not None else math.inf
        else:
            best = self.best_loss_ if self.best_loss_ is not None else math.inf
        patience = patience_epochs(self.n_iter_no_change, math.ceil(n_rows / self.batch_size))
        return StoppingRule(self.tol, patience, best_loss=best, lr_decays=LR_DECAYS)

    def _standardized_float32(self, X):
        """(X - shift) / scale as float32, computed in float64 chunk by chunk.

        Standardizing before the cast keeps features like 1e6 + small noise
        intact; chunking keeps the float64 temporary bounded.
        """
        out = np.empty(X.shape, dtype=np.float32)
        step = max(1, 2**22 // max(1, X.shape[1]))
        for start in range(0, X.shape[0], step):
            chunk = X[start : start + step]
            out[start : start + step] = (chunk - self._data_shift) / self._data_scale
        return out

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

    def transform(self, X):
        """Encode X as the posterior means mu(x).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, latent_dim)
            Posterior means, in the dtype of X (float32 or float64).
        """
        X = self._validate_input(X)
        networks = self._networks(X.dtype)
        return map_row_batches(
            lambda rows: networks.encode_mean(networks.as_tensor(rows)),
            X,
            (self._network_spec["latent_dim"],),
            self._row_width(),
            self._inference_threads(X.shape[0]),
        )

    def inverse_transform(self, X):
        """Decode latent vectors to the decoder's mean E[x | z].

        Parameters
        ----------
        X : array-like of shape (n_samples, latent_dim)
            Latent vectors z, e.g. the output of ``transform``.

        Returns
        -------
        X_original : ndarray of shape (n_samples, `n_features_in_`)
            Decoder means in the units of the training data (for
            ``likelihood="bernoulli"``, probabilities).
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
        return map_row_batches(
            lambda rows: networks.decode_mean(networks.as_tensor(rows)),
            Z,
            (self.n_features_in_,),
            self._row_width(),
            self._inference_threads(Z.shape[0]),
        )

    def score_samples(self, X, n_importance=1):
        """Per-row lower bound on log p(x), in nats.

        With ``n_importance=1``, the ELBO: a one-sample reparameterised
        estimate of E_q[log p(x | z)] minus the closed-form KL(q(z|x) || p(z)).
        With ``n_importance=K > 1``, the importance-weighted bound of Burda et
        al. with K samples, which tightens towards log p(x) as K grows.

        The Monte Carlo noise of each row is a function of the row's values and
        the fitted seed, so a row's score does not depend on the other rows in
        the call, their order, or the batch size.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.
        n_importance : int, default=1
            Number of importance samples K.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Lower bounds on log p(x), greater is better.
        """
        if isinstance(n_importance, bool) or not isinstance(n_importance, numbers.Integral) or n_importance < 1:
            raise ValueError(f"n_importance must be a positive integer; got {n_importance!r}.")
        n_importance = int(n_importance)
        X = self._validate_input(X)
        networks = self._networks(X.dtype)
        latent_dim = self._network_spec["latent_dim"]

        def score_rows(rows):
            eps = _row_noise.standard_normal(_row_noise.row_keys(rows, self._seed), n_importance, latent_dim)
            x, noise = networks.as_tensor(rows), networks.as_tensor(eps)
            if n_importance == 1:
                return networks.elbo(x, noise[0])
            return networks.importance_weighted_bound(x, noise)

        return map_row_batches(score_rows, X, (), n_importance * self._row_width(),
                               self._inference_threads(X.shape[0] * n_importance))

    def score(self, X, y=None, n_importance=1):
        """Mean of :meth:`score_samples`: the average ELBO per row, in nats.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
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

    def sample(self, n_samples=1, random_state=None, return_mean=False):
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
            Return the decoder mean E[x | z] instead of a draw from p(x | z).

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_in_`)
            Generated rows, float64, in the units of the training data.
        """
        check_is_fitted(self)
        if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
        rng = check_random_state(self.random_state if random_state is None else random_state)
        latent_seed, noise_seed = rng.randint(np.iinfo(np.int32).max, size=2)
        networks = self._networks(np.float64)
        latent_generator = torch.Generator().manual_seed(int(latent_seed))
        noise_generator = torch.Generator(device=networks.device).manual_seed(int(noise_seed))

        def generate(rows):
            z = torch.randn((rows.shape[0], self._network_spec["latent_dim"]), generator=latent_generator,
                            dtype=torch.float64).to(networks.device)
            if return_mean:
                return networks.decode_mean(z)
            return networks.decode_sample(z, noise_generator)

        placeholder = np.broadcast_to(np.empty((1, 0)), (int(n_samples), 0))
        return map_row_batches(generate, placeholder, (self.n_features_in_,), self._row_width(),
                               self._inference_threads(int(n_samples)))

    def _validate_input(self, X):
        check_is_fitted(self)
        # A plain float ndarray needs no conversion: checking it directly keeps
        # one-row transform as fast as PCA's (see is_plain_float_matrix).
        if hasattr(self, "feature_names_in_") or not is_plain_float_matrix(X, self.n_features_in_):
            X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        # The fitted likelihood, not the parameter, which set_params may have changed since.
        LIKELIHOODS[self._network_spec["likelihood"]]().check_data(X)
        return X

    def _row_width(self):
        """Elements one row needs in the widest layer: sizes inference batches."""
        spec = self._network_spec
        return max(spec["n_features"] * spec["n_heads"], spec["latent_dim"], *spec["hidden_layer_sizes"])

    def _inference_threads(self, n_rows):
        """CPU threads for inference on `n_rows` rows, sized by the largest batch."""
        return self._thread_plan(self.n_features_in_, min(n_rows, rows_per_batch(self._row_width())))[0]

    def _networks(self, dtype):
        """The fitted networks in `dtype` (float32 or float64), cached until the next fit."""
        dtype = _TORCH_DTYPES[np.dtype(dtype)]

        def build(dtype):
            encoder, decoder = networks_in_dtype(self.encoder_, self.decoder_, dtype)
            likelihood = LIKELIHOODS[self._network_spec["likelihood"]]()
            return InferenceNetworks(encoder, decoder, likelihood, self._data_shift, self._data_scale, dtype)

        return self._inference_cache.get(dtype, build)

    @property
    def _n_features_out(self):
        return self._network_spec["latent_dim"]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # ----------------------------------------------------------- pickling

    def __getstate__(self):
        """Plain state: networks and optimizer as CPU tensors, so a GPU model loads anywhere."""
        # BaseEstimator may hand back self.__dict__ itself: copy before editing.
        state = dict(super().__getstate__())
        state.pop("_inference_cache", None)
        if "encoder_" in state:
            state["encoder_"] = _to_cpu(self.encoder_.state_dict())
            state["decoder_"] = _to_cpu(self.decoder_.state_dict())
            state["optimizer_"] = _to_cpu(self.optimizer_.state_dict())
        return state

    def __setstate__(self, state):
        torch_state = {name: state.pop(name) for name in _STATE_FIELDS if name in state}
        super().__setstate__(state)
        self._inference_cache = InferenceCache()
        if torch_state:
            self._restore_torch_state(torch_state)

    def _restore_torch_state(self, torch_state):
        """Rebuild the networks and optimizer from CPU state dicts onto an available device."""
        self.device_ = str(restore_device(self.device_))
        self.encoder_, self.decoder_ = self._build_networks(self._network_spec)
        self.encoder_.load_state_dict(torch_state["encoder_"])
        self.decoder_.load_state_dict(torch_state["decoder_"])
        self.optimizer_ = self._new_optimizer()
        self.optimizer_.load_state_dict(torch_state["optimizer_"])


def _to_cpu(value):
    """A copy of a (nested) state dict with every tensor on the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone()
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cpu(v) for v in value)
    return value
