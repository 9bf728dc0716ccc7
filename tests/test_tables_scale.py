"""Tables and holes beyond one call: Dask DataFrame partitions, the command line, the detector,
extreme values, and importance sampling with bounded memory."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from skvae import VAEOutlierDetector, VAETransformer

pytestmark = [pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"), pytest.mark.slow]

SMALL = dict(latent_dim=2, hidden_layer_sizes=(16,), max_iter=10, random_state=0)


def _penguins():
    palmerpenguins = pytest.importorskip("palmerpenguins")
    return palmerpenguins.load_penguins()


def test_partial_fit_over_dask_dataframe_partitions_equals_pandas_blocks():
    dd = pytest.importorskip("dask.dataframe")
    # Shuffled: the first block fixes the category sets, so it must hold every species.
    penguins = _penguins().sample(frac=1.0, random_state=0).reset_index(drop=True)
    ddf = dd.from_pandas(penguins, npartitions=3)
    streamed, local = VAETransformer(**SMALL), VAETransformer(**SMALL)
    for partition, block in zip(ddf.partitions, np.array_split(np.arange(len(penguins)), 3)):
        streamed.partial_fit(partition.compute())
        local.partial_fit(penguins.iloc[block])
    assert streamed.n_iter_ == 3 and streamed.column_kinds_ == local.column_kinds_
    np.testing.assert_array_equal(streamed.transform(penguins), local.transform(penguins))


def test_outlier_detector_on_a_mixed_table_with_holes():
    penguins = _penguins()
    adelie = penguins[penguins.species == "Adelie"].drop(columns="species")
    others = penguins[penguins.species != "Adelie"].drop(columns="species")
    detector = VAEOutlierDetector(**{**SMALL, "max_iter": 100}).fit(adelie)
    assert adelie.isna().any().any()
    scores = np.r_[detector.score_samples(adelie), detector.score_samples(others)]
    assert np.all(np.isfinite(scores))
    columns = detector.score_columns(others)
    assert list(columns.columns) == list(others.columns)
    from sklearn.metrics import roc_auc_score

    labels = np.r_[np.ones(len(adelie)), np.zeros(len(others))]
    assert roc_auc_score(labels, scores) > 0.8


def test_cli_fits_a_csv_with_text_and_empty_cells(tmp_path):
    penguins = _penguins()
    path = tmp_path / "penguins.csv"
    penguins.to_csv(path, index=False)
    model = tmp_path / "model.skvae"
    run = [sys.executable, "-m", "skvae"]
    fit = subprocess.run([*run, "fit", str(path), "--out", str(model), "--max-iter", "5", "-q"],
                         capture_output=True, text=True, timeout=300)
    assert fit.returncode == 0, fit.stderr
    sample = subprocess.run([*run, "sample", str(model), "-n", "20", "--out", str(tmp_path / "s.csv")],
                            capture_output=True, text=True, timeout=300)
    assert sample.returncode == 0, sample.stderr
    generated = pd.read_csv(tmp_path / "s.csv")
    assert list(generated.columns) == list(penguins.columns)
    assert set(generated["species"]) <= set(penguins["species"])


@pytest.mark.parametrize("dtype, magnitude", [(np.float64, 1.7e308), (np.float32, 3.3e38)])
def test_values_near_the_largest_float_fit_and_transform(dtype, magnitude):
    rng = np.random.default_rng(0)
    X = (magnitude * rng.uniform(-1, 1, size=(60, 3))).astype(dtype)
    vae = VAETransformer(**SMALL).fit(X)
    assert np.all(np.isfinite(vae.transform(X)))
    assert np.all(np.isfinite(vae.score_samples(X)))


def test_importance_samples_are_walked_in_bounded_chunks():
    # K draws for one row would need K * width elements at once; chunked with a
    # running log-sum-exp, the bound matches the one-shot value and memory stays flat.
    X = np.random.default_rng(0).normal(size=(50, 4))
    vae = VAETransformer(**SMALL).fit(X)
    from skvae import _inference

    one_shot = vae.score_samples(X[:3], n_importance=64)
    saved = _inference.MAX_BATCH_ELEMENTS
    try:
        _inference.MAX_BATCH_ELEMENTS = 256  # a handful of draws per chunk
        chunked = vae.score_samples(X[:3], n_importance=64)
    finally:
        _inference.MAX_BATCH_ELEMENTS = saved
    np.testing.assert_allclose(chunked, one_shot, rtol=1e-12)
