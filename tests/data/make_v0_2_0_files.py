"""How tests/data/v0_2_0_*.skvae were made: with skvae 0.2.0 (commit 11cec7a), once.

Kept so a reader can see what the files hold; rerunning it with a later skvae
would write that version's files, not 0.2.0's. The expected outputs are saved
beside the files, so a test can check that a later skvae loads them and gives
the same ``transform`` and ``score_samples``.
"""

import numpy as np
import pandas as pd
from sklearn.datasets import load_iris

import skvae
from skvae import VAETransformer


def main():
    X = load_iris().data
    array_model = VAETransformer(latent_dim=2, max_iter=5, random_state=0).fit(X)
    skvae.save(array_model, "v0_2_0_array.skvae")
    rng = np.random.RandomState(0)
    table = pd.DataFrame({
        "size": np.round(rng.normal(10, 2, 120), 2),
        "count": rng.poisson(3, 120).astype("int64"),
        "colour": rng.choice(["red", "green", "blue"], 120),
        "flag": rng.rand(120) < 0.3,
    })
    table.loc[::7, "size"] = np.nan
    table.to_csv("v0_2_0_table.csv", index=False)
    table_model = VAETransformer(latent_dim=2, max_iter=5, random_state=0).fit(table)
    skvae.save(table_model, "v0_2_0_table.skvae")
    np.savez(
        "v0_2_0_expected.npz",
        array_transform=array_model.transform(X),
        array_scores=array_model.score_samples(X),
        table_transform=table_model.transform(table),
        table_scores=table_model.score_samples(table),
    )


if __name__ == "__main__":
    main()
