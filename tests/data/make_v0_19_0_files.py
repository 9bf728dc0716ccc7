"""How tests/data/v0_19_0_imputer.* were made: with skvae 0.19.0 (commit 5bafa5b), once.

An imputer whose file holds every refinement state of 0.19.0: the linear
blend, a label's logistic rule (a label that is the sign of a sum) and a
numeric forest (a column that steps with the sign of another). Files of
0.20.0 add the labels' forests; this file has none, and a later skvae must
load it and fill as 0.19.0 did. Run in this folder with 0.19.0 importable;
rerunning it with a later skvae would write that version's file, not 0.19.0's.
"""

import numpy as np
import pandas as pd

import skvae
from skvae import VAEImputer


def main():
    rng = np.random.default_rng(0)
    n = 400
    X = rng.normal(size=(n, 6))
    table = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    table["step"] = np.where(X[:, 0] > 0, 3.0, -3.0) + rng.normal(size=n) * 0.1
    table["label"] = np.where(X.sum(axis=1) > 0, "up", "down")
    table = table.mask(rng.random(table.shape) < 0.2)
    table.to_csv("v0_19_0_imputer.csv", index=False)
    table = pd.read_csv("v0_19_0_imputer.csv")
    imputer = VAEImputer(random_state=0, max_iter=30, hidden_layer_sizes=(16,), latent_dim=2).fit(table)
    assert imputer._label_refinement is not None and imputer._tree_refinement is not None
    skvae.save(imputer, "v0_19_0_imputer.skvae")
    filled = imputer.transform(table)
    np.savez("v0_19_0_imputer_expected.npz", numbers=filled.drop(columns="label").to_numpy(float),
             label=filled["label"].to_numpy(str))


if __name__ == "__main__":
    main()
