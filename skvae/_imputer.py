"""VAEImputer: scikit-learn's imputer contract on a VAE fitted to incomplete data (MIWAE).

The imputer is a thin face over a fitted :class:`~skvae.VAETransformer`
(``vae_``), trained on the observed cells only (missing cells drop out of
its likelihood). It fills each missing cell from the row's observed cells:

- single imputation (``sample_posterior=False``): the self-normalised
  importance-weighted conditional mean of Mattei & Frellsen (2019),
  sum_k w_k E[x_missing | z_k] with z_k ~ q(z | x_observed) and
  w_k proportional to p(x_observed | z_k) p(z_k) / q(z_k | x_observed); for a
  categorical column of numbers (an int or float column that
  ``likelihood="auto"`` models as categories, a 1-5 rating), the seen level
  nearest that mean, the least squared error a seen level can make; for a
  column of labels, the category with the highest weighted probability;
- multiple imputation (``sample_posterior=True``): one draw from the
  approximate conditional p(x_missing | x_observed), by
  sampling-importance-resampling over the same K samples, as
  :class:`~sklearn.impute.IterativeImputer` draws with ``sample_posterior=True``.

With ``missing_mechanism="self_masking"`` the VAE also learns how likely
each numeric cell is to be missing given its own value (not-MIWAE, see
:mod:`skvae._missingness`), the weights include that probability, and the
fills of those columns are weighted draws of the missing values.

Observed cells are returned exactly as they came in.
"""

import copy
import math
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._mask import _get_mask
from sklearn.utils._missing import is_scalar_nan
from sklearn.utils._param_validation import (
    MissingValues,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils._set_output import _get_output_config, _wrap_data_with_container
from sklearn.utils.validation import FLOAT_DTYPES, check_is_fitted, validate_data

from ._column_types import (
    arrow_dictionary,
    holds_only_booleans,
    holds_only_integers,
    imputer_placeholder,
    infinite_value_refusal,
    requested_kinds,
    values_as_bools,
    whole_numbers_as_ints,
)
from ._conditional import overflowing_cells
from ._estimator import VAETransformer
from ._face_hooks import INFERENCE_OPTIONS, inference_options
from ._face_state import IMPUTER_CROSS_CHECKS, IMPUTER_FIELDS
from ._faces import (
    face_from_state,
    in_the_vaes_form,
    plain_face_state,
    vae_to_fit,
    with_vae_parameters_doc,
)
from ._exclusive_groups import keep_exclusive_groups
from ._inference import NetworkOverflow
from ._lookups import fill_lookups, fit_lookups
from ._relations import fill_relations, fit_relations
from ._input import as_pandas_frame, as_plain_input, missing_cells, sparse_dtypes, with_sparse_dtypes
from ._likelihoods import requires_non_negative
from ._memory import check_host_allocation
from ._missingness import mechanism_name
from ._refinement import (
    cells_to_check,
    check_cells,
    checked_labels,
    fit_label_refinement,
    fit_refinement,
    fit_tree_refinement,
    keep_earned,
    passes_for,
    refine,
    refine_labels,
    refine_with_trees,
    refinement_applies,
    tree_columns,
)
from ._refusals import Refusal, advice, advice_reworded, count, empty_table, parameter, table
from ._schema import _float_bounds, as_arrow_dictionary, is_dataframe
from ._state import PicklesValidParameters
from ._torch_scope import with_torch_defaults
from ._training import epochs_for_steps
from ._transaction import AtomicSetParams, generator_kept_on_failure, reads_state, transaction
from ._validation import (
    MAX_N_IMPORTANCE,
    IntNotBool,
    check_array_dtype,
    check_count,
    check_frame,
    check_inference_parameters,
    check_input_features,
    check_n_importance,
    is_plain_real,
    text_in_array_refusal,
)

_OWN_PARAMETERS = ((
    ("missing_values", np.nan),
    ("add_indicator", False),
    ("keep_empty_features", False),
    ("copy", True),
    ("sample_posterior", False),
    ("n_importance", 100),
    ("refinement", "linear"),
    # The VAE's training, as MIWAE trains for imputation: the importance-weighted
    # bound, for a fixed budget counted in optimizer steps per column
    # (max_iter="auto", AUTO_STEPS_PER_COLUMN). A step costs about the same
    # whatever the table's rows, so a budget in epochs had made small tables
    # undertrained and 1,000-row narrow tables slow, and a wide table needs
    # more steps than a narrow one. K=10: at this budget it kept the 500-epoch
    # fit's accuracy on the widest table, which K=5 lost, for about 1.5 times
    # K=5's time (benchmarks/imputer_budget_study.py; numbers in
    # benchmarks/README.md). The stopping rule's patience (at least 700 steps,
    # three plateaus) cannot stop within such a budget, and with IWAE's noisy
    # training loss it had stopped early at a worse fit: the budget is fixed.
    ("n_importance_train", 10),
    # The budget above counts steps of 128 rows (benchmarks/imputer_budget_study.py);
    # the transformer's "auto" batch was measured on synthetic-data scores only.
    ("batch_size", 128),
    ("early_stopping", False),
    ("max_iter", "auto"),
    ("n_iter_no_change", 500),
))

#: ``max_iter="auto"``: as many epochs as make about this many optimizer steps
#: per column of the table (at most AUTO_MAX_EPOCHS, for tables of few rows).
AUTO_STEPS_PER_COLUMN = 80
AUTO_MAX_EPOCHS = 500


def budget_epochs(max_iter, n_rows, n_columns, batch_size):
    """The epochs a fit trains on an (`n_rows`, `n_columns`) table: `max_iter`, or those ``"auto"`` sets."""
    if max_iter != "auto":
        return max_iter
    return epochs_for_steps(AUTO_STEPS_PER_COLUMN * n_columns, math.ceil(n_rows / batch_size), high=AUTO_MAX_EPOCHS)


class _MissingValuesNotBool(MissingValues):
    """scikit-learn's missing_values constraint, less bools (hostile sweep 14).

    ``missing_values=True`` is an Integral, and True == 1.0: every 1.0 of a
    numeric column was imputed as a missing cell (False: every 0.0).
    """

    def is_satisfied_by(self, val):
        # A number NumPy cannot test (fractions.Fraction) is refused by name: scikit-learn's check
        # failed on it with NumPy's "ufunc 'isnan' not supported" (skvae._validation.is_plain_real).
        if isinstance(val, Real) and not is_plain_real(val):
            return False
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)

    def __str__(self):
        return super().__str__().replace("an instance of 'int'", "an instance of 'int' (not a bool)", 1)


