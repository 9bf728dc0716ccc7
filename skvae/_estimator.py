"""VAETransformer: the scikit-learn face of the VAE. NumPy or pandas in, the same out.

The face validates parameters and input, calls the model core
(:class:`skvae._model.VAEModel`) once, and shapes the result. It holds no
torch: the networks, their training and their inference live in the core.
"""

import numpy as np
from sklearn import config_context
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _conditional
from ._column_types import short_repr
from ._conditional import DEFAULT_N_IMPORTANCE
from ._core_backed import CoreBacked
from ._face_hooks import INFERENCE_OPTIONS, FaceHooks
from ._inference import is_plain_float_matrix
from ._input import as_pandas_frame, as_plain_input
from ._latent_mixture import fit_latent_mixture
from ._likelihoods import KINDS, requires_non_negative
from ._missingness import MECHANISMS
from ._model import DEVICE_TYPE, fit_model, new_seed
from ._networks import ACTIVATIONS
from ._schema import is_dataframe
from ._state import PicklesValidParameters
from ._torch_scope import with_torch_defaults
from ._transaction import AtomicSetParams, generator_kept_on_failure, reads_state, transactional
from ._validation import (
    MAX_N_IMPORTANCE,
    IntNotBool,
    RealNotBool,
    check_array_dtype,
    check_count,
    check_flag,
    check_inference_parameters,
    check_input_features,
    check_n_importance,
    check_seed,
    text_in_array_refusal,
    training_params,
    validate_table,
)


