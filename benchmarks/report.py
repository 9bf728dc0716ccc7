"""Results to Markdown tables and PNG plots.

Every function takes the dicts that :mod:`benchmarks.speed` and
:mod:`benchmarks.quality` return. Targets from the project's brief are
checked here, so RESULTS.md states plainly which are met.
"""

import statistics
from pathlib import Path

#: (description, value, threshold, higher_is_better) per target, filled by :func:`targets`.
SPEED_TARGETS = {
    "skvae / hand-written": 0.95,
    "skvae / skorch": 1.4,
}


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _mib(n_bytes):
    return f"{n_bytes / 2**20:,.1f} MiB"


#: Thread policy: skvae's training throughput / the hand-written loop at its best thread count.
THREAD_TARGETS = {"idle": 0.95, "busy": 0.9}


def targets(speed=None, quality=None, threads=None):
    """A list of (target, measured, met) for every target the results can decide."""
    checks = []
    if threads:
        for network, result in threads["training"].items():
            for condition, threshold in THREAD_TARGETS.items():
                ratio = result[condition]["ratios"]["skvae / best hand-written"]
                checks.append((f"fit throughput {condition} ({network}): skvae / hand-written at its best "
                               f"thread count >= {threshold}", f"{ratio:.2f}", ratio >= threshold))
    if speed:
        ratios = speed["training"]["ratios"]
        for name, threshold in SPEED_TARGETS.items():
            if name in ratios:
                checks.append((f"fit throughput {name} >= {threshold}", f"{ratios[name]:.2f}",
                               ratios[name] >= threshold))
        single = speed["single_row"]["ratio"]
        checks.append(("one-row transform time skvae / PCA(20) <= 1", f"{single:.2f}", single <= 1.0))
        bulk = speed["bulk"]["ratio"]
        checks.append(("bulk transform throughput skvae / raw torch >= 0.9", f"{bulk:.2f}", bulk >= 0.9))
        if "float64" in speed:
            for method, result in speed["float64"]["methods"].items():
                checks.append((f"{method} time on float64 / on float32 input <= 1.2", f"{result['ratio']:.2f}",
                               result["ratio"] <= 1.2))
        rows = speed["memory"]["rows"]
        small, large = rows[0], rows[-1]
        growth = large["working_set_bytes"] - small["working_set_bytes"]
        input_growth = large["input_bytes"] - small["input_bytes"]
        checks.append((
            f"transform working set flat from {small['n_rows']:,} to {large['n_rows']:,} rows "
            "(growth < 5% of the input's growth)",
            f"{_mib(small['working_set_bytes'])} -> {_mib(large['working_set_bytes'])}",
            growth < 0.05 * input_growth,
        ))
    if quality:
        kt = quality["known_truth"]
        scores, truth = kt["scores"], kt["truth"]
        gmm_label = next((label for label in scores if label.startswith("GaussianMixture(")), None)
        gmm = scores.get(gmm_label)
        for label, value in scores.items():
            if not label.startswith("skvae"):
                continue
            if label.endswith(": ELBO"):
                checks.append((f"{label} within 1 nat of the truth", f"{truth - value:.2f} nat", truth - value <= 1.0))
                if gmm is not None:
                    checks.append((f"{label} above {gmm_label}", f"{value - gmm:+.2f} nat", value > gmm))
            elif "IW bound" in label:
                checks.append((f"{label} within 0.5 nat of the truth", f"{truth - value:.2f} nat", truth - value <= 0.5))
        fa = max(v for k, v in scores.items() if k.startswith("FactorAnalysis"))
        for label, value in scores.items():
            if label.startswith("skvae, all defaults") and label.endswith(": ELBO"):
                checks.append(("skvae defaults above the best FactorAnalysis", f"{value - fa:+.2f} nat", value > fa))
        for dataset, result in quality["real_data"].items():
            accuracy = result["accuracy"]
            for label, (vae_mean, _) in accuracy.items():
                if "VAETransformer(" not in label:
                    continue
                k = label.split("VAETransformer(")[1].split(",")[0].rstrip(")")
                pca = max(m for name, (m, _) in accuracy.items() if name.endswith(f"PCA({k})"))
                margin = vae_mean - pca
                wanted = 0.05 if k == "2" else -0.01
                what = "beats PCA by >= 5 points" if k == "2" else "no worse than PCA (1 point)"
                checks.append((f"{dataset}: {label} features {what}", f"{100 * margin:+.1f} points",
                               margin >= wanted))
            score = result["score"]
            for label, value in score.items():
                if label.startswith("VAETransformer(") and label.endswith(": ELBO"):
                    k = label[len("VAETransformer("):label.index(")")]
                    fa_k = score[f"FactorAnalysis({k})"]
                    checks.append((f"{dataset}: held-out ELBO, latent {k}, above FactorAnalysis({k})",
                                   f"{value - fa_k:+.1f} nat", value > fa_k))
    return checks