class VAEImputer(PicklesValidParameters, AtomicSetParams, TransformerMixin, BaseEstimator):
    """Imputation of missing values by a variational autoencoder (MIWAE).

    A :class:`VAETransformer` is fitted to X with its missing cells left out
    of the likelihood; every missing cell is then predicted from the observed
    cells of its row. Works on NumPy arrays and on pandas DataFrames of mixed
    dtypes (categorical cells are filled with a category).

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    missing_values : int, float, str, np.nan, None or pandas.NA, default=np.nan
        The placeholder for missing cells; all occurrences are imputed. With
        a NaN-like placeholder (``np.nan``, None, pandas.NA) every NaN, None
        and pandas.NA cell is missing, in an array or a DataFrame. With
        another one (``-1``, ``"?"``), X may hold no NaN, None or pandas.NA
        cell: such a cell is refused with a ValueError naming its column, as
        scikit-learn's imputers refuse NaN they were not told to impute (set
        ``missing_values=np.nan``, or fill those cells first). A placeholder
        that no column of X can hold (text for an array or a DataFrame of
        numbers and booleans, a number for a DataFrame of text and
        booleans, a number no integer dtype of X holds, such as -1 for
        uint8 or 1.5) is refused, naming it.

    add_indicator : bool, default=False
        Append a :class:`~sklearn.impute.MissingIndicator` of the features
        that had missing values in ``fit``. Read by ``transform`` too, as
        scikit-learn's imputers read it: set to False after fit, the
        indicator is left out; set to True after a fit without it, it is
        refused until the next ``fit``.

    keep_empty_features : bool, default=False
        Whether to keep features that are missing in every row of ``fit``
        (their missing cells filled with 0, in the column's dtype where it
        holds 0, such as False, and their observed cells kept, as
        :class:`~sklearn.impute.SimpleImputer` does; a DataFrame's column
        whose dtype holds no 0 changes: a ``string`` or datetime column
        comes back as int64 zeros, a ``category`` column gains the
        category 0); by default they are dropped from the output.

    copy : bool, default=True
        Whether to impute a copy of X; with True, X is never changed. With
        False, a writeable float ndarray and a pandas DataFrame are imputed
        in place (their missing cells are set in X, which is what is
        returned unless ``add_indicator`` appends columns or an empty
        column is dropped; under ``set_output(transform="pandas")`` a
        shallow copy sharing its cells is returned, which scikit-learn
        relabels without touching X's columns);
        any other input (an integer or read-only array, a list, another
        library's table, a DataFrame of sparse or big-endian columns) is
        imputed in a copy. A refused call changes
        nothing either way.

    sample_posterior : bool, default=False
        Fill with one draw from the approximate conditional distribution of
        the missing cells given the observed ones, instead of the
        importance-weighted conditional mean. Successive ``transform`` calls
        give successive independent draws, reproducible from ``random_state``
        (multiple imputation); :meth:`multiple_imputations` gives m of them
        in one pass.

    n_importance : int, default=100
        Importance samples K of z per row behind each imputation.

    refinement : {"linear"} or None, default="linear"
        ``"linear"``: fit, after the VAE, one Bayesian ridge regression per
        continuous column (``"gaussian"``, ``"quantile_normal"``,
        ``"lognormal"``, ``"inflated_gaussian"``), per count column and per
        categorical column of 3 or more numbers (filled with the level
        nearest the blend) on every other column of the training table
        completed by the VAE (numeric columns of 3 to 64 values also as
        indicators of their levels, where the regression's evidence keeps
        them: lookups), and fill that column's missing cells with a
        blend of the VAE's fill and the regression's prediction, the
        regression weighted by the row's observed share of cells (from 1/2
        to 3/4), three times in rows more than half observed (each pass
        reading the other columns' refined fills; once under
        ``missing_mechanism="self_masking"``); the VAE's bottleneck blurs
        near-linear relations that a regression keeps. Spiked, count and categorical columns keep the blend only
        where it beat the VAE on a fifth of their observed cells, hidden for
        that check after the fit. Labels (categorical columns of text or
        other non-numbers) get a multinomial logistic regression on the
        other columns instead, kept only where, fitted without a fifth of the
        label's observed cells, it got clearly more of them right than the
        VAE, alone, gated by the row's share of observed cells, or blended
        half and half with a forest of the label's level shares (since
        0.20.0; not under self-masking; see :mod:`skvae._refinement`). Last,
        each of those numeric columns may blend its fills half and half with
        a forest of 20 extremely randomized trees on the table so completed
        (lookups, steps), kept only where, fitted without a fifth of the
        column's observed cells, the blend predicted them clearly better
        (not under self-masking; since 0.19.0). Then what the observed
        cells make certain (since 0.22.0): a lookup, a column holding one
        value per level of another of at most 64 values in the training rows
        (a budget per month, a square per root; at least 3 rows a level on
        average), is filled with the value of the row's observed level
        (:mod:`skvae._lookups`); a column bound to others by an exact linear
        relation in every training row observing them all (a total of its
        parts, shares summing to 1) is filled from the relation where it is
        the relation's only missing column (:mod:`skvae._relations`); and the
        table's exactly-one groups of 0/1
        columns (one-hot dummies found at fit: never 1 together, summing to 1
        in every row observing all of them, at least 30 such rows) fill a
        hidden member with 0 where another member is observed 1, and with 1
        where it is the only one hidden and the others are observed 0
        (:mod:`skvae._exclusive_groups`).
        Only point fills are refined, under either ``missing_mechanism``:
        draws (``sample_posterior=True``, :meth:`multiple_imputations`),
        fills of other kinds and tables wider than 256 design columns keep
        the VAE's own; draws take the lookups' and the groups' certain cells,
        which have one possible value. None: the
        VAE's fills alone (set on a fitted imputer, from the next
        ``transform`` on; ``"linear"`` set on an imputer fitted with None
        takes effect at the next ``fit``, which fits the regressions: until
        then the fills are the VAE's). See the user guide.

    {vae_parameters}

    Attributes
    ----------
    vae_ : VAETransformer
        The VAE fitted to the observed cells.

    indicator_ : MissingIndicator or None
        The indicator of missing values, with ``add_indicator=True``.

    n_iter_ : int
        Number of epochs the VAE trained (``vae_.n_iter_``).

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when they are all strings.

    See Also
    --------
    sklearn.impute.IterativeImputer : Round-robin regression imputation.
    sklearn.impute.KNNImputer : Imputation by nearest neighbours.
    VAETransformer : The model behind the imputations.

    References
    ----------
    P.-A. Mattei and J. Frellsen, "MIWAE: Deep Generative Modelling and
    Imputation of Incomplete Data Sets", ICML 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VAEImputer
    >>> rng = np.random.default_rng(0)
    >>> z = rng.standard_normal((300, 1))
    >>> X = np.hstack([z, 2 * z, -z]) + 0.1 * rng.standard_normal((300, 3))
    >>> X[::7, 1] = np.nan
    >>> imputer = VAEImputer(latent_dim=1, max_iter=50, random_state=0)
    >>> X_filled = imputer.fit_transform(X)
    >>> bool(np.isnan(X_filled).any())
    False
    """

    _OWN_PARAMETERS = _OWN_PARAMETERS

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
        batch_size=128,
        learning_rate=0.001,
        tol=0.001,
        validation_fraction=0.1,
        n_jobs=None,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        missing_values=np.nan,
        add_indicator=False,
        keep_empty_features=False,
        copy=True,
        sample_posterior=False,
        n_importance=100,
        refinement="linear",
        n_importance_train=10,
        early_stopping=False,
        max_iter="auto",
        n_iter_no_change=500,
    ):
        self.latent_dim = latent_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.likelihood = likelihood
        self.handle_unknown = handle_unknown
        self.missing_mechanism = missing_mechanism
        self.beta = beta
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.tol = tol
        self.validation_fraction = validation_fraction
        self.n_jobs = n_jobs
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.missing_values = missing_values
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features
        self.copy = copy
        self.sample_posterior = sample_posterior
        self.n_importance = n_importance
        self.refinement = refinement
        self.n_importance_train = n_importance_train
        self.early_stopping = early_stopping
        self.max_iter = max_iter
        self.n_iter_no_change = n_iter_no_change

    _parameter_constraints: dict = {
        **VAETransformer._parameter_constraints,
        "missing_values": [_MissingValuesNotBool()],
        "add_indicator": ["boolean"],
        "keep_empty_features": ["boolean"],
        "copy": ["boolean"],
        "sample_posterior": ["boolean"],
        # Not Interval(Integral): n_importance=True is a mistake, not 1.
        "n_importance": [IntNotBool(1, MAX_N_IMPORTANCE, closed="both")],
        "refinement": [StrOptions({"linear"}), None],
        "max_iter": [*VAETransformer._parameter_constraints["max_iter"], StrOptions({"auto"})],
    }

    #: Read at every transform, not only by fit: checked there too (check_inference_parameters).
    #: Hostile sweep 19: add_indicator and keep_empty_features shape every transform's output, so
    #: they are read there (as SimpleImputer reads them); keep_empty_features="no" set after fit was
    #: read as true, unchecked.
    _inference_parameters = ("missing_values", "copy", "sample_posterior", "n_importance", "refinement",
                             "add_indicator", "keep_empty_features",
                             *INFERENCE_OPTIONS)

    @with_torch_defaults
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the VAE to the observed cells of X.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Data with missing cells.
        y : None
            Ignored.

        Returns
        -------
        self : VAEImputer
            The fitted imputer.
        """
        with transaction(self):
            self._fit(X)
        return self

    @with_torch_defaults
    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit the VAE to the observed cells of X, then impute every missing cell of X.

        The same result as ``fit(X).transform(X)``, for one importance-sampling
        pass over X instead of two: the point fills that fit the refinement
        are the ones returned.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Data with missing cells.
        y : None
            Ignored.

        Returns
        -------
        X_imputed : {ndarray, DataFrame} of shape (n_samples, n_features_out)
            As :meth:`transform` returns it.
        """
        if self.sample_posterior:
            # A draw advances the fitted generator, which only fit creates. One transaction (hostile
            # sweep 26): a transform refused after the fit (its container) leaves the imputer unfitted.
            with transaction(self):
                return self.fit(X).transform(X)
        with transaction(self):
            given = X
            integers, sparse = _integer_array(X), sparse_dtypes(X)
            X, missing, kept, vae_input, values = self._fit(X, keep_fills=True)
            values = self._refined(vae_input, missing, kept, values)
            return self._output(X, missing, kept, values, integers, sparse, given)

    def _fit(self, X, keep_fills=False):
        """Fit; (validated X, its missing cells, the kept columns, the VAE's input, its point fills or None).

        The point fills of X (one importance-sampling pass) are computed when
        the refinement needs them or `keep_fills` asks for them.
        """
        # Hostile sweep 26: a warm_start fit validated X as a first fit does (reset), so after a fit on a
        # DataFrame one on an array (or the reverse) replaced the imputer's feature_names_in_ while its
        # vae_ kept the first fit's: get_feature_names_out changed, and transform of the first fit's
        # DataFrame warned that the imputer "was fitted without feature names". A continued fit keeps the
        # first fit's columns, as VAETransformer's and the detector's do: X is checked against them here,
        # in the imputer's name (a column count differing is refused as scikit-learn words it).
        continuing = self.warm_start and hasattr(self, "vae_")
        X, not_placeholders = self._validate(X, reset=not continuing)
        missing = self._missing_mask(X, not_placeholders)
        empty = missing.all(axis=0)
        kept = ~empty
        if not kept.any():
            # Every column is dropped as empty: the VAE would be handed a table
            # of no columns and refuse a shape (n, 0) the caller never gave.
            raise Refusal(
                empty_table(f"X has no observed value in any column (its {X.shape[0]} row(s) are missing in all "
                            f"{X.shape[1]} column(s))"), ": there is nothing to learn the imputations from.",
                advice("fit_on_observed_rows", " Fit on rows with observed values."),
            )
        vae = vae_to_fit(self)
        if vae is getattr(self, "vae_", None):
            self._check_same_empty_features(X, empty)
        vae.set_params(max_iter=budget_epochs(self.max_iter, X.shape[0], int(kept.sum()), self.batch_size),
                       likelihood=_kept_likelihood(self.likelihood, X, kept))
        vae_input = self._with_nan(X, missing, kept)
        with imputer_placeholder(self.missing_values):
            vae.fit(in_the_vaes_form(vae, vae_input) if continuing else vae_input)
        indicator = _new_indicator().fit(missing.astype(np.int8)) if self.add_indicator else None
        columns = vae._schema.columns
        refines = self.refinement is not None and (
            refinement_applies(columns) or checked_labels(columns, ~missing[:, kept], _inference_mechanism(vae)))
        values = self._point_fills(vae, vae_input) if refines or keep_fills else None
        # The training table in the schema's raw units, read once for the refinement and the lookups.
        raw = None if self.refinement is None else vae._schema.raw_values(vae_input, handle_unknown=self.handle_unknown)
        refinement, labels, trees = (self._fit_refinement(vae, raw, values, X, missing, kept) if refines
                                     else (None, None, None))
        lookups = None if raw is None else fit_lookups(raw, ~np.isnan(raw))
        relations = None if raw is None else fit_relations(vae._schema.columns, raw, ~np.isnan(raw))
        # Assigned only now: a refused fit leaves a fitted imputer as it was.
        self.vae_, self.indicator_, self._empty_features = vae, indicator, empty
        self._refinement, self._label_refinement, self._tree_refinement = refinement, labels, trees
        self._lookups, self._relations = lookups, relations
        # Successive draws (transform with sample_posterior=True) advance this
        # generator: new draws each call, the same sequence after each fit with
        # an int random_state, as IterativeImputer's.
        self._draws = check_random_state(self.random_state)
        self.n_iter_ = vae.n_iter_
        return X, missing, kept, vae_input, values

    def _check_same_empty_features(self, X, empty):
        """A continued fit (``warm_start``) needs the first fit's columns missing in every row, and no others.

        The VAE models only the other columns: a column that was empty and
        now holds values (or the reverse) changes the VAE's columns, which it
        refused as feature names "unseen at fit time" while X had the same
        columns as before.
        """
        previous = np.asarray(self._empty_features, dtype=bool)
        if previous.shape != empty.shape or np.array_equal(previous, empty):
            return  # a different column count is refused with its own message
        # The first fit's names where it had them: a continued fit on an array keeps them (sweep 26).
        names = (list(self.feature_names_in_) if hasattr(self, "feature_names_in_")
                 else list(X.columns) if is_dataframe(X) else list(range(X.shape[1])))
        filled = [names[j] for j in np.flatnonzero(previous & ~empty)]
        emptied = [names[j] for j in np.flatnonzero(empty & ~previous)]
        changes = [f"{filled!r}, missing in every row of the first fit, hold values now" if filled else "",
                   f"{emptied!r}, modelled by the first fit, are missing in every row now" if emptied else ""]
        raise ValueError(
            f"Cannot continue training: columns {' and '.join(change for change in changes if change)}; the VAE "
            "models only the columns with observed values, so its columns would change. Set warm_start=False (or "
            "start a new imputer) to refit."
        )

    @with_torch_defaults
    @reads_state
    def transform(self, X):
        """Impute every missing cell of X.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Data to complete.

        Returns
        -------
        X_imputed : {ndarray, DataFrame} of shape (n_samples, n_features_out)
            X with its missing cells filled, observed cells unchanged; columns
            missing in every row of ``fit`` are dropped (or filled with 0,
            with ``keep_empty_features=True``), and with ``add_indicator`` the
            indicator columns are appended. A DataFrame when X is one (with
            its dtypes); an integer array keeps its dtype, with whole fills, and
            a bool array (which holds no missing cell) comes back as bool.
        """
        check_is_fitted(self)
        given = X
        integers, sparse = _integer_array(X), sparse_dtypes(X)
        with generator_kept_on_failure(self._draws if self.sample_posterior else None):
            X, missing, kept, values = self._reconstructed(X, draw=self.sample_posterior)
            return self._output(X, missing, kept, values, integers, sparse, given)

    @with_torch_defaults
    @reads_state
    def multiple_imputations(self, X, n_imputations=5):
        """`n_imputations` completed copies of X, each a draw from p(x_missing | x_observed).

        Multiple imputation in one importance-sampling pass: the draws of
        each row share its ``n_importance`` samples of q(z | x_observed) and
        are resampled independently from them (sampling-importance-
        resampling), so they cost about one ``transform``, not m. They are
        therefore not the copies that m successive ``transform`` calls with
        ``sample_posterior=True`` give (each of those draws its own
        importance samples), though they follow the same law as
        ``n_importance`` grows. They are reproducible from ``random_state``,
        and successive calls give new draws: a call takes one step of the
        generator behind successive ``transform`` draws, as one such
        ``transform`` does, so ``n_imputations=1`` gives the copy that the
        next such ``transform`` would give. Pool the analyses of the copies
        with Rubin's rules (see the user guide).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Data to complete.
        n_imputations : int, default=5
            Number of completed copies m.

        Returns
        -------
        imputations : list of {ndarray, DataFrame}
            m completed copies of X, each as :meth:`transform` returns one.
        """
        check_is_fitted(self)
        n_imputations = check_count(n_imputations, "n_imputations")
        # Hostile sweep 22: the size check read np.shape of the caller's X as given, so a Dask array
        # with chunks of unknown size was refused as needing "nan EiB", and a Dask DataFrame got Dask's
        # "convert to a boolean value". The input adapter's reading (a Dask array computed once, a
        # Dask DataFrame refused by name, another library's table as pandas) comes first.
        given = X  # as transform's output is wrapped: by the caller's X, as given
        X = as_pandas_frame(X)
        try:
            shape = np.shape(X)[:2]
        except (ValueError, TypeError):  # ragged or odd input: validation below says what is wrong with it
            shape = (1, 1)
        n_cells, n_columns = math.prod(shape), shape[1] if len(shape) > 1 else 1
        # The m copies and the draws they come from, float64, and each copy's own container (hostile
        # sweep 23: counted as 16 bytes a cell alone, m copies of a DataFrame of one row, about 3 KB
        # each, passed the check for m in the millions, to run out of memory after an hour of
        # writing copies), before the draws advance the generator.
        check_host_allocation(n_imputations * (2 * 8 * n_cells + _copy_overhead_bytes(self, X, n_columns)),
                              ("Returning ", count("n_imputations", n_imputations, "copies"), " of ", table("X")),
                              advice("fewer_imputations", "Ask for fewer imputations, or impute X in parts."))
        integers, sparse = _integer_array(X), sparse_dtypes(X)
        with generator_kept_on_failure(self._draws):
            X, missing, kept, values = self._reconstructed(X, draw=True, n_draws=n_imputations)
            if values.ndim == 2:
                values = values[:, None, :]
            # Hostile sweep 19: "each as transform returns one", but only transform is wrapped by
            # set_output: under set_output(transform="pandas") transform gave a DataFrame and these
            # copies ndarrays. Each copy is wrapped as scikit-learn wraps transform's output (in _output).
            return [self._output(X.copy(), missing, kept, values[:, k, :], integers, sparse, given)
                    for k in range(n_imputations)]

    # ------------------------------------------------------------ helpers

    def _reconstructed(self, X, *, draw, n_draws=1):
        """(X validated, missing cells, kept columns, the predictions); `draw` takes the next seed."""
        check_inference_parameters(self)
        self._indicator()  # before the draw: a refused call leaves the generator where it was
        X, not_placeholders = self._validate(X, reset=False)
        missing = self._missing_mask(X, not_placeholders)
        kept = ~self._empty_features
        # The VAE checks the cells themselves (unknown categories, numbers out of
        # a column's domain) only after the seed is drawn: the caller's
        # generator_kept_on_failure puts the generator back, so a refused call changes nothing.
        seed = self._draws.randint(np.iinfo(np.int32).max) if draw else None
        vae_input = self._in_the_vaes_form(self._with_nan(X, missing, kept))
        with advice_reworded(_IGNORE_UNKNOWN_FOR_FILLS):
            try:
                values = self.vae_._reconstruct(vae_input, self.n_importance, seed, n_draws=n_draws,
                                                options=inference_options(self))
            except NetworkOverflow as error:
                message = overflowing_cells(self.vae_._schema, vae_input, error.rows, len(missing),
                                            self.handle_unknown)
                if message is not None:
                    raise NetworkOverflow(message, error.rows) from None
                raise
        if not draw:
            values = self._refined(vae_input, missing, kept, values)
        elif self.refinement is not None and self._holds_certain_cells():
            # A draw is not blended, but a cell the observed ones make certain has one possible value.
            raw = self.vae_._schema.raw_values(vae_input, handle_unknown=self.handle_unknown)
            draws = values if values.ndim == 3 else values[:, None, :]
            draws = np.stack([self._with_certain_cells(draws[:, k], raw, missing[:, kept])
                              for k in range(draws.shape[1])], axis=1)
            values = draws if values.ndim == 3 else draws[:, 0]
        return X, missing, kept, values

    def _output(self, X, missing, kept, values, integers, sparse, given):
        """What transform returns: X with its missing cells from `values`, the indicator columns, X's sparse dtypes.

        `integers` is the caller's integer array (None for other input), whose observed cells come back;
        `given` is the caller's X, as given. In set_output's container.
        """
        out = with_sparse_dtypes(self._with_indicator(self._filled(X, missing, kept, values, integers), missing, X),
                                 sparse)
        if out is X and is_dataframe(X) and _get_output_config("transform", self)["dense"] != "default":
            # Hostile sweep 26: scikit-learn's set_output relabels a DataFrame it is handed in place
            # (its pandas adapter assigns .columns), and with copy=False that DataFrame was the
            # caller's own: integer labels became x0, x1, ... in the caller's X (whose next
            # transform was then refused), and a string-dtype or named column Index lost its dtype
            # and name. The caller's cells are still imputed in place; scikit-learn relabels a
            # shallow copy, which shares them.
            out = out.copy(deep=False)
        # Hostile sweep 26: wrapped here, inside the caller's call, as well as by scikit-learn's
        # set_output around it (which then finds the container made and only relabels it): a container
        # that cannot be made (transform_output="polars" without polars, or a category column without
        # pyarrow) failed after the call had drawn its fills, or fit_transform had fitted, so the
        # refused call moved the generator of successive draws (or left a new fit) all the same.
        return _wrap_data_with_container("transform", out, given, self)

    def _refined(self, vae_input, missing, kept, values):
        """The point fills `values` with the refinement's blend, where there is one."""
        # Read at each call, as sample_posterior is: set_params(refinement=None) on a fitted imputer
        # fills with the VAE alone, without a refit.
        if self.refinement is None:
            return values
        # Imputers of skvae 0.17 and older have no label refinement, of 0.18 and older no trees.
        states = [getattr(self, name, None) for name in ("_refinement", "_label_refinement", "_tree_refinement")]
        if all(state is None for state in states) and not self._holds_certain_cells():
            return values
        completed, _ = self._completed(self.vae_, vae_input, values, self.handle_unknown)
        values = _refined_fills(values, completed, missing[:, kept], *states, self.vae_)
        return self._with_certain_cells(values, completed, missing[:, kept])

    def _holds_certain_cells(self):
        """Whether the fit found lookups, linear relations or exactly-one groups (imputers of skvae 0.21 and
        older, and their schemas, hold none)."""
        return (getattr(self, "_lookups", None) is not None or getattr(self, "_relations", None) is not None
                or self.vae_._schema.exclusive_groups is not None)

    def _with_certain_cells(self, values, observed, missing):
        """The fills `values` (of the kept columns) with the cells the row's `observed` ones make certain:
        lookups (skvae._lookups), linear relations (skvae._relations), then the exactly-one groups
        (skvae._exclusive_groups), not blended.

        `observed` holds the row's observed cells in raw units (what else it holds is not read).
        """
        values = fill_lookups(values, observed, missing, getattr(self, "_lookups", None))
        values = fill_relations(values, observed, missing, getattr(self, "_relations", None))
        return keep_exclusive_groups(values, observed, missing, self.vae_._schema.exclusive_groups)

    @with_torch_defaults  # calls the model directly, not through vae_'s scoped methods
    def _point_fills(self, vae, vae_input):
        """The VAE's point fills of its own training input, as transform computes them."""
        # The model's own pass, not vae_._reconstruct: X was validated by this fit, as vae_'s was.
        # n_importance as a Python int, as vae_._reconstruct passes it (hostile sweep 18): the model
        # multiplies it by the rows, and np.uint8(200) overflowed there ("out of bounds for uint8").
        return vae._model.reconstruct(vae_input, check_n_importance(self.n_importance), None,
                                      **inference_options(self))

    def _fit_refinement(self, vae, raw, values, X, missing, kept):
        """The refinement's states (:mod:`skvae._refinement`), numeric, labels and trees, from the VAE's training
        input `raw` (the schema's raw units, NaN where missing) and its point fills `values` of it.

        Where it refines a column that must earn its blend
        (:func:`skvae._refinement.is_checked`), one more importance-sampling
        pass over X, with a fifth of those columns' observed cells hidden,
        decides which keep it; the labels' and the trees' checks are passes of
        their own, so that each earlier check reads the fills it read without them.
        """
        observed = ~np.isnan(raw)
        completed = np.where(observed, raw, values)
        columns = vae._schema.columns
        mechanism = _inference_mechanism(vae)
        refinement = fit_refinement(completed, observed, columns, mechanism)
        check = None if refinement is None else check_cells(refinement, observed, columns)
        if check is not None:
            fills = self._fills_with_cells_hidden(vae, X, missing, kept, check, values)
            # completed holds the observed values, the checked cells' truth among them.
            refinement = keep_earned(refinement, completed, check, fills, np.where(check, fills, completed),
                                     ~observed | check, columns, _passes(vae))
        labels = checked_labels(columns, observed, mechanism)
        if labels:
            check = cells_to_check(labels, observed)
            fills = self._fills_with_cells_hidden(vae, X, missing, kept, check, values)
            labels = fit_label_refinement(completed, observed, columns, labels, check, fills)
        return refinement, labels or None, self._fit_trees(vae, X, missing, kept, values, completed, observed,
                                                           refinement, labels or None)

    def _fit_trees(self, vae, X, missing, kept, values, completed, observed, refinement, labels):
        """The tree refinement's state (:func:`skvae._refinement.fit_tree_refinement`), or None.

        Its check reads the rows holding a checked cell as the check's own
        pass fills every missing cell of theirs (refined as transform refines
        them), not as the first pass, which saw the checked cell, filled them.
        """
        columns = vae._schema.columns
        candidates = tree_columns(columns, observed, _inference_mechanism(vae))
        if not candidates:
            return None
        check = cells_to_check(candidates, observed)
        holed = ~observed | check
        fills = self._fills_with_cells_hidden(vae, X, missing, kept, check, values)
        fills = _refined_fills(fills, np.where(holed, fills, completed), holed, refinement, labels, None, vae)
        refined = _refined_fills(values.copy(), completed, ~observed, refinement, labels, None, vae)
        return fit_tree_refinement(np.where(observed, completed, refined), observed, columns, candidates, check,
                                   np.where(holed, fills, completed))

    def _fills_with_cells_hidden(self, vae, X, missing, kept, check, values):
        """The VAE's point fills of X with its `check` cells (of the kept columns) hidden too."""
        hidden = missing.copy()
        hidden[:, kept] |= check
        # Only the rows holding a checked cell are passed again: every other row's input is the one
        # `values` came from, and a row's fills do not depend on the rows sharing its call (noise is a
        # function of the row; skvae._inference), so its fills would be `values`' bit for bit. At
        # MCAR 80 % a third of the rows hold one, and this pass was a third of fit's time.
        rows = np.flatnonzero(check.any(axis=1))
        fills = values.copy()
        if rows.size:
            holed = self._with_nan(X, hidden, kept)
            fills[rows] = self._point_fills(vae, holed.iloc[rows] if is_dataframe(holed) else holed[rows])
        return fills

    @staticmethod
    def _completed(vae, vae_input, values, handle_unknown):
        """(The VAE's validated input in user units, category codes, its missing cells from `values`; the observed cells)."""
        raw = vae._schema.raw_values(vae_input, handle_unknown=handle_unknown)
        observed = ~np.isnan(raw)
        return np.where(observed, raw, values), observed

    def _validate(self, X, reset):
        """(X validated: a DataFrame, or an array of floats; for an array, the cells its floats would take
        for the placeholder though they are not it (see :func:`_not_placeholder_cells`), or None)."""
        # Masked cells are missing cells: they get the placeholder the imputer looks for.
        X = as_plain_input(X, missing=np.nan if _nan_is_missing(self.missing_values) else self.missing_values)
        if is_dataframe(X):
            check_frame(X, estimator=None if reset else self)
            X = validate_data(self, X, reset=reset, skip_check_array=True)
            _refuse_placeholder_no_column_holds(X, self.missing_values)
            return X, None
        if isinstance(self.missing_values, str):
            # Hostile sweep 14: an array is read as numbers, so no cell ever equals a text placeholder:
            # nothing was imputed, without a word (or its placeholder cells were refused as text).
            raise ValueError(
                f"missing_values={self.missing_values!r} is text, but X is an array, whose cells skvae reads "
                "as numbers: no cell can be that placeholder. Pass a pandas DataFrame (its text columns may "
                f"hold {self.missing_values!r}), or mark the missing cells NaN and set missing_values=np.nan."
            )
        # Read before validation makes every cell a float, where True is 1.0 and False 0.0.
        not_placeholders = _not_placeholder_cells(X, self.missing_values)
        if _beyond_float64(self.missing_values):
            # Hostile sweep 19: as a text placeholder above, no cell of an array read as float64 can be
            # it; scikit-learn's mask failed on it with Python's "int too large to convert to float",
            # and a masked array's cells, given the placeholder, were refused as X's own.
            raise Refusal(
                parameter("missing_values", self.missing_values),
                " is an integer beyond float64's range, but X is an array, whose cells skvae reads as float64: "
                "no cell can be that placeholder. ",
                advice("nan_placeholder", "Mark the missing cells NaN and set missing_values=np.nan, or pass a "
                                          "pandas DataFrame (its object columns may hold such a number)."),
            )
        check_array_dtype(X)
        if isinstance(X, np.ndarray) and X.dtype.kind in "iu" and not _nan_is_missing(self.missing_values) and (
                not _is_whole_within(self.missing_values, np.iinfo(X.dtype))):
            # Hostile sweep 29: an integer array keeps its dtype (sweep 19), so a placeholder it cannot
            # hold (-1 for uint8, 1.5, 300 for int8) matched no cell and X came back unimputed, silently.
            _refuse_beyond_integers(self.missing_values, [X.dtype], f"the values of X's dtype {X.dtype}")
        # Hostile sweep 19: missing_values=np.inf (or -np.inf) imputed a DataFrame's infinite cells,
        # but an array's were refused by scikit-learn's finiteness check ("Input X contains
        # infinity"), which the placeholder itself asked for. Infinities pass that check here; the
        # placeholder's become the missing cells, NaN is refused as with any other placeholder and
        # the other infinity is refused by the VAE, naming its column, as in a DataFrame.
        infinite_placeholder = _is_infinite(self.missing_values)
        try:
            # scikit-learn's finiteness check sums X first: values near float64's top overflow that
            # sum (inf - inf), and NumPy's "invalid value encountered in reduce" reached the caller
            # of a fit that succeeds; the check then reads the cells one by one, as it should.
            with np.errstate(over="ignore", invalid="ignore"):
                X = validate_data(
                    self, X, reset=reset, dtype=FLOAT_DTYPES, copy=self.copy,
                    ensure_all_finite=("allow-nan" if _nan_is_missing(self.missing_values)
                                       else not infinite_placeholder),
                )
        except (TypeError, ValueError, OverflowError) as error:
            if not _nan_is_missing(self.missing_values):
                _refuse_nan_cells(X, self.missing_values)
            _refuse_infinite_cells(X)
            raise text_in_array_refusal(X, error) from None
        if not _nan_is_missing(self.missing_values):
            # Hostile sweep 21: under scikit-learn's assume_finite (a global set_config or a
            # config_context) the check above lets NaN through, and an array's NaN under another
            # placeholder came back from transform unfilled, without a word, though a DataFrame's is
            # refused whatever the setting and the tags say allow_nan=False. Refused here too, as the
            # VAE refuses infinity under that setting.
            _refuse_nan_cells(X, self.missing_values)
        return X, not_placeholders

    def _missing_mask(self, X, not_placeholders=None):
        """Boolean (n_samples, n_features): the cells to impute; `not_placeholders`: an array's cells that are not."""
        if not is_dataframe(X):
            # None and pandas.NA mark NaN cells in a float array (validation made them NaN).
            mask = _get_mask(X, np.nan if _nan_is_missing(self.missing_values) else self.missing_values)
            # Hostile sweep 25: sweep 17's rule (a boolean cell is never a number's placeholder) held
            # for DataFrames only: validation makes an array's booleans 1.0 and 0.0, so missing_values=0
            # took every False of a bool array (an object array's, a nested list's) for a missing cell
            # and overwrote it with True, or dropped a column of False as empty, without a word.
            if not_placeholders is not None:
                mask &= ~not_placeholders
            return mask
        na = missing_cells(X)  # a NaN in a pyarrow float column too (hostile sweep 25)
        if _nan_is_missing(self.missing_values):
            return na
        if na.any():
            column = X.columns[na.any(axis=0)][0]
            raise ValueError(
                f"Input X contains NaN (in column {column!r}) but missing_values={self.missing_values!r}: "
                "set missing_values=np.nan, or fill the NaN first."
            )
        # Nullable columns (pandas "string", Int64) compare to a pandas BooleanArray, with NA where the
        # cell is NA; as a plain bool array those cells are simply not the placeholder.
        mask = _equal_cells(X, self.missing_values)
        # Hostile sweep 17: False == 0 and True == 1 in pandas, so missing_values=0 (or 1, 0.0, 1.0)
        # took every False (True) of a bool, boolean or object column of booleans for a missing
        # cell and overwrote it with an imputed label, without a word. The parameter refuses a bool
        # placeholder (sweep 14) for the converse reason; a boolean cell is never a number's placeholder.
        return _without_boolean_cells(X, mask)

    def _with_nan(self, X, missing, columns):
        """X's `columns` with its missing cells as NaN, for the VAE."""
        if is_dataframe(X):
            frame = _integers_kept_exact(X.iloc[:, np.flatnonzero(columns)], missing[:, columns])
            return self._without_placeholder_category(_masked(frame, missing[:, columns]))
        return np.where(missing, np.nan, X)[:, columns]

    def _without_placeholder_category(self, frame):
        """`frame` with ``missing_values`` no longer a category of its category columns.

        Hostile sweep 14: a category dtype keeps its declared categories,
        the placeholder's too once its cells are masked, so the VAE fitted it
        as a level (never observed) and could fill a missing cell with it:
        ``missing_values=-1`` on ``pd.Categorical([-1, 1, 2])`` gave back -1,
        a cell that reads as still missing.
        """
        import pandas as pd

        if _nan_is_missing(self.missing_values):
            return frame
        for position, dtype in enumerate(frame.dtypes):
            if not isinstance(dtype, pd.CategoricalDtype):
                continue
            column = frame.iloc[:, position]
            # The categories the mask read as the placeholder (the column's own comparison: True == 1 is
            # no match there), and only where no cell left holds one: a cell is never dropped.
            placeholder = pd.Series(pd.Categorical(dtype.categories, dtype=dtype)).eq(self.missing_values)
            placeholder = placeholder.to_numpy(dtype=bool, na_value=False) & ~np.asarray(
                dtype.categories.isin(column.dropna().unique()))
            if placeholder.any():
                # `frame` is mask()'s new table, not the caller's: set in place.
                frame.isetitem(position, column.cat.remove_categories(list(dtype.categories[placeholder])))
        return frame

    def _in_the_vaes_form(self, vae_input):
        """`vae_input` as vae_ was fitted: a DataFrame with its column names, or an array.

        scikit-learn lets a model fitted on a DataFrame transform an array and
        the other way round, with a warning about feature names: this
        imputer's validation gave it, and vae_, handed X in the caller's form,
        gave it a second time, naming VAETransformer, an estimator the caller
        never made. The cells are unchanged; the schema still checks them.
        """
        schema = self.vae_._schema
        if schema.is_dataframe and not is_dataframe(vae_input):
            import pandas as pd

            return pd.DataFrame(vae_input, columns=pd.Index(schema.names, dtype=object))
        if not schema.is_dataframe and is_dataframe(vae_input):
            try:
                return vae_input.to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError):  # cells that are no numbers: the schema names them
                return vae_input
        return vae_input

    def _filled(self, X, missing, kept, values, integers=None):
        """X with missing cells of the kept columns set from `values`; empty columns dropped or zeroed.

        An integer array `integers` (its placeholder a number, such as -1)
        comes back in its dtype: validation made it float, and its fills are
        whole numbers, since a column of whole numbers decodes to whole numbers.
        """
        predicted = self.vae_._decode_reconstruction(values)
        kept_columns = np.flatnonzero(kept)
        # The fills come in the fit's form (a DataFrame after a fit on one), X in the
        # caller's: scikit-learn lets a model fitted on a DataFrame transform an
        # array and the other way round (with a warning about feature names).
        if is_dataframe(predicted) and not is_dataframe(X):
            predicted = predicted.to_numpy(dtype=np.float64, na_value=np.nan)
        elif is_dataframe(X) and not is_dataframe(predicted):
            import pandas as pd

            predicted = pd.DataFrame(predicted)
        if is_dataframe(X):
            out = X.copy() if self.copy else X
            for k, j in enumerate(kept_columns):
                rows = missing[:, j]
                if rows.any():
                    _set_fills(out, j, rows, predicted.iloc[rows, k].to_numpy(), predicted.dtypes.iloc[k])
        else:
            # In place only where possible: a read-only array (a memory map, a shared buffer) is filled in a copy.
            in_place = X.dtype.kind == "f" and not self.copy and X.flags.writeable
            out = X if in_place else np.array(X, dtype=np.float64 if X.dtype.kind != "f" else X.dtype)
            # Hostile sweep 25: a fill kept off its column's range (self-masking) may lie beyond
            # float16's 65504 (the networks run in float32), and the assignment made it inf with
            # NumPy's "overflow encountered in cast". It saturates at the array's largest, as
            # decoding a float16 or float32 column of a DataFrame does (skvae._schema._decode_column).
            largest = float(np.finfo(out.dtype).max)
            for k, j in enumerate(kept_columns):
                rows = missing[:, j]
                out[rows, j] = np.clip(predicted[rows, k], -largest, largest)
        if self.keep_empty_features:
            # Only the missing cells, as SimpleImputer does: a column empty at fit may hold values
            # now, and an imputer keeps what it is given (they were overwritten with 0).
            for j in np.flatnonzero(~kept):
                rows = missing[:, j]
                if not rows.any():
                    continue
                if is_dataframe(out):
                    _set_fills(out, j, rows, _zeros_in_dtype(out.iloc[:, j].dtype, int(rows.sum())))
                else:
                    out[rows, j] = 0.0
        elif not kept.all():
            out = out.iloc[:, kept_columns] if is_dataframe(out) else out[:, kept_columns]
        if integers is not None and not is_dataframe(out):
            out = _in_the_integers_dtype(out, integers, missing, kept_columns if out.shape[1] < len(kept) else None)
        return out

    def _indicator(self):
        """The fitted indicator whose columns the output appends, as ``add_indicator`` asks now (or None).

        Hostile sweep 19: the output followed the indicator fitted or not
        by the last fit, whatever ``add_indicator`` said since: set to True
        after fit it gave no indicator, without a word. Switched off, the
        indicator is left out (as SimpleImputer does); switched on, it needs
        a fit, since its columns are those with missing cells in fit's X.
        """
        if not self.add_indicator:
            return None
        if self.indicator_ is None:
            raise Refusal(
                parameter("add_indicator", self.add_indicator),
                " was set after fit, which fitted no indicator: the indicator's columns are those with missing "
                "cells in the X given to fit. ",
                advice("refit_with_indicator", "Fit again to append it, or set add_indicator=False."),
            )
        return self.indicator_

    def _with_indicator(self, filled, missing, X):
        indicator_ = self._indicator()
        if indicator_ is None:
            return filled
        indicator = indicator_.transform(missing.astype(np.int8))
        if not is_dataframe(filled):
            return np.hstack([filled, indicator.astype(filled.dtype)])
        import pandas as pd

        names = [f"missingindicator_{X.columns[j]}" for j in indicator_.features_]
        out = pd.concat([filled, pd.DataFrame(indicator, columns=names, index=filled.index)], axis=1)
        # Hostile sweep 21: pandas' concat keeps attrs only where every frame holds the same, so
        # the caller's attrs, kept by every other output (a filled copy, a dropped column), were
        # lost once the indicator was appended. Copied as pandas copies them (deeply).
        out.attrs = copy.deepcopy(filled.attrs)
        return out

    def get_feature_names_out(self, input_features=None):
        """Output feature names: the kept input features, then the indicator's.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; by default ``feature_names_in_`` or x0, x1, ...

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        # Read here as transform reads them (see _inference_parameters): the names are its columns'.
        validate_parameter_constraints(
            {name: self._parameter_constraints[name] for name in ("add_indicator", "keep_empty_features")},
            {"add_indicator": self.add_indicator, "keep_empty_features": self.keep_empty_features},
            caller_name=type(self).__name__,
        )
        indicator = self._indicator()
        names = check_input_features(self, input_features)
        kept = names if self.keep_empty_features else names[~self._empty_features]
        if indicator is None:
            return kept
        return np.concatenate([kept, np.array([f"missingindicator_{names[j]}" for j in indicator.features_],
                                              dtype=object)])

    def __sklearn_is_fitted__(self):
        # As VAEOutlierDetector's (hostile sweep 22): check_is_fitted's default took any attribute
        # ending in an underscore, set by hand on an unfitted imputer, for a fit, and transform then
        # failed with "no attribute 'vae_'" instead of NotFittedError. fit assigns vae_ with the rest.
        return "vae_" in self.__dict__

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = _nan_is_missing(self.missing_values)
        # Hostile sweep 21: as VAETransformer's, the tags say what transform does: category and text
        # columns of a DataFrame are imputed, and float32 comes back float32 (the default tag listed
        # float64 alone, so scikit-learn's dtype check never ran on float32).
        tags.input_tags.categorical = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.positive_only = requires_non_negative(self.likelihood)
        return tags

    # ----------------------------------------------------------- pickling

    #: The schema of the fitted state (see skvae._state).
    _fitted_state_fields = IMPUTER_FIELDS
    _state_cross_checks = IMPUTER_CROSS_CHECKS

    def __getstate__(self):
        """Plain values only: the VAE's own state, the indicator's features, the empty columns as bools.

        The state pickle, joblib, ``copy`` and :func:`skvae.save` write.
        """
        state = plain_face_state(super().__getstate__())
        indicator = state.get("indicator_")
        if indicator is not None:
            state["indicator_"] = {"features": [int(j) for j in indicator.features_],
                                   "n_features": int(indicator.n_features_in_)}
        if "_empty_features" in state:
            state["_empty_features"] = [bool(flag) for flag in state["_empty_features"]]
        return state

    def __setstate__(self, state):
        """Restore a state from ``__getstate__``, refusing one that does not hang together (see skvae._state)."""
        state = face_from_state(type(self), state)
        super().__setstate__(state)
        if "vae_" in state and "_draws" not in state:
            # A pickle of skvae 0.2.0: successive draws start where a fit starts them.
            self._draws = check_random_state(self.random_state)


#: The imputer's own ``max_iter="auto"`` rule, in place of the transformer's
#: (hostile sweep 22: a text replacement of the transformer's entry had stopped
#: matching when that entry's type line changed, and ``help(VAEImputer)``
#: described the transformer's budget of 200 to 600 epochs).
_MAX_ITER = f"""
        Number of epochs (passes over the data) per ``fit``. ``"auto"``: as
        many as make about {AUTO_STEPS_PER_COLUMN} optimizer steps of
        ``batch_size`` rows per column (at most {AUTO_MAX_EPOCHS} epochs): a
        table of few rows trains as long as one of many, and a wide table,
        with more to learn, longer than a narrow one. With
        ``n_iter_no_change >= max_iter`` (the default) the budget is fixed.
