"""Text columns with about one row per value (identifiers, free text, dates as text) are warned about.

``likelihood="auto"`` types a column of text as categorical. One whose
distinct values are more than half its observed rows (and at least 20) was
modelled without a word as a category of one or two rows a level, which the
model cannot learn and whose samples copy the training rows' values
(``skvae._column_types._warn_if_identifier``).
"""

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAETransformer

TINY = dict(latent_dim=2, hidden_layer_sizes=(4,), max_iter=2, batch_size=16, random_state=0)


def _table(n_rows=60, ids=None):
    rng = np.random.RandomState(0)
    return pd.DataFrame({"id": ids if ids is not None else [f"C{i:05d}" for i in range(n_rows)],
                         "x": rng.randn(n_rows), "colour": rng.choice(["red", "green", "blue"], n_rows)})


@pytest.mark.parametrize("ids", [
    [f"C{i:05d}" for i in range(60)],
    [str(d.date()) for d in pd.date_range("2020-01-01", periods=60, freq="D")],
    [f"note {i // 2}" for i in range(60)],  # 30 values in 60 rows: exactly half
], ids=["identifiers", "dates-as-text", "half"])
def test_a_text_column_of_about_one_row_per_value_is_warned_about_naming_it(ids):
    df = _table(ids=ids)
    n_levels = len(set(ids))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = VAETransformer(**TINY).fit(df)
    messages = [str(w.message) for w in caught if "looks like an identifier" in str(w.message)]
    if n_levels > 30:
        assert len(messages) == 1
        assert messages[0].startswith(f"Column 'id' holds {n_levels} distinct values in 60 observed rows")
        assert "--likelihood id=categorical" in messages[0]
    else:
        assert messages == []  # half the rows: a category of two rows a level, not warned
    # Still fitted as a category, as the typing rule says.
    assert model.column_kinds_["id"] == "categorical"


def test_missing_cells_do_not_count_as_rows():
    ids = [f"C{i}" if i % 3 else None for i in range(90)]  # 60 distinct values in 60 observed rows
    with pytest.warns(UserWarning, match=r"Column 'id' holds 60 distinct values in 60 observed rows"):
        VAETransformer(**TINY).fit(_table(90, ids))


@pytest.mark.parametrize("declare", ["likelihood", "category dtype"])
def test_a_column_typed_categorical_by_its_user_is_not_warned_about(declare):
    df = _table()
    params = dict(TINY)
    if declare == "likelihood":
        params["likelihood"] = {"id": "categorical"}
    else:
        df = df.astype({"id": "category"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        VAETransformer(**params).fit(df)


def test_few_rows_or_repeated_labels_are_not_warned_about():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        VAETransformer(**TINY).fit(_table(19))  # 19 distinct values: below the 20 of the rule
        VAETransformer(**TINY).fit(_table(60, [f"L{i % 25}" for i in range(60)]))  # 25 labels in 60 rows


def test_the_imputer_warns_too():
    df = _table()
    df.loc[::7, "x"] = np.nan
    with pytest.warns(UserWarning, match="looks like an identifier"):
        VAEImputer(**TINY).fit(df)


def test_the_command_line_shows_the_warning_with_its_option(tmp_path):
    data = tmp_path / "ids.csv"
    _table().to_csv(data, index=False)
    command = [sys.executable, "-m", "skvae", "fit", str(data), "--out", str(tmp_path / "m.skvae"), "--max-iter", "2"]
    shown = subprocess.run(command, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert "skvae fit: warning: Column 'id' holds 60 distinct values" in shown.stderr
    quiet = subprocess.run(command + ["--likelihood", "id=categorical"], capture_output=True, text=True)
    assert quiet.returncode == 0 and "looks like an identifier" not in quiet.stderr


def test_a_column_refused_for_its_levels_is_not_also_warned_about():
    df = _table(1001)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match=r"Column 'id' has 1001 distinct categories"):
            VAETransformer(**TINY).fit(df)
    assert not [w for w in caught if "looks like an identifier" in str(w.message)]
