"""One input adapter: masked arrays, pandas extension dtypes and odd object cells, in every face."""

import datetime
import decimal

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAEOutlierDetector, VAETransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=3, random_state=0)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(120, 1))
    return np.hstack([z, 2 * z, -z]) + 0.1 * rng.normal(size=(120, 3))


@pytest.mark.parametrize("seed", range(3))
def test_a_masked_cell_is_a_missing_cell_for_the_transformer_and_detector(seed):
    X = _data(seed)
    mask = np.random.default_rng(seed).random(X.shape) < 0.2
    hidden = np.ma.masked_array(np.where(mask, 1e6, X), mask=mask)  # absurd values under the mask
    as_nan = np.where(mask, np.nan, X)
    vae = VAETransformer(**SMALL).fit(hidden)
    reference = VAETransformer(**SMALL).fit(as_nan)
    np.testing.assert_array_equal(vae.transform(hidden), reference.transform(as_nan))
    np.testing.assert_array_equal(vae.score_samples(hidden), reference.score_samples(as_nan))
    detector = VAEOutlierDetector(**SMALL).fit(hidden)
    np.testing.assert_array_equal(detector.score_samples(hidden),
                                  VAEOutlierDetector(**SMALL).fit(as_nan).score_samples(as_nan))


@pytest.mark.parametrize("missing_values", [np.nan, -1.0])
def test_the_imputer_fills_masked_cells(missing_values):
    X = np.abs(_data())
    mask = np.zeros(X.shape, dtype=bool)
    mask[::5, 1] = True
    hidden = np.ma.masked_array(np.where(mask, 1e6, X), mask=mask)
    filled = VAEImputer(**SMALL, missing_values=missing_values, n_importance=5).fit_transform(hidden)
    assert not np.isin(filled[mask], [1e6]).any() and np.isfinite(filled).all()
    np.testing.assert_array_equal(filled[~mask], X[~mask])


@pytest.mark.parametrize("value", [
    datetime.date(2020, 1, 2), pd.Timestamp("2021-03-04"), decimal.Decimal("1.5"), b"bytes", (1, 2),
    datetime.datetime(2020, 1, 1, 12),
])
def test_object_cells_of_other_types_are_refused_by_name(value):
    frame = pd.DataFrame({"x": np.arange(30.0), "odd": pd.Series([value] * 30, dtype=object)})
    with pytest.raises(ValueError, match=rf"Column 'odd' holds values of type {type(value).__name__}"):
        VAETransformer(**SMALL).fit(frame)


@pytest.mark.parametrize("dtype", ["int64[pyarrow]", "Int64", pd.SparseDtype("int64", 0), "int32"])
def test_integer_extension_columns_come_back_as_integers(dtype):
    rng = np.random.default_rng(0)
    values = rng.integers(100, 5000, size=200)
    if str(dtype).endswith("[pyarrow]"):
        pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"n": pd.Series(values).astype(dtype), "y": rng.normal(size=200)})
    vae = VAETransformer(**SMALL).fit(frame)
    out = vae.sample(300, random_state=0)
    # np.asarray, not .astype("float64"): pandas < 2.1 keeps a SparseDtype column sparse under astype, and a
    # SparseArray has no round (pandas 1.5, the oldest pyproject.toml allows).
    column = np.asarray(out["n"], dtype=np.float64)
    assert np.array_equal(column, np.round(column))
    assert column.min() >= values.min() and column.max() <= values.max()
    reconstructed = np.asarray(vae.inverse_transform(vae.transform(frame))["n"], dtype=np.float64)
    assert np.array_equal(reconstructed, np.round(reconstructed))


@pytest.fixture(scope="module")
def table_model():
    frame = pd.DataFrame({"x": np.arange(60.0) * 1.37, "t": ["y", "z", "w"] * 20})
    return frame, VAETransformer(**SMALL).fit(frame)


@pytest.mark.parametrize("row", [0, 7, 59])
@pytest.mark.parametrize("bad", ["oops", "1,5", "n/a-ish"])
def test_the_bad_cell_of_a_numeric_column_is_quoted_with_its_row(table_model, row, bad):
    frame, vae = table_model
    column = frame["x"].astype(object)
    column.iloc[row] = bad
    with pytest.raises(ValueError, match=rf"Column 'x' was fitted as numbers, but holds '{bad}' in row {row}"):
        vae.transform(frame.assign(x=column))


@pytest.mark.parametrize("face", [VAETransformer, VAEImputer])
def test_an_array_with_text_says_to_pass_the_dataframe(table_model, face):
    frame, vae = table_model
    estimator = vae if face is VAETransformer else VAEImputer(**SMALL)
    call = estimator.transform if face is VAETransformer else estimator.fit_transform
    with pytest.raises(ValueError, match=r"X holds text \('y' in column 1, row 0\).*pandas DataFrame"):
        call(frame.to_numpy())


@pytest.mark.parametrize("order", [[1, 0], [1, 2], [0, 1, 2]])
def test_integer_column_labels_are_matched_by_label_not_position(order):
    frame = pd.DataFrame({0: np.arange(60.0), 1: np.arange(60.0) ** 0.5})
    vae = VAETransformer(**SMALL).fit(frame)
    other = frame.rename(columns={1: 2}) if 2 in order else frame
    with pytest.raises(ValueError, match="matched by label, never by position"):
        vae.transform(other[[c for c in order if c in other.columns]] if order != [0, 1, 2] else other.assign(**{"3": 1.0}))
    np.testing.assert_array_equal(vae.transform(frame), vae.transform(frame.copy()))
