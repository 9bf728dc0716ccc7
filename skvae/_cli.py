"""The command line: ``python -m skvae COMMAND`` (or the ``skvae`` script).

Commands:

- ``demo``: fit a VAE to scikit-learn's bundled digits and draw pictures.
- ``fit``: fit a VAE to a CSV file and save it with :func:`skvae.save`.
- ``transform``: encode a CSV file with a saved model (latent means).
- ``sample``: generate rows from a saved model.
- ``score``: per-row ELBO (or importance-weighted bound) of a CSV file.

Models are read and written with :func:`skvae.save` / :func:`skvae.load`,
a format that holds no code. CSV files are numbers separated by commas, with
an optional header line (recognised because it does not parse as numbers);
``-`` reads standard input or writes standard output.
"""

import argparse
import contextlib
import io
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import NotFittedError

from ._likelihoods import LIKELIHOODS
from ._networks import ACTIVATIONS

EXAMPLES = """\
examples:
  python -m skvae demo --out demo/
  python -m skvae fit data.csv --out model.skvae --latent-dim 5
  python -m skvae transform model.skvae data.csv --out latent.csv
  python -m skvae sample model.skvae -n 100 --out generated.csv
  python -m skvae score model.skvae new.csv --out scores.csv

Run 'python -m skvae COMMAND --help' for the options of a command.
"""


class CommandError(Exception):
    """A problem the user can fix (bad file, bad value): printed without a traceback."""


# ----------------------------------------------------------------- CSV I/O


def read_csv(path, stdin=None):
    """Read a numeric CSV file into a float64 array of shape (n_rows, n_columns).

    Parameters
    ----------
    path : str
        File path, or ``"-"`` for standard input.
    stdin : text file, optional
        Where ``"-"`` reads from (``sys.stdin`` by default).

    Returns
    -------
    X : ndarray of shape (n_rows, n_columns)
        The numbers; a first line that does not parse as numbers is taken as a
        header and skipped.
    header : list of str or None
        The column names of the header line, if there was one.
    """
    if path == "-":
        text = (sys.stdin if stdin is None else stdin).read()
        name = "standard input"
    else:
        name = path
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        except FileNotFoundError:
            raise CommandError(f"no such file: {path}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read {path}: {error}") from None
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise CommandError(f"{name} is empty: expected rows of comma-separated numbers.")
    fields = [field.strip().strip('"').strip("'") for field in first.split(",")]
    header = None if all(_is_number(field) for field in fields) else fields
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            X = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1 if header else 0,
                           dtype=np.float64, ndmin=2)
    except ValueError as error:
        raise CommandError(f"cannot read {name} as comma-separated numbers: {error}") from None
    if X.shape[0] == 0:
        raise CommandError(f"{name} has a header line but no rows of data.")
    return X, header


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_csv(path, array, header, stdout=None):
    """Write a 1-D or 2-D array as CSV with a header line; ``"-"`` is standard output.

    Values are written with ``repr``: the shortest text that reads back as the
    same float64.
    """
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    lines = [",".join(header)]
    lines += [",".join(map(repr, row)) for row in array.tolist()]
    text = "\n".join(lines) + "\n"
    if path == "-":
        (sys.stdout if stdout is None else stdout).write(text)
        return
    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error}") from None


# ---------------------------------------------------------------- commands


def _load_model(path):
    from ._persistence import load

    try:
        return load(path)
    except FileNotFoundError:
        raise CommandError(f"no such model file: {path}") from None
    except OSError as error:
        raise CommandError(f"cannot read model {path}: {error}") from None


