"""Progress output of ``fit`` for each ``verbose`` level (skvae/_progress.py)."""

import functools
import io
import re
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skvae import VAETransformer, _progress

ITERATION_LINE = re.compile(r"^Iteration (\d+), loss = (-?\d+\.\d{4})(?:, validation score = (-?\d+\.\d{4}))?$")


class FakeTerminal(io.StringIO):
    """A text stream that says it is a terminal, as a console's stderr does."""

    def isatty(self):
        return True


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(60, 5))


def _vae(**params):
    # n_iter_no_change > max_iter: every run lasts exactly max_iter epochs.
    defaults = dict(latent_dim=2, hidden_layer_sizes=(8,), batch_size=32, max_iter=5,
                    n_iter_no_change=1000, random_state=0)
    return VAETransformer(**{**defaults, **params})


def _fit(vae, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return vae.fit(X)


def _iteration_lines(text):
    return [ITERATION_LINE.match(line) for line in text.splitlines() if line.startswith("Iteration")]


def test_verbose_0_is_silent(X, capsys):
    _fit(_vae(verbose=0, max_iter=3), X)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


@pytest.mark.parametrize("max_iter", [15, 25, 43])
def test_verbose_1_off_terminal_prints_about_ten_lines(X, capsys, max_iter):
    vae = _fit(_vae(verbose=1, max_iter=max_iter), X)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert captured.out == ""
    assert vae.n_iter_ == max_iter
    assert 2 <= len(lines) <= 11, lines
    matches = _iteration_lines(captured.err)
    assert all(matches), lines
    # Each reported loss is the recorded loss of that epoch.
    for match in matches:
        epoch = int(match.group(1))
        assert match.group(2) == f"{vae.loss_curve_[epoch - 1]:.4f}"
    assert lines[-1] == f"Training stopped after epoch {max_iter}: max_iter."


def test_verbose_1_on_a_terminal_draws_a_bar(X, monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("COLUMNS", "200")  # the width tqdm falls back to off a real console
    # tqdm redraws at most every 0.1 s; redraw on every epoch so that a fast
    # machine cannot skip the frames this test reads.
    monkeypatch.setattr(_progress, "tqdm", functools.partial(_progress.tqdm, mininterval=0, miniters=1))
    vae = _fit(_vae(verbose=1, max_iter=6, early_stopping=True, validation_fraction=0.2), X)
    frames = terminal.getvalue().split("\r")
    assert not _iteration_lines(terminal.getvalue())
    assert any("| 6/6 epochs" in frame for frame in frames)
    for epoch in range(1, 7):
        (frame,) = [f for f in frames if f"| {epoch}/6 epochs" in f]
        assert f"loss={vae.loss_curve_[epoch - 1]:.4f}" in frame
        assert f"validation score={vae.validation_scores_[epoch - 1]:.4f}" in frame
    # The bar is cleared when training ends; the summary line stays.
    assert frames[-1] == "Training stopped after epoch 6: max_iter.\n"


def test_bar_fits_an_80_column_terminal():
    # tqdm truncates a line wider than the terminal: the scores must fit.
    line = _progress.tqdm.format_meter(
        4, 300, 1.0, ncols=80, bar_format=_progress._BAR_FORMAT,
        postfix="loss=-1234.5678, validation score=-1234.5678",
    )
    assert len(line) <= 80
    assert line.endswith("4/300 epochs [00:01<01:14, loss=-1234.5678, validation score=-1234.5678]")


def test_verbose_2_prints_every_epoch(X, capsys):
    vae = _fit(_vae(verbose=2, max_iter=5), X)
    lines = capsys.readouterr().err.splitlines()
    matches = _iteration_lines("\n".join(lines))
    assert [int(m.group(1)) for m in matches] == [1, 2, 3, 4, 5]
    assert [m.group(2) for m in matches] == [f"{loss:.4f}" for loss in vae.loss_curve_]
    assert all(m.group(3) is None for m in matches)
    assert lines[-1] == "Training stopped after epoch 5: max_iter."


def test_verbose_2_on_a_terminal_still_prints_lines(X, monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    _fit(_vae(verbose=2, max_iter=3), X)
    assert [int(m.group(1)) for m in _iteration_lines(terminal.getvalue())] == [1, 2, 3]


def test_validation_score_shown_with_early_stopping(X, capsys):
    vae = _fit(_vae(verbose=2, max_iter=4, early_stopping=True, validation_fraction=0.2), X)
    matches = _iteration_lines(capsys.readouterr().err)
    assert len(matches) == 4
    assert [m.group(3) for m in matches] == [f"{score:.4f}" for score in vae.validation_scores_]


def test_epochs_are_numbered_over_warm_start_fits(X, capsys):
    vae = _fit(_vae(verbose=2, max_iter=3, warm_start=True), X)
    capsys.readouterr()
    _fit(vae, X)
    matches = _iteration_lines(capsys.readouterr().err)
    assert [int(m.group(1)) for m in matches] == [4, 5, 6]


def test_convergence_is_reported(X, capsys, monkeypatch):
    # A learning rate of ~0 cannot improve the loss by tol: the rule stops training
    # (a plateau of 2 epochs here, not the 200 steps that guard real data against noise).
    monkeypatch.setattr("skvae._training.MIN_PATIENCE_STEPS", 1)
    vae = _vae(verbose=1, max_iter=50, learning_rate=1e-12, tol=1.0, n_iter_no_change=2).fit(X)
    last = capsys.readouterr().err.splitlines()[-1]
    assert vae.n_iter_ < 50
    assert last == f"Training stopped after epoch {vae.n_iter_}: converged."


def test_partial_fit_reports_its_one_epoch_per_call(X, capsys):
    vae = _vae(verbose=1)
    for _ in range(3):
        vae.partial_fit(X)
    lines = capsys.readouterr().err.splitlines()
    matches = _iteration_lines("\n".join(lines))
    # No "Training stopped ... max_iter" line: max_iter does not apply to partial_fit.
    assert len(lines) == 3 and all(matches), lines
    assert [int(m.group(1)) for m in matches] == [1, 2, 3]
    assert [m.group(2) for m in matches] == [f"{loss:.4f}" for loss in vae.loss_curve_]