def speed_markdown(speed):
    training = speed["training"]
    config = training["config"]
    medians = training["median_rows_per_second"]
    reference = medians["hand-written"]
    rows = [(name, f"{value:,.0f}", f"{value / reference:.2f}") for name, value in medians.items()]
    parts = [
        "### Training throughput",
        f"{config['n_rows']:,} x {config['n_features']} rows, hidden {tuple(config['hidden_layer_sizes'])}, "
        f"latent {config['latent_dim']}, batch {config['batch_size']}, Adam lr {config['learning_rate']}, "
        f"{config['epochs']} epochs per fit, {config['n_rounds']} rounds in rotating order, device "
        f"`{config['device']}`. Whole fits are timed (networks, optimizer, standardization, epochs).",
        "",
        _table(["contender", "rows / s (median)", "vs hand-written (ratio of medians)"], rows),
        "",
        _table(["ratio (median of per-round ratios)", "value"],
               [(name, f"{value:.2f}") for name, value in training["ratios"].items()]),
    ]
    single, bulk = speed["single_row"], speed["bulk"]
    parts += [
        "",
        "### Inference",
        _table(["measurement", "skvae", "reference", "ratio (median of per-round ratios)"], [
            ("`transform` of one float64 row (time per call)",
             f"{1e6 * single['median_seconds_per_call']['skvae']:.0f} us",
             f"PCA({single['config']['latent_dim']}): {1e6 * single['median_seconds_per_call']['PCA']:.0f} us",
             f"{single['ratio']:.2f} (time; < 1 is faster)"),
            (f"bulk `transform` of {bulk['config']['n_rows']:,} float32 rows (rows / s)",
             f"{bulk['median_rows_per_second']['skvae']:,.0f}",
             f"raw torch, {bulk['config']['batch_rows']}-row batches: "
             f"{bulk['median_rows_per_second']['raw torch']:,.0f}",
             f"{bulk['ratio']:.2f} (throughput)"),
            *((f"`{method}` of {speed['float64']['config']['n_rows']:,} float64 rows (seconds)",
               f"{statistics.median(result['seconds']['float64']):.2f}",
               f"the same rows as float32: {statistics.median(result['seconds']['float32']):.2f}",
               f"{result['ratio']:.2f} (time)")
              for method, result in speed.get("float64", {}).get("methods", {}).items()),
        ]),
        "",
        "### Peak memory of one bulk `transform` (float32 input, fresh process per size)",
        _table(["rows", "input", "output", "peak added during transform", "working set (peak - output)"], [
            (f"{r['n_rows']:,}", _mib(r["input_bytes"]), _mib(r["output_bytes"]), _mib(r["peak_added_bytes"]),
             _mib(r["working_set_bytes"])) for r in speed["memory"]["rows"]
        ]),
    ]
    return "\n".join(parts)


def threads_markdown(threads):
    """Tables of the thread-policy benchmark (:mod:`benchmarks.threads`)."""
    parts = [
        "### Training throughput idle and beside a busy core",
        f"{threads['cores']} usable cores. *busy*: one extra process spinning on one core throughout. "
        "The reference of each round is the hand-written loop at its faster thread count in that round; "
        "ratios are medians of per-round ratios.",
    ]
    for network, result in threads["training"].items():
        config = result["config"]
        rows = []
        for condition in ("idle", "busy"):
            medians = result[condition]["median_rows_per_second"]
            rows += [(condition, name, f"{value:,.0f}") for name, value in medians.items()]
            rows += [(condition, f"**{name}**", f"**{value:.2f}**")
                     for name, value in result[condition]["ratios"].items()]
        parts += ["", f"{network}: {config['n_rows']:,} rows, batch {config['batch_size']}, "
                  f"{config['epochs']} epochs per fit.", "",
                  _table(["condition", "contender", "rows / s (median), or ratio"], rows)]
    tasks = threads["tasks"]
    rows = []
    for condition in ("idle", "busy"):
        rows += [(condition, name, f"{value:.1f} s") for name, value in tasks[condition]["median_seconds"].items()]
        rows += [(condition, name, f"{value:.2f}x") for name, value in tasks[condition]["ratios"].items()]
    parts += ["", f"### Whole tasks (max_iter={tasks['config']['max_iter']}): skvae's policy against "
              "`n_jobs=-1` (every core, torch's default)", "",
              _table(["condition", "task", "median seconds, or ratio"], rows)]
    return "\n".join(parts)