"""
#: The imputer's words for the advice on an unseen category. Hostile sweep 25: the VAE's, "Set
#: handle_unknown='ignore' to treat them as missing cells", read as if the imputer would fill such a
#: cell with a known category; it keeps the cell as given (the entry below), which the caller learned
#: only from the output.
_IGNORE_UNKNOWN_FOR_FILLS = advice(
    "ignore_unknown",
    "Set handle_unknown='ignore' to keep such a cell as it is and impute the row's missing cells as if it "
    "were missing too; the cell itself is not filled (make it missing first to have it imputed).",
)

#: The transformer's entry names its transform, score_samples and partial_fit.
_HANDLE_UNKNOWN = """
        What ``transform`` does with a category not seen in ``fit``: raise a
        ValueError naming the column and values, or (``"ignore"``) leave the
        cell as it is and impute the row's missing cells as if it were
        missing too. A continued fit (``warm_start=True``) reads it too:
        under ``"ignore"`` it trains on such a cell as missing.
"""
VAEImputer.__doc__ = with_vae_parameters_doc(
    VAEImputer.__doc__, _OWN_PARAMETERS, own_entries={"max_iter": _MAX_ITER, "handle_unknown": _HANDLE_UNKNOWN},
    # The imputer has no score_samples: its VAE's objective is what the bound is of.
    wording=(("the training\n        objective and ``score_samples`` bound log p(x_observed).",
              "the training\n        objective bounds log p(x_observed)."),
             ("the\n        objective and ``score_samples`` then bound log p(x_observed, s)",
              "the\n        objective then bounds log p(x_observed, s)")))


#: Bytes one completed copy's container takes beyond its cells (measured with tracemalloc on
#: pandas 3 and NumPy 2, rounded up): an ndarray about 120; a DataFrame about 1,900, and 650 to
#: 1,500 a column (its block, Index entry and cached Series; more for extension dtypes).
_ARRAY_COPY_BYTES = 256
_FRAME_COPY_BYTES = 2048
_FRAME_COLUMN_BYTES = 1536


def _copy_overhead_bytes(imputer, X, n_columns):
    """Bytes one completed copy of X (of `n_columns` columns) takes beyond its cells, in transform's container."""
    if imputer.add_indicator:
        n_columns *= 2  # at most one indicator column per column
    if is_dataframe(X) or _get_output_config("transform", imputer)["dense"] != "default":
        return _FRAME_COPY_BYTES + _FRAME_COLUMN_BYTES * n_columns
    return _ARRAY_COPY_BYTES