@contextlib.contextmanager
def _tidy_warnings(prefix, stream):
    """Show warnings raised inside as one line each ("skvae fit: warning: ...")."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            seen = set()
            for warning in caught:
                message = str(warning.message)
                if message not in seen:
                    seen.add(message)
                    print(f"{prefix}: warning: {message}", file=stream)


def run_demo_command(args, out, err):
    from ._demo import MatplotlibMissingError, run_demo

    try:
        with _tidy_warnings("skvae demo", err):
            run_demo(
                args.out,
                latent_dim=args.latent_dim,
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
    from ._persistence import save

    X, _ = read_csv(args.data)
    model = VAETransformer(
        latent_dim=args.latent_dim,
        hidden_layer_sizes=args.hidden_layer_sizes,
        activation=args.activation,
        likelihood=args.likelihood,
        beta=args.beta,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        max_iter=args.max_iter,
        early_stopping=args.early_stopping,
        device=args.device,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    start = time.perf_counter()
    with _tidy_warnings("skvae fit", err):
        model.fit(X)
    seconds = time.perf_counter() - start
    save(model, args.out)
    print(
        f"Fitted {X.shape[0]} rows x {X.shape[1]} features in {seconds:.1f} s "
        f"({model.n_iter_} epochs on {model.device_}).",
        file=out,
    )
    if model.best_validation_score_ is not None:
        print(f"Best validation score: {model.best_validation_score_:.4f} nats per row (ELBO).", file=out)
    print(f"Training score: {model.score(X):.4f} nats per row (ELBO, greater is better).", file=out)
    print(f"Saved the model to {args.out}", file=out)
    return 0


def run_transform_command(args, out, err):
    model = _load_model(args.model)
    X, _ = read_csv(args.data)
    Z = model.transform(X)
    write_csv(args.out, Z, list(model.get_feature_names_out()), stdout=out)
    return 0


def run_sample_command(args, out, err):
    model = _load_model(args.model)
    X = model.sample(args.n_samples, random_state=args.random_state, return_mean=args.mean)
    names = getattr(model, "feature_names_in_", None)
    header = list(names) if names is not None else [f"x{i}" for i in range(model.n_features_in_)]
    write_csv(args.out, X, header, stdout=out)
    return 0


def run_score_command(args, out, err):
    model = _load_model(args.model)
    X, _ = read_csv(args.data)
    scores = model.score_samples(X, n_importance=args.n_importance)
    if args.out is not None:
        write_csv(args.out, scores, ["score"], stdout=out)
    # With the scores on standard output, the summary goes to stderr.
    summary_stream = err if args.out == "-" else out
    bound = "ELBO" if args.n_importance == 1 else f"importance-weighted bound, K={args.n_importance}"
    print(f"Mean score of {X.shape[0]} rows: {float(np.mean(scores)):.4f} nats per row ({bound}).",
          file=summary_stream)
    return 0


# ------------------------------------------------------------------ parser


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


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


def _add_training_options(parser, *, latent_dim, max_iter):
    parser.add_argument("--latent-dim", type=_positive_int, default=latent_dim, metavar="N",
                        help="dimension of the latent space (default: %(default)s)")
    parser.add_argument("--max-iter", type=_positive_int, default=max_iter, metavar="N",
                        help="maximum number of epochs (default: %(default)s)")
    parser.add_argument("--random-state", type=int, default=0, metavar="SEED",
                        help="seed for a repeatable fit (default: %(default)s)")
    parser.add_argument("--device", default="auto", metavar="DEVICE",
                        help="'auto' (CUDA if available), 'cpu', 'cuda' or 'cuda:N' (default: %(default)s)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def build_parser():
    """The argparse parser of ``python -m skvae``."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="python -m skvae",
        description="skvae: the variational autoencoder as a scikit-learn estimator.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"skvae {__version__}")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="fit a VAE to the bundled digits and draw pictures (seconds to a minute on a CPU)",
        description="Fit a VAE to scikit-learn's bundled 8x8 digits and write four pictures to "
                    "--out: generated digits, reconstructions, the latent space and the loss curve. "
                    "Prints the held-out score and a classification accuracy against PCA. "
                    "Needs matplotlib (pip install 'skvae[plot]').",
    )
    demo.add_argument("--out", default="skvae-demo", metavar="DIR",
                      help="folder for the pictures, created if needed (default: %(default)s)")
    _add_training_options(demo, latent_dim=2, max_iter=300)
    demo.set_defaults(run=run_demo_command)

    fit = commands.add_parser(
        "fit", help="fit a VAE to a CSV file and save the model",
        description="Fit a VAETransformer to the rows of a numeric CSV file and save it with "
                    "skvae.save (a file format that holds no code).",
    )
    fit.add_argument("data", metavar="DATA.csv", help="training data ('-' reads standard input)")
    fit.add_argument("--out", required=True, metavar="MODEL", help="where to save the model, e.g. model.skvae")
    _add_training_options(fit, latent_dim=10, max_iter=200)
    fit.add_argument("--hidden-layer-sizes", type=_layer_sizes, default=(128, 64), metavar="N,N",
                     help="widths of the encoder's hidden layers (default: 128,64)")
    fit.add_argument("--activation", default="relu", choices=sorted(ACTIVATIONS),
                     help="hidden-layer activation (default: %(default)s)")
    fit.add_argument("--likelihood", default="gaussian", choices=sorted(LIKELIHOODS),
                     help="observation model; bernoulli needs values in [0, 1] (default: %(default)s)")
    fit.add_argument("--beta", type=float, default=1.0, metavar="BETA", help="weight of the KL term (default: %(default)s)")
    fit.add_argument("--batch-size", type=_positive_int, default=128, metavar="N", help="rows per minibatch (default: %(default)s)")
    fit.add_argument("--learning-rate", type=float, default=1e-3, metavar="RATE", help="Adam step size (default: %(default)s)")
    fit.add_argument("--early-stopping", dest="early_stopping", action="store_const", const=True, default="auto",
                     help="hold out 10%% of the rows and keep the weights of the best validation epoch "
                          "(default: only on data small enough to overfit, early_stopping='auto')")
    fit.add_argument("--no-early-stopping", dest="early_stopping", action="store_const", const=False,
                     help="never hold out rows; stop on the training loss")
    fit.set_defaults(run=run_fit_command)

    transform = commands.add_parser(
        "transform", help="encode a CSV file with a saved model",
        description="Write the latent means mu(x) of each row of DATA.csv.",
    )
    transform.add_argument("model", metavar="MODEL", help="a model written by 'fit' or skvae.save")
    transform.add_argument("data", metavar="DATA.csv", help="rows to encode ('-' reads standard input)")
    transform.add_argument("--out", default="-", metavar="CSV", help="output file (default: standard output)")
    transform.set_defaults(run=run_transform_command)

    sample = commands.add_parser(
        "sample", help="generate rows from a saved model",
        description="Draw z from the prior N(0, I), then x from the decoder p(x | z).",
    )
    sample.add_argument("model", metavar="MODEL", help="a model written by 'fit' or skvae.save")
    sample.add_argument("-n", "--n-samples", type=_positive_int, default=10, metavar="N",
                        help="number of rows (default: %(default)s)")
    sample.add_argument("--mean", action="store_true", help="write the decoder means E[x | z] instead of draws")
    sample.add_argument("--random-state", type=int, default=None, metavar="SEED", help="seed for repeatable draws")
    sample.add_argument("--out", default="-", metavar="CSV", help="output file (default: standard output)")
    sample.set_defaults(run=run_sample_command)

    score = commands.add_parser(
        "score", help="per-row log-likelihood bound of a CSV file (e.g. for anomaly detection)",
        description="Print the mean ELBO of the rows of DATA.csv in nats (greater is better), and "
                    "with --out write each row's score: low scores are unusual rows.",
    )
    score.add_argument("model", metavar="MODEL", help="a model written by 'fit' or skvae.save")
    score.add_argument("data", metavar="DATA.csv", help="rows to score ('-' reads standard input)")
    score.add_argument("--n-importance", type=_positive_int, default=1, metavar="K",
                       help="importance samples; K > 1 gives the tighter bound of Burda et al. (default: 1)")
    score.add_argument("--out", default=None, metavar="CSV", help="write the per-row scores ('-' for standard output)")
    score.set_defaults(run=run_score_command)
    return parser


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
        bad arguments, 130 when interrupted.
    """
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
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
        return args.run(args, out, err)
    except (CommandError, ValueError, NotFittedError, OSError) as error:
        # Problems with the input (scikit-learn's validation errors are
        # ValueErrors): one line, no traceback. Anything else is a bug and
        # keeps its traceback.
        print(f"{prefix}: error: {error}", file=err)
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted", file=err)
        return 130
    return 1