def quality_markdown(quality):
    kt = quality["known_truth"]
    config = kt["config"]
    rows = [("true log p(x) (grid quadrature)", f"{kt['truth']:.3f}", "0.000", "")]
    for label, value in sorted(kt["scores"].items(), key=lambda item: -item[1]):
        rows.append((label, f"{value:.3f}", f"{kt['truth'] - value:.3f}", f"{kt['fit_seconds'].get(label.split(':')[0], float('nan')):.1f}"))
    parts = [
        "### Known truth: held-out mean log-likelihood (nats per row, higher is better)",
        f"x = g(z) + N(0, {config['noise_std']}^2 I), z ~ N(0, I_2), g a fixed random tanh network to "
        f"{config['n_features']} features; {config['n_train']:,} training rows, {config['n_test']:,} held-out rows. "
        f"Truth by quadrature on a z-grid of step {config['grid_step']} (step {2 * config['grid_step']} "
        f"differs by {kt['truth_quadrature_check']:.1e} nat). skvae rows: number of epochs run "
        + ", ".join(f"{label}: {n}" for label, n in kt["n_iter"].items()) + ".",
        "",
        _table(["model", "held-out log-likelihood", "gap to truth", "fit seconds"], rows),
    ]
    for dataset, result in quality["real_data"].items():
        parts += [
            "",
            f"### {dataset}: LogisticRegression accuracy on reduced features (stratified 5-fold CV)",
            _table(["features", "accuracy (mean +- std)"],
                   [(label, f"{100 * m:.1f} +- {100 * s:.1f} %") for label, (m, s) in result["accuracy"].items()]),
            "",
            f"### {dataset}: held-out mean log-likelihood (25% test split, nats per row)",
            _table(["model", "score"], [(label, f"{value:.2f}") for label, value in result["score"].items()]),
        ]
        if min(result["score"].values()) < -1e6:
            parts += ["", "A score near -1e9 is FactorAnalysis meeting features that are constant in the training "
                      "split: it floors noise variances at 1e-12, so any other value there costs it ~1e9 nats. "
                      "skvae floors each decoder variance at a fraction of the feature's training variance "
                      "(unit variance for constant features)."]
    return "\n".join(parts)


def readme_summary(machine, speed=None, quality=None):
    """The README's "Results" section: headline numbers and the machine, about ten lines."""
    rows = []
    if speed:
        ratios = speed["training"]["ratios"]
        rows.append(("`fit` throughput vs hand-written PyTorch loop", f"{ratios['skvae / hand-written']:.2f}x"))
        if "skvae / skorch" in ratios:
            rows.append(("`fit` throughput vs skorch `NeuralNet`", f"{ratios['skvae / skorch']:.2f}x"))
        rows.append(("one-row `transform` time vs `PCA(20).transform`", f"{speed['single_row']['ratio']:.2f}x"))
        rows.append(("bulk `transform` throughput vs raw torch forward", f"{speed['bulk']['ratio']:.2f}x"))
        if "float64" in speed:
            rows.append(("float64 input time vs float32 (`transform`, `score_samples`)", ", ".join(
                f"{result['ratio']:.2f}x" for result in speed["float64"]["methods"].values())))
        largest = speed["memory"]["rows"][-1]
        rows.append((f"peak memory added by `transform` of {largest['n_rows']:,} rows "
                     f"({_mib(largest['input_bytes'])} in, {_mib(largest['output_bytes'])} out)",
                     _mib(largest["peak_added_bytes"])))
    if quality:
        kt = quality["known_truth"]
        scores = kt["scores"]
        truth = kt["truth"]
        for label in ("skvae, latent_dim=2: ELBO", next((k for k in scores if k.startswith("skvae, latent_dim=2: IW")), None)):
            if label in scores:
                rows.append((f"known truth: {label.split(': ')[1]} gap to true log p(x)", f"{truth - scores[label]:.2f} nat"))
        others = {k: v for k, v in scores.items() if not k.startswith("skvae")}
        best = max(others, key=others.get)
        rows.append((f"known truth: best baseline ({best}) gap", f"{truth - others[best]:.2f} nat"))
        digits = quality["real_data"].get("digits")
        if digits:
            accuracy = digits["accuracy"]
            bernoulli = next((k for k in accuracy if "VAETransformer(2, bernoulli)" in k), None)
            if bernoulli:
                rows.append(("digits, 2-D features + LogisticRegression: VAE (bernoulli) vs PCA",
                             f"{100 * accuracy[bernoulli][0]:.1f} % vs {100 * accuracy['PCA(2)'][0]:.1f} %"))
    device = machine.get("GPU") or machine.get("CPU", "?")
    machine_line = (f"Measured on {device} ({machine.get('CPU cores (visible)', '?')} cores, "
                    f"{machine.get('torch threads', '?')} torch threads), torch {machine.get('torch', '?')}, "
                    f"device `{machine.get('device', '?')}`; ratios are medians of per-round ratios.")
    return "\n".join([_table(["benchmark", "skvae"], rows), "", machine_line])