def _new_indicator():
    """The unfitted indicator of ``add_indicator``: it reads a 0/1 matrix of missing cells."""
    # Imported here: sklearn.impute (with the linear models of its IterativeImputer) takes 0.1 s to
    # import, which every ``import skvae`` paid.
    from sklearn.impute import MissingIndicator

    return MissingIndicator(missing_values=1, features="missing-only", error_on_new=False)


def _kept_likelihood(likelihood, X, kept):
    """The ``likelihood`` parameter in the VAE's columns: X's `kept` ones, without those missing in every row.

    A dict names X's columns, by label or position; the VAE sees only the
    kept ones, so a position named another column there ({1: "poisson"}
    modelled X's third column when its second was empty), and a column left
    out was "a column X does not have". Each kind is named here by its
    column's label (by its position among the kept columns, for an array);
    a kind for a column left out has nothing to model and is dropped.
    Unknown keys are refused in X's terms.
    """
    if not isinstance(likelihood, dict):
        return likelihood
    frame = is_dataframe(X)
    names = list(X.columns) if frame else list(range(X.shape[1]))
    kinds = requested_kinds(likelihood, names, frame)
    return {(names[column] if frame else position): kinds[column]
            for position, column in enumerate(np.flatnonzero(kept)) if kinds[column] != "auto"}


