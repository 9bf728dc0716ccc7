"""Per-epoch progress output for ``verbose``.

- ``verbose=0``: silent.
- ``verbose=1``: on a terminal, a tqdm progress bar whose postfix shows the
  training loss (and the validation score with early stopping); when stderr
  is not a terminal (a log file, a CI job), at most about ten plain lines per
  fit, so logs are not flooded.
- ``verbose>=2``: one line per epoch, as scikit-learn's MLP prints.

The output is a report on the fit, not its result. Hostile sweep 21: with
``sys.stderr`` None (``pythonw``, some services) ``print(file=None)`` wrote
the lines to stdout, where a program may be writing its data; with stderr
closed, or a pipe whose reader had gone (``python fit.py 2>&1 | head -1``),
the write's ValueError or BrokenPipeError failed the whole fit, after its
training, and the model was thrown away. Decided: no stream, no output; a
stream that refuses a write gets no more of this fit's progress, and the
fit goes on (the caller sees the model, not a report it could not be shown).

The bar writes through :class:`_RefusalCatchingStream`, so a refused write
never raises inside tqdm: tqdm's ``refresh`` holds its process-wide lock
around the write without releasing it on an exception (tqdm 4.60-4.70; tqdm
itself absorbs only some errors, EIO and later EPIPE), and a lock left held
hung every later bar and the interpreter's exit, whose tqdm handler joins a
monitor thread that waits for that lock (found by the whole suite on the
oldest declared versions: tqdm 4.60 let a broken pipe's error through).
"""

import sys

from tqdm.auto import tqdm

# tqdm's default format without the rate (epoch/s): the loss and validation
# score then fit an 80-column terminal next to a bar of useful length.
_BAR_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} epochs [{elapsed}<{remaining}{postfix}]"


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


#: What a stream raises when it refuses a write: OSError (a broken pipe, a full disk) or
#: ValueError ("I/O operation on closed file").
_REFUSED_WRITE = (OSError, ValueError)


class _RefusalCatchingStream:
    """`stream` for tqdm: a write or flush it refuses is dropped, and ``refused`` set, instead of raised."""

    def __init__(self, stream):
        self._stream = stream
        self.refused = False

    def write(self, text):
        if not self.refused:
            try:
                self._stream.write(text)
            except _REFUSED_WRITE:
                self.refused = True

    def flush(self):
        if not self.refused:
            try:
                self._stream.flush()
            except _REFUSED_WRITE:
                self.refused = True

    def __getattr__(self, name):  # encoding, isatty, ...: as the stream says
        return getattr(self._stream, name)


class EpochReporter:
    """Shows the progress of one call to ``fit``/``partial_fit``."""

    def __init__(self, verbose, n_epochs, stream=None):
        self.verbose = verbose
        self.n_epochs = n_epochs
        self.stream = sys.stderr if stream is None else stream
        if self.stream is None:  # no stderr at all: print(file=None) would write to stdout
            self.verbose = 0
        self._bar = None
        if self.verbose == 1 and _is_terminal(self.stream):
            self._bar_stream = _RefusalCatchingStream(self.stream)
            self._bar = self._guarded(lambda: tqdm(total=n_epochs, unit="epoch", file=self._bar_stream,
                                                   leave=False, bar_format=_BAR_FORMAT))
            self._stop_bar_if_refused()
        # Ceiling division: floor would print every epoch for 10 < n_epochs < 20.
        self._line_every = max(1, -(-n_epochs // 10))

    def update(self, epoch, loss, validation_score=None):
        """Report the end of `epoch` (1-based, counted over the estimator's life)."""
        if not self.verbose:
            return
        fields = {"loss": f"{loss:.4f}"}
        if validation_score is not None:
            fields["validation score"] = f"{validation_score:.4f}"
        if self._bar is not None:
            bar = self._bar
            self._guarded(lambda: (bar.set_postfix(fields, refresh=False), bar.update(1)))
            self._stop_bar_if_refused()
            return
        if self.verbose >= 2 or epoch % self._line_every == 0:
            text = ", ".join(f"{key} = {value}" for key, value in fields.items())
            self._guarded(lambda: print(f"Iteration {epoch}, {text}", file=self.stream))

    def close(self, message=None):
        bar, self._bar = self._bar, None
        if bar is not None:
            self._guarded(bar.close)
            if self._bar_stream.refused:  # the terminal refused the bar: no message after it either
                self.verbose = 0
        if self.verbose and message:
            self._guarded(lambda: print(message, file=self.stream))

    def _stop_bar_if_refused(self):
        """No more output once the bar's stream refused a write; tqdm's own record of the bar is closed."""
        if self._bar is not None and self._bar_stream.refused:
            bar, self.verbose, self._bar = self._bar, 0, None
            self._guarded(bar.close)  # off tqdm's list of bars; its last write is dropped unwritten

    def _guarded(self, write):
        """``write()``; if the stream refuses it (closed, a broken pipe), no more output from this reporter."""
        try:
            return write()
        except _REFUSED_WRITE:
            self.verbose, self._bar = 0, None
            return None