def results_markdown(machine, speed=None, quality=None, quick=False, command="", threads=None):
    """The whole RESULTS.md text."""
    parts = ["# skvae benchmark results", ""]
    if quick:
        parts += ["**Smoke run (`--quick`): tiny sizes, numbers are not meaningful.**", ""]
    parts += [f"Produced by {command}." if command else "", "", "## Machine", "",
              _table(["", ""], list(machine.items())), ""]
    parts += ["## Results (README summary)", "", readme_summary(machine, speed, quality), ""]
    checks = targets(speed, quality, threads)
    if checks:
        parts += ["## Targets", "", _table(["target", "measured", "met"],
                                           [(t, m, "yes" if ok else "**no**") for t, m, ok in checks]), ""]
    if speed:
        parts += ["## Speed", "", speed_markdown(speed), ""]
    if threads:
        parts += ["## Thread policy", "", threads_markdown(threads), ""]
    if quality:
        parts += ["## Statistical quality", "", quality_markdown(quality), ""]
    return "\n".join(parts)


def plots(out_dir, speed=None, quality=None):
    """Write the PNG plots into `out_dir`; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    written = []

    def save(fig, name):
        path = out_dir / name
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)

    if speed:
        medians = speed["training"]["median_rows_per_second"]
        fig, ax = plt.subplots(figsize=(6.5, 3))
        names = list(medians)
        ax.barh(names, [medians[n] for n in names],
                color=["tab:orange" if n == "skvae" else "tab:gray" for n in names])
        ax.set_xlabel("training rows / second (median, higher is better)")
        ax.invert_yaxis()
        save(fig, "training_throughput.png")

        single, bulk = speed["single_row"], speed["bulk"]
        fig, (left, right) = plt.subplots(1, 2, figsize=(7.5, 2.8))
        left.bar(["skvae", "PCA"], [1e6 * single["median_seconds_per_call"][n] for n in ("skvae", "PCA")],
                 color=["tab:orange", "tab:gray"])
        left.set_ylabel("microseconds")
        left.set_title("transform, one row (lower is better)", fontsize=9)
        right.bar(["skvae", "raw torch"], [bulk["median_rows_per_second"][n] for n in ("skvae", "raw torch")],
                  color=["tab:orange", "tab:gray"])
        right.set_ylabel("rows / second")
        right.set_title("bulk transform (higher is better)", fontsize=9)
        save(fig, "inference.png")

    if quality:
        kt = quality["known_truth"]
        labels = sorted(kt["scores"], key=lambda label: kt["scores"][label])
        values = [kt["scores"][label] for label in labels]
        fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(labels) + 1))
        # Log-likelihoods have no natural zero: bars start at the left edge of the axis.
        base = min(values + [kt["truth"]]) - 0.5
        ax.barh(labels, [v - base for v in values], left=base,
                color=["tab:orange" if label.startswith("skvae") else "tab:gray" for label in labels])
        ax.axvline(kt["truth"], color="k", linestyle="--", label=f"truth {kt['truth']:.2f}")
        ax.set_xlim(base, kt["truth"] + 0.5)
        ax.set_xlabel("held-out mean log-likelihood, nats (higher is better)")
        ax.legend(loc="lower right", fontsize=8)
        save(fig, "quality_known_truth.png")

        fig, ax = plt.subplots(figsize=(6, 3.2))
        for label, curve in kt["loss_curves"].items():
            ax.plot(range(1, len(curve) + 1), curve, label=label)
        ax.axhline(-kt["truth"], color="k", linestyle="--", label="-truth (held-out)")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss (negative ELBO, nats)")
        low = -kt["truth"] - 1
        high = max(max(c[min(len(c) - 1, 2):]) for c in kt["loss_curves"].values()) if kt["loss_curves"] else 0
        ax.set_ylim(low, max(high, low + 1))
        ax.legend(fontsize=8)
        save(fig, "loss_curves.png")

        datasets = quality["real_data"]
        fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 3.2), squeeze=False)
        for ax, (dataset, result) in zip(axes[0], datasets.items()):
            labels = list(result["accuracy"])
            means = [100 * result["accuracy"][label][0] for label in labels]
            base = max(0.0, min(means) - 10)  # differences of a few points must stay visible
            ax.barh(labels, [m - base for m in means], left=base,
                    xerr=[100 * result["accuracy"][label][1] for label in labels],
                    color=["tab:orange" if "VAETransformer" in label else "tab:gray" for label in labels])
            ax.set_xlim(base, 100)
            ax.set_xlabel("accuracy, % (higher is better)")
            ax.set_title(dataset, fontsize=9)
            ax.invert_yaxis()
        save(fig, "real_data_accuracy.png")
    return written