def fitted_indicator(features, n_features):
    """The indicator a fit leaves when `features` (positions) of `n_features` columns had missing cells.

    Rebuilt from those positions by fitting on one row missing exactly there,
    so a loaded imputer's indicator is the one its fit made.
    """
    pattern = np.zeros((1, n_features), dtype=np.int8)
    pattern[0, list(features)] = 1
    return _new_indicator().fit(pattern)


def _equal_cells(X, missing_values):
    """Boolean (n_samples, n_features): the cells of DataFrame X equal to `missing_values`.

    Hostile sweep 19: an integer placeholder beyond float64 (10**400) made
    pandas' comparison of a float column fail with Python's "int too large
    to convert to float". A column whose comparison overflows holds numbers
    of a fixed width, none of which can equal it; an object column can, and
    compares cell by cell without converting.
    """
    if not _beyond_float64(missing_values):
        return X.eq(missing_values).to_numpy(dtype=bool, na_value=False)
    mask = np.zeros(X.shape, dtype=bool)
    for j in range(X.shape[1]):
        try:
            mask[:, j] = X.iloc[:, j].eq(missing_values).to_numpy(dtype=bool, na_value=False)
        except (OverflowError, TypeError):
            pass
    return mask


def _refuse_placeholder_no_column_holds(X, missing_values):
    """Refuse a placeholder that no column of DataFrame X can hold, naming ``missing_values``.

    Hostile sweep 29: sweep 14 refused a text placeholder for an array (no
    cell of numbers can be it), but a DataFrame of nothing but numbers and
    booleans took ``missing_values="?"`` (or ``"-1"``, the text of its -1
    cells) and gave X back with nothing imputed, without a word; so did a
    DataFrame of nothing but text with ``missing_values=-1``, and one with no
    object column with an integer beyond float64 (sweep 19: only object
    cells can be it). scikit-learn's SimpleImputer refuses a text
    placeholder for numbers too. Decided: refused where no column's dtype can
    hold the placeholder; a table where some column can is imputed column by
    column as before (its other columns simply hold no such cell), and so is
    a frame of booleans alone under a number placeholder, as sweep 25 lets
    a bool array through (it holds no missing cell and comes back as it is).
    An integer column holds only whole numbers within its dtype's range: a
    number outside every integer column's range (1.5; -1 for uint8) beside
    nothing else that can hold it is refused too, as for an integer array.
    """
    if _nan_is_missing(missing_values) or X.shape[1] == 0:
        return
    if isinstance(missing_values, str):
        if any(_can_hold_text(dtype) for dtype in X.dtypes):
            return
        number = _number_written(missing_values)
        raise Refusal(
            parameter("missing_values", missing_values),
            " is text, but every column of X holds numbers or booleans: no cell can be that placeholder. ",
            advice("number_placeholder",
                   "Set missing_values to the number that marks a missing cell"
                   + (f" (missing_values={number!r})" if number is not None else "")
                   + ", or mark the missing cells NaN and set missing_values=np.nan."),
        )
    if _beyond_float64(missing_values):
        if any(_can_hold_any_object(dtype) for dtype in X.dtypes):
            return
        raise Refusal(
            parameter("missing_values", missing_values),
            " is an integer beyond float64's range, but X has no object column, the only kind that can hold "
            "it: no cell can be that placeholder. ",
            advice("nan_placeholder", "Mark the missing cells NaN and set missing_values=np.nan, or give the "
                                      "column as object (its cells Python ints)."),
        )
    # A frame of booleans alone is let through, as sweep 25 lets a bool array through under a number
    # placeholder (it holds no missing cell and comes back as it is): refused only beside text or integers.
    if any(_can_hold_number(dtype, missing_values) for dtype in X.dtypes):
        return
    integer_dtypes = [dtype for dtype in X.dtypes if _integer_bounds(dtype) is not None]
    if integer_dtypes:
        _refuse_beyond_integers(missing_values, integer_dtypes,
                                "the values of X's integer columns, and no other column of X can hold it")
    if not any(_holds_only_text(_cells_dtype(dtype)) for dtype in X.dtypes):
        return
    raise Refusal(
        parameter("missing_values", missing_values),
        " is a number, but every column of X holds text or booleans: no cell can be that placeholder. ",
        advice("text_placeholder",
               f"Set missing_values to the text that marks a missing cell (missing_values={str(missing_values)!r}), "
               "or mark the missing cells NaN and set missing_values=np.nan."),
    )


