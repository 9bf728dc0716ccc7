"""Self-masking MNAR on breast cancer: VAEImputer ignorable vs ``missing_mechanism="self_masking"``.

The not-MIWAE protocol (Ipsen, Mattei & Frellsen, ICLR 2021): scikit-learn's breast-cancer data
(569 x 30), standardized; in a random half of the columns (chosen per seed) each value above the
column's mean is hidden with probability 0.7. Score: RMSE over the hidden cells, in standardized
units. Contenders: ``VAEImputer`` with its defaults and ``missing_mechanism`` "ignorable" or
"self_masking", ``IterativeImputer`` (BayesianRidge, ``max_iter=10``) and the column mean. Time:
fit+transform seconds, reported as a ratio to IterativeImputer's in the same run.

    python benchmarks/self_masking.py --seeds 0 1
"""

import argparse
import time
import warnings

import numpy as np


def breast_cancer_standardized():
    from sklearn.datasets import load_breast_cancer

    X, _ = load_breast_cancer(return_X_y=True)
    return (X - X.mean(0)) / X.std(0)


def self_masking_mask(X, seed, probability=0.7):
    """In a random half of the columns, each value above the column mean hidden with `probability`."""
    rng = np.random.default_rng(seed)
    columns = rng.choice(X.shape[1], X.shape[1] // 2, replace=False)
    mask = np.zeros(X.shape, dtype=bool)
    mask[:, columns] = (X[:, columns] > X[:, columns].mean(0)) & (rng.random((X.shape[0], len(columns))) < probability)
    return mask


def contenders(seed, vae_params):
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, SimpleImputer

    from skvae import VAEImputer

    return {
        "mean": lambda: SimpleImputer(),
        "IterativeImputer (BayesianRidge)": lambda: IterativeImputer(max_iter=10, random_state=seed),
        "VAEImputer ignorable": lambda: VAEImputer(random_state=seed, **vae_params),
        "VAEImputer self_masking": lambda: VAEImputer(missing_mechanism="self_masking", random_state=seed,
                                                      **vae_params),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--max-iter", type=int, default=None, help="VAEImputer's max_iter (default: its own)")
    args = parser.parse_args(argv)
    vae_params = {} if args.max_iter is None else {"max_iter": args.max_iter, "n_iter_no_change": args.max_iter}
    X = breast_cancer_standardized()
    results = {}
    for seed in args.seeds:
        mask = self_masking_mask(X, seed)
        X_missing = np.where(mask, np.nan, X)
        times = {}
        for name, make in contenders(seed, vae_params).items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                filled = make().fit_transform(X_missing)
            times[name] = time.perf_counter() - start
            rmse = float(np.sqrt(np.mean((filled[mask] - X[mask]) ** 2)))
            results.setdefault(name, []).append(rmse)
            print(f"seed {seed}  {name:34s} RMSE {rmse:.3f}  time / IterativeImputer's "
                  f"{times[name] / times.get('IterativeImputer (BayesianRidge)', times[name]):.1f}", flush=True)
        ratio = times["VAEImputer self_masking"] / times["VAEImputer ignorable"]
        print(f"seed {seed}  time self_masking / ignorable: {ratio:.2f}", flush=True)
    print("\n| imputer | RMSE per seed | mean |\n| --- | --- | --- |")
    for name, values in results.items():
        print(f"| {name} | {' / '.join(f'{v:.3f}' for v in values)} | {np.mean(values):.3f} |")


if __name__ == "__main__":
    main()