class VAETransformer(PicklesValidParameters, CoreBacked, FaceHooks, AtomicSetParams, ClassNamePrefixFeaturesOutMixin,
                     TransformerMixin, BaseEstimator):
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
        reverse order. A list, tuple or 1-D array of positive integers, or
        one int for a single layer (a set or dict has no order: refused).

    activation : {"relu", "tanh", "logistic", "elu", "gelu", "identity"}, default="relu"
        Activation of the hidden layers.

    likelihood : str or dict, default="auto"
        Observation model p(x_j | z) of each column. One of ``"auto"``,
        ``"gaussian"``, ``"quantile_normal"``, ``"lognormal"``, ``"inflated_gaussian"``,
        ``"bernoulli"``, ``"categorical"``, ``"poisson"``,
        ``"negative_binomial"`` for every column, or a dict
        from column name (or position) to one of them, the columns it does not
        name being ``"auto"``: for example ``{"year": "categorical"}``.
        ``"auto"`` decides from the dtype and values: bool and category
        columns, object and string columns of text (or booleans), pyarrow
        dictionary columns of labels (they come back in their dtype), and
        numeric columns with two distinct values or at most 10 (each seen 3
        times on average), are categorical; numbers with 10% of their values
        (and 5 rows or more) on one value are inflated Gaussians; other
        numbers are quantile-normal (Gaussian below 50 observed values), decoded
        to whole numbers when they were whole (counts too: ``"auto"`` picks
        no count model, see the user guide); an object column that holds
        numbers only, and every column of a NumPy array, is Gaussian (the
        rules for numbers read numeric dtypes: ``.astype(float)`` first). Decoded values stay inside each
        column's observed range and keep its decimals (a decoding rule: the
        scores are the model's density). See the user guide.
        ``"gaussian"``: learned mean and variance (floored
        at 3e-3 of the column's variance, so scores stay finite).
        ``"quantile_normal"``: Gaussian in the column's own quantile-normal
        transform (a density of x with its log-Jacobian), so that decoded
        values follow the column's marginal, skewed or multimodal.
        ``"lognormal"``: positive reals, Gaussian in log x.
        ``"inflated_gaussian"``: a point mass at the column's most frequent
        value (zeros, a bound) plus a quantile-normal part. ``"bernoulli"``:
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

    missing_mechanism : {"ignorable", "self_masking"}, default="ignorable"
        How cells came to be missing. ``"ignorable"``: independently of the
        missing values themselves, given the observed ones (missing at
        random); missing cells drop out of the likelihood, and the training
        objective and ``score_samples`` bound log p(x_observed).
        ``"self_masking"``: a cell's chance of being missing depends on its
        own value (missing not at random; not-MIWAE, Ipsen, Mattei &
        Frellsen, 2021). For each ``"gaussian"``, ``"quantile_normal"`` or ``"lognormal"`` column
        with missing cells in the first fit, and each ``"categorical"``
        column whose levels are numbers (a rating, a 0/1 dummy),
        P(missing | x_j) = sigmoid(a_j (x_j - b_j)) with x_j in the column's
        standardised units (of its levels, for a categorical column, whose
        missing value is summed over exactly) and a_j, b_j learned jointly
        with the VAE (``missingness_``); the
        objective and ``score_samples`` then bound log p(x_observed, s), s
        the pattern of missing cells, and imputations move towards where the
        mechanism says the missing values lie, beyond the observed range if
        need be. Choose it when values go missing because of what they are
        (a sensor saturates, high incomes go unreported); it costs a little
        more per step and needs the mask to carry the signal. Labelled
        categorical, count, Bernoulli and zero-inflated columns stay
        ignorable. See the user guide.

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
        At most 100,000, and a step of ``batch_size`` rows times K samples
        must fit in the device's memory (refused before training otherwise).

    batch_size : int or "auto", default="auto"
        Rows per minibatch; the last batch of an epoch may be smaller.
        ``"auto"``: 128, or 512 where ``fit`` (or one ``partial_fit`` call)
        is given 2,048 to 10,240 rows. A step of a table's small networks
        costs about the same at 128 rows and at 512, so such tables train in
        fewer steps; tables of up to 1,400 rows fitted best with 128, and
        beyond 10,240 rows 512-row fits end at the 200-epoch floor of
        ``max_iter="auto"``, undertrained (see the user guide).

    learning_rate : float, default=1e-3
        Adam's step size.

    max_iter : int or "auto", default="auto"
        Maximum number of epochs (passes over the data) per ``fit``.
        ``"auto"``: a budget that adapts to the data's size, 4,000 optimizer
        steps (``ceil(n_rows / batch_size)`` per epoch, training rows only)
        within 200 and 600 epochs: 600 epochs up to 768 rows, 400 at 1,280,
        250 at 2,047; with ``batch_size="auto"``'s 512 rows from 2,048 to
        10,240 rows, 600 again up to 3,072 rows, 400 at 5,120, 200 at 10,240;
        beyond, 128 rows and 200 epochs. Small
        tables need more epochs, as an epoch of a few hundred rows is two
        steps; the stopping rule ends a default fit well inside this budget
        on the tables benchmark's tables.

    tol : float, default=1e-3
        Improvement, in nats per row, that counts as progress for the
        stopping rule. Once the training loss (or, with validation, the
        negative validation ELBO) has not improved by ``tol`` for
        ``n_iter_no_change`` consecutive epochs, the learning rate is divided
        by 5; at the third such plateau training stops (scikit-learn MLP's
        ``learning_rate="adaptive"`` rule).

    n_iter_no_change : int, default=10
        Number of epochs without improvement that make a plateau;
        lengthened to as many epochs as 700 optimizer steps take, so that
        data with few steps per epoch is not stopped on noise; with
        ``max_iter="auto"`` to at most 20 epochs, so that three plateaus
        fit in the budget. With ``n_iter_no_change >= max_iter`` the rule
        cannot end a fit: ``max_iter`` is the plan, and reaching it raises no
        ``ConvergenceWarning``.

    early_stopping : "auto" or bool, default="auto"
        Hold out ``validation_fraction`` of the rows, monitor their ELBO,
        and restore the weights of the best validation epoch at the end.
        ``"auto"`` does so when the data are small enough to overfit:
        at most 10,000 rows, at least 10 weights of the networks per row,
        and at least 50 rows held out (so from 495 rows at the default
        ``validation_fraction``, whose 10% of 495 rounds to 50). A
        ``warm_start`` fit holds out the rows the fit before held out (on
        the same table) and keeps the weights it started from unless an
        epoch beats them. A held-out cell of a category level that no
        training row holds is scored as a missing cell (the fit has no
        evidence for that level: an identifier column's held-out cells would
        otherwise end the fit in its first epochs).

    validation_fraction : float, default=0.1
        Fraction of rows held out when validation is on, drawn from the
        rows with an observed cell (with ``missing_mechanism="ignorable"``,
        or a ``"self_masking"`` fit that models no column, a row with none
        has nothing to score; such rows all train, and
        ``early_stopping="auto"`` counts the others only).

    n_jobs : int or None, default=None
        CPU threads torch uses inside ``fit``, ``partial_fit`` and inference
        (ignored on a GPU). ``None``: automatic. skvae takes as many threads
        as the work of one step can keep busy, within the cores this process
        may use (CPU affinity, cgroup quota), ``OMP_NUM_THREADS`` and the
        limits of ``threadpoolctl`` or joblib's workers, and while training
        it keeps whichever of one thread or that many is measured faster, so
        that a busy machine does not stall every step at a thread barrier.
        ``-1``: every usable core; ``k >= 1``: exactly k threads, at most 16
        per CPU of the machine (more is refused: OpenMP aborts the process
        when it cannot create them); ``-2``: all but one, as in joblib.
        torch's own setting is restored after every call. See
        :ref:`the user guide <threads>`.

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
        starting afresh, on the column schema of the first fit (kinds,
        scaling, categories, and each numeric column's observed range and
        decimals, which decoded values keep to).

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

    exclusive_groups_ : list of list
        The exactly-one groups of 0/1 columns ``fit`` found (one-hot
        dummies: never 1 together, summing to 1 in every row observing all
        of them, at least 30 such rows), each a list of column names (or
        positions for arrays); ``sample`` keeps to those of categorical
        columns, ``VAEImputer``'s fills to all. Empty where there are none.

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
        otherwise (also after a ``partial_fit`` or a ``warm_start`` fit
        without validation following one with it).

    best_validation_score_ : float or None
        The held-out score of the weights kept: the best of
        ``validation_scores_``, or, where a ``warm_start`` fit keeps the
        weights it started from (no epoch beat their score), that score;
        None without validation.

    missingness_ : torch.nn.Module or None
        With ``missing_mechanism="self_masking"``, the fitted mechanism: its
        ``columns`` and ``level_columns`` (positions of the continuous and
        the numeric-level self-masking columns), ``slope`` (a_j) and
        ``threshold`` (b_j), in that order; None for an ignorable one.
        ``slope`` and ``threshold`` are torch tensors computed from the
        trainable parameters (``.detach().numpy()`` for NumPy), ``threshold``
        in the column's standardised units. An edit of the parameters in
        place (under ``torch.no_grad()``) is what later calls use and
        ``skvae.save`` writes.

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
    {'size': 'quantile_normal', 'colour': 'categorical'}
    >>> vae.sample(3).dtypes.equals(df.dtypes)
    True
    """

    _parameter_constraints: dict = {
        "latent_dim": [IntNotBool(1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", IntNotBool(1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "likelihood": [StrOptions({"auto", *KINDS}), dict],
        "handle_unknown": [StrOptions({"error", "ignore"})],
        "missing_mechanism": [StrOptions(set(MECHANISMS))],
        # See the docstring: beyond ~1e21 Adam's second moment overflows float32.
        "beta": [RealNotBool(0, 1e12, closed="both")],
        # One step holds n_importance_train decoder passes per row: the cap of every importance count.
        "n_importance_train": [IntNotBool(1, MAX_N_IMPORTANCE, closed="both")],
        "batch_size": [IntNotBool(1, None, closed="left"), StrOptions({"auto"})],
        # Adam's first step is 10 * learning_rate in float32: torch fails beyond ~3.4e37.
        "learning_rate": [RealNotBool(0, 1e37, closed="right")],
        "max_iter": [IntNotBool(1, None, closed="left"), StrOptions({"auto"})],
        "tol": [RealNotBool(0, None, closed="left")],
        "n_iter_no_change": [IntNotBool(1, None, closed="left")],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [RealNotBool(0, 1, closed="neither")],
        "n_jobs": [IntNotBool(None, -1, closed="right"), IntNotBool(1, None, closed="left"), None],
        "device": [str, DEVICE_TYPE],
        "random_state": [IntNotBool(0, 2**32 - 1, closed="both"), np.random.RandomState, None],
        # scikit-learn's convention: verbose=True is allowed, as in every sklearn estimator.
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    #: Read at every inference call, not only by fit: checked there too (check_inference_parameters).
    _inference_parameters = INFERENCE_OPTIONS

    def __init__(
        self,
        *,
        latent_dim=10,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        likelihood="auto",
        handle_unknown="error",
        missing_mechanism="ignorable",
        beta=1.0,
        n_importance_train=1,
        batch_size="auto",
        learning_rate=1e-3,
        max_iter="auto",
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
        self.missing_mechanism = missing_mechanism
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

    @with_torch_defaults
    @transactional
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
        return self._fit(self._validate_training_table(X), incremental=False)

    @with_torch_defaults
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one epoch (one shuffled pass in minibatches) over X.

        The first call initialises the model, including the column schema
        (kinds, scaling, category sets, each numeric column's observed range
        and decimals), which later calls keep: values of a later block
        beyond that range are trained on, but ``sample``,
        ``inverse_transform`` and the imputer's fills stay within it (a
        call warns, naming the column, where a value lies beyond the range
        by more than a quarter of its width). Later calls
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
        return self._fit(self._validate_table(X, reset=not self.__sklearn_is_fitted__()), incremental=True)

    @transactional
    def fit_transform(self, X, y=None, **fit_params):
        """Fit the VAE to X, then return the latent means of its rows, as ``fit(X).transform(X)``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Training data, as :meth:`fit` takes it.
        y : None
            Ignored.
        **fit_params : dict
            Passed to :meth:`fit`, which takes none.

        Returns
        -------
        Z : ndarray of shape (n_samples, latent_dim)
            As :meth:`transform` returns it (in ``set_output``'s container).
        """
        # Hostile sweep 26: scikit-learn's set_output makes transform's container after the fit, and a
        # container that cannot be made (transform_output="polars" without polars) refused the call
        # but left the new fit. One transaction: a refused fit_transform changes nothing.
        return super().fit_transform(X, y, **fit_params)

    def _validate_training_table(self, X):
        continuing = self.warm_start and self.__sklearn_is_fitted__()
        return self._validate_table(X, reset=not continuing)

    def _fit(self, X, incremental):
        """Hand validated X to the core: a new model, or the fitted one continued."""
        params = training_params(self)
        fresh = not self.__sklearn_is_fitted__() or not (incremental or self.warm_start)
        seed = new_seed(check_random_state(self.random_state)) if fresh else None
        model = fit_model(None if fresh else self._model, X, params, incremental=incremental, seed=seed)
        # partial_fit's X is one block of a stream: its mixture pools the previous one's rows (hostile
        # sweep 21). Decided: a warm_start fit is a fit of its X, started from the fitted weights, so its
        # mixture is X's alone, as its score and loss_curve_ are.
        fit_latent_mixture(model, X, self.handle_unknown, self.n_jobs, pooled=incremental and not fresh)
        self._model = model
        return self

    # ------------------------------------------------------------ inference

    def __sklearn_is_fitted__(self):
        return "_model" in self.__dict__

    @property
    def column_kinds_(self):
        check_is_fitted(self)
        return self._model.column_kinds

    @property
    def exclusive_groups_(self):
        check_is_fitted(self)
        names = list(self._model.column_kinds)
        return [[names[j] for j in group] for group in self._model.schema.exclusive_groups or ()]

    def get_feature_names_out(self, input_features=None):
        """Output feature names: ``vaetransformer0``, ..., one per latent dimension.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked: None, or the names of the columns seen in fit
            (``feature_names_in_`` when fit saw a DataFrame).

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        check_input_features(self, input_features)
        return super().get_feature_names_out(input_features)

    @with_torch_defaults
    @reads_state
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
            Posterior means: float32 where X is float32 (an array, or a
            DataFrame whose columns are all float32), float64 otherwise
            (float16, integers, mixed dtypes).
        """
        X = self._validate_input(X)
        return self._model.transform(X, handle_unknown=self.handle_unknown, n_jobs=self.n_jobs)

    @with_torch_defaults
    @reads_state
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
            ``"bernoulli"``, probabilities, the likelier of False and True
            in a boolean column); for categorical columns, the
            level nearest E[x | z] when the levels are numbers (an int or
            float column, such as a 1-5 rating that ``likelihood="auto"``
            models as categories), the most probable level when they are
            labels (text, booleans, a pandas ``category`` dtype). A
            DataFrame of the training schema when the model was fitted on a
            DataFrame, with the index of X when X is a DataFrame of codes
            (as ``transform`` gives them under
            ``set_output(transform="pandas")``): row i decodes X's row i.
        """
        check_is_fitted(self)
        check_inference_parameters(self)
        # The adapter every other input passes: a masked code as NaN (refused below, not decoded as the
        # value under the mask), pd.NA likewise, another library's table or a tensor as its values.
        X = as_plain_input(X)
        if is_dataframe(X):
            self._check_code_columns(X.columns)
        else:
            check_array_dtype(X)  # a code is never a date: NumPy would read one as days since 1970
        try:
            # Hostile sweep 21: under scikit-learn's assume_finite a NaN or infinite code reached the
            # decoder, which refused it as networks overflowing "far outside the range of the training
            # data", blaming the model for a code that is not a number. The codes are checked whatever
            # the setting, as transform checks its infinities, in scikit-learn's words.
            with config_context(assume_finite=False):
                Z = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        except (TypeError, ValueError, OverflowError) as error:
            # NumPy's "could not convert string to float" names no cell, and a code is never text.
            raise text_in_array_refusal(
                X, error, fix="inverse_transform decodes latent codes, the numbers transform returns.") from None
        latent_dim = self._model.latent_dim
        if Z.shape[1] != latent_dim:
            raise ValueError(
                f"X has {Z.shape[1]} features, but inverse_transform of {type(self).__name__} "
                f"expects latent_dim={latent_dim} features."
            )
        out = self._model.decode_mean(Z, n_jobs=self.n_jobs)
        if is_dataframe(X) and is_dataframe(out):
            out.index = X.index  # row i decodes X's row i (as sample(given=DataFrame) keeps given's index)
        return out

    @with_torch_defaults
    @reads_state
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
        not on one scale. Nor are scores of models that give a column
        different kinds: a real kind's log-density moves with the column's
        units (the column times 1000 scores log 1000 lower a row), a discrete
        kind's log-probability does not, so ``GridSearchCV`` over
        ``likelihood`` by this score compares no like with like (rescaling a
        column moves its choice): choose a column's kind by what the model
        samples or imputes.

        With ``missing_mechanism="self_masking"`` the number is a bound on
        log p(x_observed, s): the density of the observed cells plus the
        log-probability of the row's pattern s of missing cells under the
        fitted mechanism (a complete row included, whose pattern is "nothing
        missing"), estimated per sample from eight reparameterised draws of
        each missing continuous self-masking cell (their average, an unbiased
        estimate of p(s | x_observed, z), keeps the bound a bound) and
        exactly over the levels of a level column. A row with no observed
        cell then scores a bound on log p(s), below 0. Such scores compare
        with scores of the same mechanism only (``GridSearchCV`` over
        ``missing_mechanism`` with this score favours ``"ignorable"``, whose
        score leaves log p(s | x_observed) <= 0 out: choose the mechanism by what it
        imputes, not by this number). A fit that models no column (it
        warned) scores as the ignorable one.

        The Monte Carlo noise of each row is a function of the row's values
        (read to float32's precision, so a float32 copy of a table gets the
        table's noise and scores as it does, to float32's precision, in
        float32; a model fitted by skvae 0.10 or earlier keeps its float64
        keys) and the fitted seed, so a row's score does not depend on the
        other rows in the call, their order, or the batch size. Each score is
        one estimate of the bound, below log p(x) in expectation over that
        noise; a single estimate may exceed it (rows of equal values share
        their noise, so duplicates do not average it away).

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
            Estimates of lower bounds on log p(x), greater is better.
        """
        return self._scores_of(X, n_importance)

    @reads_state
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
        # Summed in float64: NumPy sums float32 scores (of float32 input) in float32, so four rows
        # of -9.3e37 each, finite, had a mean of -inf (hostile sweep 20).
        return float(np.mean(self.score_samples(X, n_importance=n_importance), dtype=np.float64))

    @with_torch_defaults
    @reads_state
    def sample(self, n_samples=1, random_state=None, return_mean=False, *, given=None,
               n_importance=DEFAULT_N_IMPORTANCE, with_missing=False, latent="aggregate", seen_pairs_only=True):
        """Draw rows: z from the training rows' latent law (or the prior), then x ~ p(x | z).

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws. None uses the estimator's ``random_state``
            (so an int ``random_state`` repeats the same draws, as
            ``GaussianMixture.sample`` does).
        return_mean : bool, default=False
            Return the decoder mean E[x | z] (as ``inverse_transform``,
            whose categorical columns are described there) instead of a
            draw from p(x | z); with ``given``, the importance-weighted
            conditional mean E[x_free | x_given].
        given : dict, DataFrame, ndarray or None, default=None
            Conditions: a dict {column: value} that every row meets, or a
            DataFrame with one row of conditions per sampled row (NaN: free;
            ``n_samples`` then is its row count or left at 1; the rows come
            back with its index), or for a model
            fitted on an array a 2-D array of the same kind. Given cells come
            back exactly, in the column's dtype (a number written as text as
            that number; a value an integer column cannot hold, a fraction or
            one beyond its range, is refused); the others are drawn from the model's conditional
            p(x_free | x_given) by sampling-importance-resampling over
            ``n_importance`` samples of the defensive proposal
            1/2 p(z) + 1/2 q(z | x_given) (half from the prior, half from
            the encoder, which given few cells can be overconfident): exact as
            ``n_importance`` grows, at ``n_importance`` decoder passes per row.
            A number beyond a column's fitted range is answered by the model's
            extrapolation; one so far out that the networks overflow on it
            (1e300 in a column near 50) is refused, naming it. See the user
            guide.
        n_importance : int, default=500
            Importance samples per row for ``given`` (checked, but not used,
            without it).
        with_missing : bool, default=False
            Give the sampled rows missing cells as the training table had
            them: a row drawn at z takes the missing cells of a training row
            drawn in proportion to its posterior's density at z, so each
            column's missing rate and which cells go missing together are
            reproduced, and the holes follow the row's values as far as z
            determines them (see the user guide). By default every cell is
            drawn. Not with ``given``.
        latent : {"aggregate", "prior"}, default="aggregate"
            Where z comes from. ``"aggregate"``: a Gaussian mixture (up to 10
            components) that ``fit`` fitted to draws from the posteriors
            q(z | x) of its rows, the aggregate posterior, which leaves out the regions of
            the prior no training row maps to, so that samples do not combine
            values in ways never seen (a species on an island where it does
            not live). ``"prior"``: N(0, I), draws from the model p(x)
            itself, whose density ``score_samples`` bounds. Models saved by
            skvae 0.3 and earlier, fits on fewer than 20 rows and a
            ``latent_dim`` above 1,024 (fewer components from 324) have no
            mixture and draw from the prior. After ``partial_fit`` the
            mixture pools the block's rows with those behind the previous
            mixture (at most 2,000 of them; see the user guide).
            ``given`` always conditions the model itself.
        seen_pairs_only : bool, default=True
            With ``latent="aggregate"``, keep to the pairs of discrete values
            seen together in training: a row that pairs two values never
            seen together in a training row (two mutually exclusive 0/1
            dummies both set) is drawn again, z and x afresh, up to 20
            rounds, and the kept rows are weighted back to the model's own
            share of each level (rejection alone would lower it), at up to
            three times the draws where some row breaks the rule. ``fit``
            records, for pairs of categorical columns (and of Bernoulli
            columns of 0s and 1s), the combinations its rows hold with both
            cells observed, where the pair has at most 400 combinations,
            among the first 64 such columns; an unseen combination is ruled
            out only where independent columns would put at least one row
            there (so that one unseen for its levels' rarity is not: new
            real rows hold such combinations too), which a level never
            observed beside the other column's cells (that column missing
            wherever the level is) never does; a missing cell
            (``with_missing``) never counts. A row still holding an unseen
            pair is kept only where too few rows hold none. Ignored with
            ``latent="prior"``, whose draws are the model's own p(x), and
            with ``given``, whose draws are the model's conditional, whatever
            the conditions ask for (a combination never seen included).
            Since 0.22.0 the rule keeps the table's exactly-one groups of 0/1
            dummies too (categorical or Bernoulli columns that ``fit`` found
            never 1 together and summing to 1 in every row observing all of
            them, at least 30 such rows: one-hot groups): a row with none of
            a group's dummies set, or two, is drawn again, and the group's
            shares of 1s are the model's scaled to sum to 1.
            Models saved by earlier versions of skvae recorded no pairs and
            draw as they did. See the user guide.

        Returns
        -------
        X : ndarray or DataFrame of shape (n_samples, `n_features_in_`)
            Generated rows in the units of the training data: float64 for a
            model fitted on an array; a DataFrame with the training columns,
            dtypes and categories for one fitted on a DataFrame.
        """
        check_is_fitted(self)
        check_inference_parameters(self)
        n_samples = check_count(n_samples, "n_samples")
        rng = check_seed(self.random_state if random_state is None else random_state)
        if not isinstance(latent, str) or latent not in ("aggregate", "prior"):
            raise ValueError(f"latent must be 'aggregate' or 'prior'; got {latent!r}.")
        return_mean = check_flag(return_mean, "return_mean")
        with_missing = check_flag(with_missing, "with_missing")
        seen_pairs_only = check_flag(seen_pairs_only, "seen_pairs_only")
        # Checked with or without given: n_importance=-1 is a mistake either way, not a setting to ignore.
        n_importance = check_n_importance(n_importance)
        self._model.check_sample_fits(n_samples)
        if with_missing and given is not None:
            raise ValueError("with_missing=True draws whole rows' missing cells; it does not combine with given.")
        if given is not None:
            given = as_pandas_frame(given, "given")  # a pyarrow or polars table of conditions, as a DataFrame
            table, given_mask = _conditional.condition_table(self, n_samples, given)
            # A condition the networks overflow on is refused after the draw's seeds are taken:
            # the caller's generator (a RandomState given, or the estimator's) is put back.
            with generator_kept_on_failure(rng):
                values = _conditional.draw(self, table, given_mask, n_importance, rng, return_mean)
                out = _conditional.with_given_cells(self, values, table, given_mask)
            if is_dataframe(given) and is_dataframe(out):
                out.index = given.index  # row i completes the conditions of given's row i
            return out
        # Hostile sweep 23: a failure of the draw itself (Ctrl-C in a long one, a MemoryError) left the
        # caller's generator (or NumPy's global one) moved by the seeds taken.
        with generator_kept_on_failure(rng):
            latent_seed, noise_seed = rng.randint(np.iinfo(np.int32).max, size=2)
            # A model that recorded its rows' holes gives each sample those of a row drawn at its z; patterns
            # drawn apart from the rows serve models that recorded none.
            missing = (self._model.schema.draw_missing(n_samples, rng)
                       if with_missing and not self._model.has_row_holes else None)
            return self._model.sample(n_samples, latent_seed, noise_seed, return_mean=return_mean,
                                      n_jobs=self.n_jobs, with_missing=with_missing, missing=missing,
                                      prior=latent == "prior",
                                      seen_pairs_only=bool(seen_pairs_only) and latent == "aggregate")

    # ------------------------------------------------------------ validation

    def _validate_table(self, X, reset):
        """Feature count and names checked, X as a numeric array or a DataFrame (not yet encoded)."""
        return validate_table(self, X, reset, getattr(self, "_schema", None))

    def _validate_input(self, X):
        """X checked against the fitted model, for inference."""
        # check_is_fitted only to raise its error: its tag lookups cost as much
        # as a small network's one-row pass.
        if not self.__sklearn_is_fitted__():
            check_is_fitted(self)
        check_inference_parameters(self)  # set_params after fit reaches them here unchecked
        # A plain float ndarray needs no conversion: checking it directly spares
        # a one-row transform validate_data's dataframe probing (see is_plain_float_matrix).
        if hasattr(self, "feature_names_in_") or not is_plain_float_matrix(X, self.n_features_in_):
            X = self._validate_table(X, reset=False)
        return X

    def _check_code_columns(self, columns):
        """Refuse a DataFrame of codes whose columns are this model's code names, but not all of them in order.

        Codes are read by position, as PCA reads them; so the output of
        ``transform`` under ``set_output(transform="pandas")`` with its
        columns reordered or selected decoded each dimension as another,
        without a word. Columns named otherwise (another library's names,
        numbers) are still read by position.
        """
        names = [str(name) for name in self.get_feature_names_out()]
        labels = list(columns)
        if labels == names or not any(isinstance(label, str) and label in names for label in labels):
            return
        raise ValueError(
            f"X's columns {short_repr(labels, 200)} name some of the latent codes {short_repr(names, 200)}, but are "
            "not all of them in their order: inverse_transform reads the codes by position. Pass "
            f"X[{short_repr(names, 200)}]."
        )

    @property
    def _n_features_out(self):
        return self._model.latent_dim

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.allow_nan = True
        # Hostile sweep 21: scikit-learn's default (False) told meta-estimators and tag readers that
        # categorical columns are refused; a DataFrame's category, string and bool columns are modelled
        # (as OneHotEncoder, which sets it too). ``string`` stays False: an array of text is refused.
        tags.input_tags.categorical = True
        tags.input_tags.positive_only = requires_non_negative(self.likelihood)
        return tags