def _cells_dtype(dtype):
    """The dtype of a column's cells: a category dtype's categories' dtype, any other dtype itself."""
    import pandas as pd

    return dtype.categories.dtype if isinstance(dtype, pd.CategoricalDtype) else dtype


def _holds_only_numbers_or_booleans(dtype):
    """Whether a column of `dtype` can hold nothing but numbers and booleans (its missing cells aside)."""
    import pandas as pd

    return pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)


def _holds_only_text(dtype):
    """Whether a column of `dtype` can hold nothing but text: pandas' string dtype, Arrow's text types."""
    import pandas as pd

    if isinstance(dtype, pd.StringDtype):
        return True
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        kind = dtype.pyarrow_dtype
        return pa.types.is_string(kind) or pa.types.is_large_string(kind) or getattr(
            pa.types, "is_string_view", lambda _: False)(kind)
    return False


def _can_hold_text(dtype):
    """Whether a column of `dtype` can hold a text cell (a category: one of its categories)."""
    return not _holds_only_numbers_or_booleans(_cells_dtype(dtype))


def _can_hold_number(dtype, number):
    """Whether a column of `dtype` can hold `number`, which is no boolean (sweep 17: a boolean never is one).

    An integer column holds only whole numbers within its dtype's range.
    """
    import pandas as pd

    cells = _cells_dtype(dtype)
    if pd.api.types.is_bool_dtype(cells) or _holds_only_text(cells):
        return False
    bounds = _integer_bounds(dtype)
    return bounds is None or _is_whole_within(number, bounds)


def _integer_bounds(dtype):
    """np.iinfo of an integer column's dtype (NumPy's, pandas' nullable or Arrow's); None for any other dtype."""
    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return None
    numpy_dtype = getattr(dtype, "numpy_dtype", dtype)
    if isinstance(numpy_dtype, np.dtype) and numpy_dtype.kind in "iu":
        return np.iinfo(numpy_dtype)
    return None


def _is_whole_within(number, bounds):
    """Whether `number` is a whole number from ``bounds.min`` to ``bounds.max`` (exactly, for Python ints)."""
    if isinstance(number, (int, np.integer)):
        return bounds.min <= int(number) <= bounds.max
    number = float(number)
    return math.isfinite(number) and number.is_integer() and bounds.min <= int(number) <= bounds.max


def _refuse_beyond_integers(missing_values, dtypes, what):
    """Refuse a number placeholder that none of `dtypes` (integer dtypes: `what`) can hold, naming the range."""
    bounds = [_integer_bounds(dtype) for dtype in dtypes]
    low, high = min(int(b.min) for b in bounds), max(int(b.max) for b in bounds)
    raise Refusal(
        parameter("missing_values", missing_values),
        f" is no whole number from {low} to {high}, {what}: no cell can be that placeholder. ",
        advice("integer_placeholder", "Set missing_values to the value that marks a missing cell in X "
                                      "(within its dtype), or mark the missing cells NaN and set "
                                      "missing_values=np.nan."),
    )


def _can_hold_any_object(dtype):
    """Whether a column of `dtype` holds Python objects (an integer beyond float64 among them)."""
    return _cells_dtype(dtype) == object


def _number_written(text):
    """The int or float that `text` writes ("-1", " 2.5 "), or None."""
    for kind in (int, float):
        try:
            number = kind(text.strip())
        except ValueError:
            continue
        return number if math.isfinite(number) else None
    return None


def _beyond_float64(missing_values):
    """Whether the placeholder is an integer that float64 cannot hold (10**400)."""
    if not isinstance(missing_values, (int, np.integer)) or isinstance(missing_values, (bool, np.bool_)):
        return False
    try:
        float(missing_values)
    except OverflowError:
        return True
    return False


def _without_boolean_cells(X, mask):
    """`mask` (cells of DataFrame X equal to the placeholder) less the cells that are booleans; in place.

    Only the columns with a matched cell are read: a text placeholder matches
    no boolean, and most columns match nothing, so object columns are not
    walked cell by cell for nothing.
    """
    import pandas as pd

    for j in np.flatnonzero(mask.any(axis=0)):
        dtype = X.dtypes.iloc[j]
        if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
            mask[:, j] = False
        elif dtype == object:
            mask[:, j] &= ~np.fromiter((isinstance(cell, (bool, np.bool_)) for cell in X.iloc[:, j]), bool, len(X))
    return mask


def _is_infinite(missing_values):
    """Whether the placeholder is an infinity (a number, not text, None or pandas.NA).

    A float test, not math.isinf: an int beyond float64 (10**400) is no infinity, and isinf
    raised OverflowError converting it.
    """
    return isinstance(missing_values, (float, np.floating)) and bool(np.isinf(missing_values))


def _nan_is_missing(missing_values):
    """Whether the placeholder is NaN-like (NaN, None or pandas.NA): cells validation lets through."""
    return missing_values is None or is_scalar_nan(missing_values) or type(missing_values).__name__ == "NAType"


def _as_the_columns_integers(observed, fills):
    """Whole-number fills as Python ints where an object column's observed cells are all integers.

    An object column holds its values as Python objects, so no dtype says
    they are integers: the fills, whole numbers decoded as floats, came back
    as 144.0 amid 143 and 150, another type in one column. The fitted schema
    records such a column (skvae._column_types.CELL_TYPE) and decodes it to
    integers; this covers X's column at transform, which may be of integers
    held as objects where the fit's was not, and models saved before the record.
    """
    if holds_only_booleans(observed):
        # Hostile sweep 23: fills among True and False (a probability under bernoulli) as booleans.
        return values_as_bools(fills)
    if not holds_only_integers(observed):
        return fills
    return whole_numbers_as_ints(fills)


def _as_the_columns_text(column, rows, fills, fitted_dtype):
    """Number fills written as text where a column fitted as numbers arrives as text (``'3.5'``).

    Hostile sweep 23: ``transform`` reads a column of numbers written as text
    as the numbers (as ``pd.to_numeric`` does), and the fills came back as
    numbers amid the text: 27 among '28' and '49', and a ``string`` (or
    pandas 3 ``str``) column widened to object, so ``.str`` methods saw NaN
    where a cell was filled. The fill is written as the number's text: an
    integer's digits, a float's shortest round-trip text (``repr``), which
    reads back as the fill. Only where every observed cell is text and the
    fitted column is numbers (not labels, whose fills are labels already).
    """
    import pandas as pd

    if fitted_dtype is None or not pd.api.types.is_numeric_dtype(fitted_dtype) or pd.api.types.is_bool_dtype(
            fitted_dtype) or isinstance(fitted_dtype, pd.CategoricalDtype):
        return fills
    if not (pd.api.types.is_string_dtype(column.dtype) and not isinstance(column.dtype, pd.CategoricalDtype)):
        return fills
    # infer_dtype reads the cells in C ("string": every observed cell a str): no Python pass per cell.
    if pd.api.types.infer_dtype(column[~rows], skipna=True) != "string":
        return fills
    if pd.api.types.is_integer_dtype(fitted_dtype):
        return np.array([str(int(value)) for value in np.asarray(fills).tolist()], dtype=object)
    # A float32 column's fills written at float32's precision ('0.1', not '0.10000000149011612').
    scalar = np.dtype(getattr(fitted_dtype, "numpy_dtype", fitted_dtype)).type
    return np.array([repr(float(value)) if scalar is np.float64 else str(scalar(value))
                     for value in np.asarray(fills).tolist()], dtype=object)


def _zeros_in_dtype(dtype, n):
    """`n` zeros in `dtype` where it holds 0 as itself (False in a boolean column), else as int64.

    pandas refuses an integer in a boolean column, which was then widened to
    object and came back int64; a column of labels (category, str) holds no
    0 of its own and takes the number, as SimpleImputer fills it.
    """
    import pandas as pd

    zeros = np.zeros(n, dtype=np.int64)
    if isinstance(dtype, pd.CategoricalDtype) and not (dtype.categories == 0).any():
        # pandas 3 casts a value a category dtype lacks to NaN with a deprecation warning; pandas 4 refuses it.
        return zeros
    try:
        converted = pd.Series(zeros).astype(dtype)
    except (TypeError, ValueError, NotImplementedError):  # Arrow's null type holds no 0 (hostile sweep 25)
        return zeros
    values = converted.astype(object)
    if values.isna().any() or not (values == 0).all() or any(isinstance(value, str) for value in values):
        return zeros
    return converted.to_numpy()


def _set_fills(frame, j, rows, fills, fitted_dtype=None):
    """Set `fills` into the `rows` of `frame`'s column `j`, in the column's dtype where it holds them.

    X's column at transform may have another dtype than at fit (a category
    dtype without the filled category, float16, a nullable integer for a
    column fitted as reals): pandas then refuses the assignment. Such a
    column gains the categories it lacks, takes the fills rounded to its
    float dtype, or else widens to a dtype that holds both. A column missing
    in every row has no values of its own, only the dtype pandas gave its NaN
    (float64) or its pd.NA (object): where float64 cannot hold the fills
    (labels), and always for object, it comes back in `fitted_dtype`, the
    column's dtype at fit (a category keeps its categories, Int64 stays Int64).
    """
    import warnings

    import pandas as pd

    column = frame.iloc[:, j]
    # A column of only pd.NA or None is object: it holds any fill, and would keep
    # integers as Python objects; with no value of its own it takes the fit's dtype.
    # Hostile sweep 25: so does a column of Arrow's null type (an all-null column read with the
    # pyarrow backend), which holds nothing but nulls: setting a fill in it failed inside pyarrow
    # ("NumPyConverter doesn't implement <null> conversion"), an error no caller expects.
    holds_no_value = column.dtype == object or _is_arrow_null(column.dtype)
    if holds_no_value and rows.all() and _set_in_fitted_dtype(frame, j, fills, fitted_dtype):
        return
    if column.dtype == object:
        fills = _as_the_columns_integers(column[~rows], fills)
    fills = _as_the_columns_text(column, rows, fills, fitted_dtype)
    if arrow_dictionary(column.dtype) is not None and _set_in_arrow_dictionary(frame, j, rows, fills):
        return
    try:
        if _not_booleans(column.dtype, fills):
            raise TypeError("fills a boolean column would read as True or False")
        # Hostile sweep 33: set in a copy of the column, put back, and refused (as below) where pandas widened
        # it. pandas < 2.0 (1.5, the oldest pyproject.toml allows) replaces a column that frame.iloc sets in
        # every row by a new one of the fills' dtype (a category column missing in every row, a row alone
        # given to transform, came back object); and pandas < 3 widens a column that cannot hold the fills
        # (float32 to float64, a datetime column to object for keep_empty_features' 0s) where pandas 3
        # refuses, which the fallback below answers in the column's dtype (float32 rounded, as pandas 3 has it).
        filled = column.copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # pandas 2.1-2.3: "incompatible dtype"
            filled.iloc[rows] = fills
        if filled.dtype != column.dtype:
            raise TypeError(f"pandas widened the {column.dtype} column to {filled.dtype}")
        frame.isetitem(j, filled)
        return
    except (TypeError, ValueError, NotImplementedError):  # pyarrow's ArrowNotImplementedError is the last
        pass
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        new = [value for value in pd.unique(pd.Series(fills, dtype=object)) if value not in dtype.categories]
        widened = column.cat.add_categories(new)
    elif pd.api.types.is_float_dtype(dtype) and _all_numbers(fills):
        with warnings.catch_warnings(), np.errstate(over="ignore"):
            warnings.simplefilter("ignore")
            rounded = pd.Series(fills).astype(dtype)
        numbers = pd.to_numeric(pd.Series(fills), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        kept = rounded.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.array_equal(np.isfinite(kept), np.isfinite(numbers)):
            fills, widened = rounded.to_numpy(), column
        else:  # beyond the dtype's range (float16's 65504): float64
            widened = column.astype(np.float64)
    else:
        if rows.all() and _set_in_fitted_dtype(frame, j, fills, fitted_dtype):
            return
        widened = column.astype(object)
    values = widened.to_numpy(copy=True)
    values[rows] = fills
    series = pd.Series(values, index=frame.index, name=column.name)
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(widened.dtype)
    elif widened.dtype == object:
        series = series.infer_objects()
    else:
        series = series.astype(widened.dtype)
    frame.isetitem(j, series)


def _not_booleans(dtype, fills):
    """Whether `dtype` is a boolean column's and `fills` hold a value other than a boolean, 0 or 1.

    Hostile sweep 25: pyarrow's bool type takes any number, so the fills of
    a column fitted as reals, given at ``transform`` as ``bool[pyarrow]``
    missing in every row, came back True (-0.15 among them), and text too.
    Such fills are set as a column of another dtype would take them (the
    fit's, for a column that holds no value); 0 and 1 stay False and True,
    as pandas' own boolean dtype takes them.
    """
    import pandas as pd

    if not pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return False
    return not all(isinstance(value, (bool, np.bool_))
                   or (isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1))
                   for value in np.asarray(fills, dtype=object).tolist())


def _masked(frame, mask):
    """``frame.mask(mask)``, leaving as it is a column that is missing in every row already.

    Hostile sweep 25: pandas' ``mask`` fails on a column of an Arrow
    dictionary type that holds no value ("cannot do a non-empty take from an
    empty axes"), as a column missing in every row at ``transform`` arrives
    when read with the pyarrow backend; masking such a column changes
    nothing, and the VAE reads it as it is.
    """
    untouched = mask.all(axis=0) & frame.isna().to_numpy(dtype=bool).all(axis=0)
    if not untouched.any():
        return frame.mask(mask)
    others = np.flatnonzero(~untouched)
    out = frame.copy(deep=False)
    if others.size:
        masked = frame.iloc[:, others].mask(mask[:, others])
        for k, j in enumerate(others):
            out.isetitem(j, masked.iloc[:, k])
    return out


def _is_arrow_null(dtype):
    """Whether `dtype` is Arrow's null type (``null[pyarrow]``), whose cells can only be null."""
    return str(getattr(dtype, "pyarrow_dtype", "")) == "null"


def _set_in_arrow_dictionary(frame, j, rows, fills):
    """Set `fills` into the `rows` of `frame`'s column `j`, of a pyarrow dictionary dtype; whether that could be done.

    pandas sets labels into such a column only where they are text: numbers
    failed inside pyarrow ("NumPyConverter doesn't implement ..."), with an
    error no caller expects. The column is encoded anew, in its dtype.
    """
    import pandas as pd

    column = frame.iloc[:, j]
    labels = column.to_numpy(dtype=object, na_value=None, copy=True)
    labels[rows] = fills
    try:
        series = as_arrow_dictionary(labels, column.dtype)
    except ValueError:
        return False
    frame.isetitem(j, pd.Series(series.array, index=frame.index, name=column.name))
    return True


def _set_in_fitted_dtype(frame, j, fills, fitted_dtype):
    """Replace `frame`'s column `j` by `fills` in `fitted_dtype`; whether that could be done."""
    import pandas as pd

    if fitted_dtype is None:
        return False
    if arrow_dictionary(fitted_dtype) is not None:
        try:
            series = as_arrow_dictionary(fills, fitted_dtype)
        except ValueError:
            return False
        frame.isetitem(j, pd.Series(series.array, index=frame.index, name=frame.columns[j]))
        return True
    try:
        frame.isetitem(j, pd.Series(fills, index=frame.index, name=frame.columns[j]).astype(fitted_dtype))
    except (TypeError, ValueError):
        return False
    return True


def _all_numbers(fills):
    """Whether every fill is a number (not a label: a string, or a bool, which a float column would make 0.0 or 1.0).

    A column of labels at fit arrives as floats at transform where every cell
    of it is missing (an all-NaN column is float64): its fills are labels, and
    the column widens to hold them; cast to float, 'y' raised pandas' own
    "could not convert string to float" and True became 1.0.
    """
    fills = np.asarray(fills)
    if fills.dtype.kind in "iuf":
        return True
    return all(isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
               for value in fills.tolist() if value is not None and value == value)


def _refuse_infinite_cells(X):
    """An infinite cell of an array, refused naming its column and row, as a DataFrame's and VAETransformer's are.

    Hostile sweep 25: scikit-learn's finiteness check refused it as "Input X
    contains infinity or a value too large for dtype('float64')", naming no
    cell and no way out, where the same cell of a DataFrame (or of an array
    given to VAETransformer or VAEOutlierDetector) is named with its advice.
    """
    found = _first_cell(X, np.isinf)
    if found is not None:
        value, row, column = found
        raise infinite_value_refusal(value, column, row)


def _refuse_nan_cells(X, missing_values):
    """With a placeholder other than NaN, NaN cells are neither observed nor missing: say so, naming a column.

    scikit-learn's message for them suggests estimators that handle NaN natively, which is beside the point.
    """
    found = _first_cell(X, np.isnan)
    if found is not None:
        _, row, column = found
        raise ValueError(
            f"Input X contains NaN (in column {column}, row {row}) but missing_values={missing_values!r}: set "
            "missing_values=np.nan, or fill the NaN first."
        )


def _first_cell(X, test):
    """(value, row, column) of the first cell of array-like X, read as float64, for which `test` holds; else None.

    None too where X is not a 2-D array of numbers: validation refuses it in its own words.
    """
    try:
        cells = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    if cells.ndim != 2:
        return None
    hits = test(cells)
    if not hits.any():
        return None
    row, column = np.argwhere(hits)[0]
    return cells[row, column], int(row), int(column)


def _integer_array(X):
    """X if it is an integer or bool ndarray (one that :meth:`VAEImputer.transform` returns in its dtype), else None.

    Hostile sweep 25: a bool array came back as float64 0.0 and 1.0. It
    holds no missing cell (no NaN; a number's placeholder matches no
    boolean, see :func:`_boolean_cells`; a bool placeholder is refused), so
    it comes back as given, as a DataFrame's bool column does.
    """
    dtype = getattr(X, "dtype", None)
    return X if isinstance(X, np.ndarray) and dtype.kind in "iub" else None


def _not_placeholder_cells(X, missing_values):
    """Mask of the cells of array-like `X` that its float64 cells would take for the placeholder, though they are not it.

    None where there are none. Booleans (hostile sweep 25), and integers
    beyond 2**53 that float64 rounds onto an integer placeholder there
    (hostile sweep 26): an int64 array of ids within 512 of int64's largest,
    under ``missing_values=np.iinfo(np.int64).max`` (a common sentinel), had
    every id read as the placeholder, float64 holding none of them, and the
    column of observed ids was dropped as empty, without a word (ids further
    off and the placeholder's own cells were right). The placeholder's cells
    of an integer array are found in its integers, as scikit-learn's
    SimpleImputer finds them (NumPy compares an integer array with a Python
    int exactly).
    """
    booleans = _boolean_cells(X, missing_values)
    rounded = _integers_rounded_onto(X, missing_values)
    if rounded is None:
        return booleans
    return rounded if booleans is None else booleans | rounded


def _integers_rounded_onto(X, missing_values):
    """The cells of integer array `X` that are not the integer placeholder, where float64 could round one onto it.

    None unless `X` is an integer array and the placeholder an integer
    beyond 2**53 (below, float64 holds every integer near it exactly).
    """
    if not isinstance(missing_values, (int, np.integer)) or isinstance(missing_values, (bool, np.bool_)):
        return None
    placeholder = int(missing_values)  # a Python int: NumPy compares it with any integer dtype exactly
    if abs(placeholder) <= 2**53:
        return None
    array = _table_of_kinds(X, "iu")
    return None if array is None else array != placeholder


def _table_of_kinds(X, kinds):
    """Array-like `X` as a 2-D NumPy array whose dtype kind is one of `kinds`, else None.

    None too for X that NumPy cannot make one array of (ragged rows) or of
    another shape: validation says what is wrong with those.
    """
    try:
        array = np.asarray(X)
    except (TypeError, ValueError):
        return None
    return array if array.ndim == 2 and array.dtype.kind in kinds else None


def _boolean_cells(X, missing_values):
    """Boolean mask of the cells of array-like `X` that are booleans, where a number's placeholder could equal one.

    None where none could: a NaN-like or text placeholder, an array of
    numbers, or X of a shape validation refuses anyway. Read from X as the
    caller gave it (a bool or object array, nested lists), before validation
    makes its cells floats.
    """
    if _nan_is_missing(missing_values) or isinstance(missing_values, str):
        return None
    array = _table_of_kinds(X, "bO")
    if array is None:
        return None
    if array.dtype.kind == "b":
        return np.ones(array.shape, dtype=bool)
    return np.fromiter((isinstance(cell, (bool, np.bool_)) for cell in array.flat), bool,
                       array.size).reshape(array.shape)


def _in_the_integers_dtype(out, integers, missing, columns=None):
    """`out` (X filled, as float) in the dtype of the caller's integer array `integers`, its observed cells as given.

    Hostile sweep 19: validation made the array float64, and the filled copy
    was cast back, so every observed cell beyond 2**53 came back rounded
    (2**53 + 1 as 2**53, 2**60 + 3 as 2**60): an imputer changed cells it
    was given. They are now taken from `integers` itself; only the fills
    come from `out`, rounded (a kind without decimals, bernoulli, fills a
    probability) and clipped to what the dtype holds, since a fill at the
    top of int64 is float64's 2**63, which the cast wrapped to -2**63.
    `columns`: the kept columns of X, where `out` dropped the others.
    """
    given = np.asarray(integers)
    observed = ~missing
    if columns is not None:
        given, observed = given[:, columns], observed[:, columns]
    low, high = (0.0, 1.0) if given.dtype.kind == "b" else _float_bounds(given.dtype)
    whole = np.clip(np.rint(out), low, high).astype(given.dtype)
    whole[observed] = given[observed]
    return whole


#: float64 holds every integer up to this magnitude exactly; beyond it neighbours merge.
_FLOAT_EXACT_INTEGERS = 2 ** 53


def _integers_kept_exact(frame, missing):
    """`frame` with its NumPy integer columns beyond 2**53 that `missing` masks in a nullable integer dtype.

    Hostile sweep 21: ``DataFrame.mask`` turns an int64 (uint64) column with
    a masked cell into float64, which rounds integers beyond 2**53: a column
    of ids or of int64's extremes, modelled as categories, came back to the
    VAE as ``9.223372036854776e+18`` for ``9223372036854775807``, so
    ``fit`` failed on its own complete rows (the refinement hides observed
    cells) with "categories not seen during fit", and ``transform`` refused
    a row with a hole in another cell's column's placeholder. Int64 (UInt64)
    holds a missing cell and every digit. Other columns are left as they
    were, so every other table reaches the VAE bit for bit as before.
    """
    import pandas as pd

    converted = {}
    for position, dtype in enumerate(frame.dtypes):
        if not (isinstance(dtype, np.dtype) and dtype.kind in "iu" and missing[:, position].any()):
            continue
        values = frame.iloc[:, position].to_numpy()
        beyond = (values >= _FLOAT_EXACT_INTEGERS).any() or (dtype.kind == "i" and (values <= -_FLOAT_EXACT_INTEGERS).any())
        if beyond:
            converted[position] = pd.Series(pd.array(values, dtype=f"{'U' if dtype.kind == 'u' else ''}Int{8 * dtype.itemsize}"),
                                            index=frame.index)
    if not converted:
        return frame
    frame = frame.copy(deep=False)
    for position, column in converted.items():
        frame.isetitem(position, column)
    return frame


def _refined_fills(values, completed, missing, refinement, labels, trees, vae):
    """The point fills `values` refined as transform refines them: the linear blend, the labels', the trees'.

    `completed` is the table with its `missing` cells from `values`. The labels'
    regressions read it as the VAE completed it, as they were fitted and
    checked; the forests read it as the two refinements before them leave it.
    """
    columns = vae._schema.columns
    if refinement is not None:
        values = refine(values, completed, missing, refinement, columns, _passes(vae))
    values = refine_labels(values, completed, missing, labels, columns)
    if trees is not None:
        values = refine_with_trees(values, np.where(missing, values, completed), missing, trees, columns)
    return values


def _passes(vae):
    """The blend's passes for the fitted VAE `vae` (see :func:`_inference_mechanism`)."""
    return passes_for(_inference_mechanism(vae))


def _inference_mechanism(vae):
    """The mechanism the fitted VAE `vae`'s inference uses, not its parameter: what the refinement follows.

    Hostile sweep 23: read from ``vae.missing_mechanism``, the parameter, a
    ``"self_masking"`` fit that models no column (it warns that the fit is
    the ignorable one, and its fills are the ignorable model's) was refined
    in one pass where the ignorable imputer takes three, and its fills
    differed by up to 1.7 on a table with holes only at transform.
    """
    return mechanism_name(vae._model.modelled_missingness)
