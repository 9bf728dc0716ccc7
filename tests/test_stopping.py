"""The stopping rule: when validation is on, how long a plateau is, the learning-rate schedule."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from skvae import VAETransformer, _training
from skvae._training import (
    BUDGET_ANNEAL_FLOOR,
    StoppingRule,
    budget_anneal_factor,
    budget_epochs,
    patience_epochs,
    use_validation,
)

TINY = dict(latent_dim=2, hidden_layer_sizes=(8,), random_state=0)


def _data(n_rows, seed=0):
    return np.random.default_rng(seed).standard_normal((n_rows, 4))


@pytest.mark.parametrize("n_samples, n_weights, expected", [
    (200, 10**6, False),     # 20 held-out rows: worth more as training rows
    (500, 10**6, True),
    (10_000, 10**6, True),
    (10_001, 10**6, False),  # enough rows not to overfit: the training loss decides
    (5_000, 30_000, False),  # 6 weights per row: too few to overfit
    (5_000, 50_000, True),
])
def test_auto_validation_is_for_data_small_enough_to_overfit(n_samples, n_weights, expected):
    assert use_validation("auto", n_samples, 0.1, n_weights) is expected
    assert use_validation(True, n_samples, 0.1, n_weights) is True
    assert use_validation(False, n_samples, 0.1, n_weights) is False


def test_auto_validation_counts_held_out_rows_not_rows():
    assert use_validation("auto", 250, 0.2, 10**6) is True
    assert use_validation("auto", 1000, 0.01, 10**6) is False


@pytest.mark.parametrize("steps_per_epoch, expected", [(1, 20), (2, 20), (35, 20), (50, 14), (70, 10), (1000, 10)])
def test_patience_is_at_least_min_patience_steps_within_a_cap(steps_per_epoch, expected):
    assert (_training.MIN_PATIENCE_STEPS, _training.MAX_PATIENCE_EPOCHS) == (700, 20)
    assert patience_epochs(10, steps_per_epoch, auto_budget=True) == expected


@pytest.mark.parametrize("steps_per_epoch, expected", [(1, 700), (2, 350), (36, 20), (70, 10), (1000, 10)])
def test_an_int_budget_keeps_the_whole_step_floor(steps_per_epoch, expected):
    assert patience_epochs(10, steps_per_epoch, auto_budget=False) == expected


def test_the_patience_cap_does_not_shorten_n_iter_no_change():
    assert patience_epochs(50, 2, auto_budget=True) == 50
    assert patience_epochs(500, 1000, auto_budget=True) == 500


@pytest.mark.parametrize("steps_per_epoch, expected", [(1, 600), (2, 600), (7, 572), (10, 400), (15, 267),
                                                       (20, 200), (1000, 200)])
def test_the_auto_budget_is_a_number_of_steps_within_200_and_600_epochs(steps_per_epoch, expected):
    assert (_training.AUTO_BUDGET_STEPS, _training.AUTO_MIN_EPOCHS, _training.AUTO_MAX_EPOCHS) == (4000, 200, 600)
    assert budget_epochs("auto", steps_per_epoch) == expected
    assert budget_epochs(7, steps_per_epoch) == 7  # an int is the budget, whatever the data


def test_plateaus_lower_the_learning_rate_twice_then_stop():
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([parameter], lr=1e-3)
    rule = StoppingRule(tol=0.1, n_iter_no_change=2, lr_decays=2)
    learning_rates, stopped_at = [], None
    for epoch, loss in enumerate([5.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0]):
        rule.update(loss)
        if rule.should_stop and not rule.on_plateau(optimizer):
            stopped_at = epoch
            break
        learning_rates.append(optimizer.param_groups[0]["lr"])
    # Plateau after epochs 2-3 (no gain of 0.1 for 2 epochs), progress at epoch 4,
    # plateaus at 5-6 and 7-8; the third one stops.
    assert learning_rates[:3] == [1e-3, 1e-3, 1e-3]
    assert learning_rates[3] == pytest.approx(2e-4)
    assert learning_rates[6] == pytest.approx(4e-5)
    assert stopped_at == 8


def test_default_fit_on_small_data_monitors_held_out_rows():
    wide = dict(TINY, hidden_layer_sizes=(64, 64))  # 9,612 weights: over 10 per row of 600
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = VAETransformer(**wide, max_iter=3).fit(_data(600))
        off = VAETransformer(**wide, max_iter=3, early_stopping=False).fit(_data(600))
        tiny = VAETransformer(**wide, max_iter=3).fit(_data(300))
        narrow = VAETransformer(**TINY, max_iter=3).fit(_data(600))  # under one weight per row
    assert len(model.validation_scores_) == 3 and model.best_loss_ is None
    assert off.validation_scores_ is None and off.best_loss_ is not None
    assert tiny.validation_scores_ is None
    assert narrow.validation_scores_ is None


@pytest.mark.slow
def test_learning_rate_is_the_parameter_again_when_training_continues():
    X = _data(300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = VAETransformer(**TINY, max_iter=1000, n_iter_no_change=1, tol=10.0, learning_rate=1e-2,
                               early_stopping=True).fit(X)
    # tol=10 nats: after the first epoch (an improvement on inf) none counts, so three
    # plateaus of 234 epochs (700 steps of 3 row-batches; max_iter is an int) follow:
    # two decays, then the stop, before the annealing of the budget's last quarter would begin.
    assert model.n_iter_ == 1 + 3 * patience_epochs(1, 3, auto_budget=False)
    assert model.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-2 / 25)
    model.partial_fit(X)
    assert model.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-2)


def test_small_data_is_not_stopped_on_noise():
    # 200 rows: 2 steps per epoch with validation off; 10 epochs would be 20 steps.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = VAETransformer(**TINY, max_iter=50, early_stopping=False, tol=10.0).fit(_data(200))
        auto = VAETransformer(**TINY, early_stopping=False, tol=10.0).fit(_data(200))
    # tol=10: no epoch after the first improves. Plateaus of n_iter_no_change=10 epochs
    # would stop a fit at epoch 31. With an int max_iter a plateau takes 350 epochs here,
    # more than max_iter; with "auto", 20, so the third ends at epoch 61.
    assert model.n_iter_ == 50
    assert auto.n_iter_ == 1 + 3 * 20


@pytest.mark.parametrize("n_rows", [150, 250])
def test_a_default_fit_on_a_small_table_ends_by_its_stopping_rule(n_rows):
    # The tables benchmark's small tables: a few hundred rows of mixed columns, 2 steps per epoch.
    rng = np.random.default_rng(0)
    z = rng.standard_normal((n_rows, 2))
    table = pd.DataFrame({
        "length": 40 + 5 * z[:, 0] + rng.standard_normal(n_rows),
        "depth": 17 - 2 * z[:, 0] + 0.5 * rng.standard_normal(n_rows),
        "mass": np.round(4000 + 600 * z[:, 1] + 200 * rng.standard_normal(n_rows)),
        "kind": pd.Categorical(np.where(z[:, 0] + 0.3 * rng.standard_normal(n_rows) > 0, "a", "b")),
    })
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = VAETransformer(random_state=0).fit(table)
    assert model.max_iter == "auto"
    assert model.n_iter_ < budget_epochs("auto", 2)
    # Not stopped by n_iter_no_change alone: three plateaus of 20 epochs at least.
    assert model.n_iter_ > 3 * patience_epochs(10, 2, auto_budget=True)


def test_max_iter_is_an_int_or_auto():
    with pytest.raises(InvalidParameterError, match="max_iter"):
        VAETransformer(**TINY, max_iter="never").fit(_data(20))


def test_the_last_quarter_of_the_budget_anneals_the_learning_rate():
    factors = [budget_anneal_factor(done, 200) for done in range(200)]
    assert factors[:151] == [1.0] * 151
    assert all(a > b for a, b in zip(factors[150:], factors[151:]))
    assert factors[-1] == pytest.approx(BUDGET_ANNEAL_FLOOR, abs=0.01)
    assert budget_anneal_factor(0, 1) == 1.0  # a one-epoch fit is one epoch of partial_fit


def test_a_fit_ends_annealed_and_keeps_its_learning_rate(monkeypatch):
    seen = []
    run_epoch = _training.Trainer.run_epoch

    def recording(self, data):
        seen.append(self.optimizer.param_groups[0]["lr"])
        return run_epoch(self, data)

    monkeypatch.setattr(_training.Trainer, "run_epoch", recording)
    X = _data(200)
    model = VAETransformer(**TINY, max_iter=12, learning_rate=1e-2, early_stopping=False,
                           n_iter_no_change=10**6).fit(X)
    # The last quarter of 12 epochs starts after epoch 9: a half cosine in thirds from there.
    half_cosine = [BUDGET_ANNEAL_FLOOR + (1 - BUDGET_ANNEAL_FLOOR) * (1 + math.cos(math.pi * k / 3)) / 2
                   for k in (1, 2)]
    assert seen[:10] == [1e-2] * 10
    assert seen[10:] == pytest.approx([1e-2 * f for f in half_cosine])
    assert model.optimizer_.param_groups[0]["lr"] == 1e-2
    model.partial_fit(X)  # one epoch of the user's own schedule: not annealed
    assert seen[12] == 1e-2


def _adam_run(optimizer_class, lr_schedule, clear_at=None):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    optimizer = optimizer_class(net.parameters(), lr=1e-2, fused=True)
    data = torch.randn(40, 5)
    for step, lr in enumerate(lr_schedule):
        optimizer.param_groups[0]["lr"] = lr
        if step == clear_at:
            optimizer.state.clear()
        optimizer.zero_grad(set_to_none=True)
        net(data).pow(2).mean().backward()
        optimizer.step()
    return [p.detach().clone() for p in net.parameters()], optimizer


def test_the_direct_adam_step_is_bit_identical_to_torchs():
    # Learning-rate changes (plateaus, the budget's annealing) and a cleared
    # state (a divergence restore) on the way; the direct step must make
    # exactly the update torch's fused Adam makes.
    schedule = [1e-2] * 20 + [2e-3] * 20 + [4e-4] * 10
    ours, optimizer = _adam_run(_training._DirectAdam, schedule, clear_at=30)
    theirs, reference = _adam_run(torch.optim.Adam, schedule, clear_at=30)
    for mine, reference_weights in zip(ours, theirs):
        assert torch.equal(mine, reference_weights)
    for (mine, state), (_, reference_state) in zip(optimizer.state.items(), reference.state.items()):
        for key in ("step", "exp_avg", "exp_avg_sq"):
            assert torch.equal(state[key], reference_state[key])
    assert isinstance(_training.make_adam([torch.nn.Parameter(torch.ones(2))], 1e-3), torch.optim.Adam)


def test_the_direct_adam_step_falls_back_where_torchs_options_or_hooks_apply():
    parameter = torch.nn.Parameter(torch.ones(3))
    optimizer = _training._DirectAdam([parameter], lr=1e-2, fused=True)
    parameter.grad = torch.ones(3)
    assert optimizer._direct_arguments() is not None  # no state yet: the direct step creates it
    optimizer.step()
    assert set(optimizer.state[parameter]) == {"step", "exp_avg", "exp_avg_sq"}
    assert optimizer._direct_arguments() is not None
    calls = []
    handle = optimizer.register_step_pre_hook(lambda *args: calls.append(1))
    assert optimizer._direct_arguments() is None
    optimizer.step()
    assert calls == [1]
    handle.remove()
    optimizer.param_groups[0]["weight_decay"] = 0.1
    assert optimizer._direct_arguments() is None
    optimizer.param_groups[0]["weight_decay"] = 0.0
    parameter.grad = None
    assert optimizer._direct_arguments() is None


def test_the_direct_adam_step_leaves_parameters_without_gradients_alone():
    # The decoder's `free` is empty and gradient-less where no column has a free parameter.
    used, unused = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.zeros(0))
    optimizer = _training._DirectAdam([used, unused], lr=1e-2, fused=True)
    reference_parameter = torch.nn.Parameter(torch.ones(3))
    reference = torch.optim.Adam([reference_parameter, torch.nn.Parameter(torch.zeros(0))], lr=1e-2, fused=True)
    for step in range(3):
        for parameter in (used, reference_parameter):
            parameter.grad = torch.full((3,), float(step + 1))
        if step:
            assert optimizer._direct_arguments() is not None
        optimizer.step()
        reference.step()
    assert torch.equal(used, reference_parameter)
    assert unused not in optimizer.state


@pytest.mark.parametrize("n_rows, expected", [(10, 128), (1400, 128), (2047, 128), (2048, 512), (10240, 512),
                                              (10241, 128), (60000, 128)])
def test_an_auto_batch_is_512_rows_from_2048_to_10240_rows_else_128(n_rows, expected):
    assert _training.batch_rows("auto", n_rows) == expected
    assert _training.batch_rows(64, n_rows) == 64


@pytest.mark.parametrize("batch_size, n_rows, steps", [("auto", 300, 3), ("auto", 2047, 16), ("auto", 2048, 4),
                                                       (128, 2048, 16)])
def test_a_fit_takes_its_batch_from_its_rows(monkeypatch, batch_size, n_rows, steps):
    seen = []
    train_step = _training.Trainer.train_step

    def counting(self, *args, **kwargs):
        seen.append(self.batch_size)
        return train_step(self, *args, **kwargs)

    monkeypatch.setattr(_training.Trainer, "train_step", counting)
    VAETransformer(**TINY, batch_size=batch_size, max_iter=1, early_stopping=False).fit(_data(n_rows))
    assert len(seen) == steps
    assert set(seen) == {_training.batch_rows(batch_size, n_rows)}


def _table_with_identifier(n_rows=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n_rows)
    return pd.DataFrame({"id": [f"s{i}" for i in range(n_rows)], "x": x,
                         "y": np.sin(2 * x) + 0.1 * rng.normal(size=n_rows)})


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # max_iter=150 is the plan
def test_an_identifier_column_does_not_end_the_fit_in_its_first_epochs():
    # Every held-out row holds an id no training row holds: its probability only falls as training goes
    # on. Scored, it made the best held-out epoch the 5th where the table without the column has its
    # 135th (real-tables sweep: modeldata's biomass stopped at 65 epochs, every column undertrained).
    table = _table_with_identifier()
    params = dict(TINY, hidden_layer_sizes=(32,), early_stopping=True, max_iter=150,
                  likelihood={"id": "categorical"})  # typed by hand: no "looks like an identifier" warning
    with_id = VAETransformer(**params).fit(table)
    without = VAETransformer(**{**params, "likelihood": "auto"}).fit(table.drop(columns="id"))
    assert np.argmax(with_id.validation_scores_) >= np.argmax(without.validation_scores_) / 2


def test_held_out_cells_of_levels_no_training_row_holds_are_scored_as_missing(monkeypatch):
    table = pd.DataFrame({"id": ["a", "b", "c", "d", "e", "f"], "level": ["u", "u", "v", "v", "w", "u"],
                          "x": [0.1, 0.5, np.nan, 0.3, 0.2, 0.9]})
    model = VAETransformer(**TINY, max_iter=1).fit(table)._model
    encoded = model.schema.encode(model.schema.raw_values(table))
    train, valid = encoded[:3], encoded[3:]  # ids a-c and levels u, v train; "w" is held out only
    masked = model._without_levels_unseen_in_training(train, valid)
    id_, level, x = (model.schema.names.index(name) for name in ("id", "level", "x"))
    assert np.isnan(masked[:, id_]).all()
    np.testing.assert_array_equal(np.isnan(masked[:, level]), [False, True, False])
    np.testing.assert_array_equal(masked[:, x], valid[:, x])
    assert not np.isnan(valid[:, id_]).any()  # the caller's rows are not written into
    # A held-out row left with nothing observed is not held out: only its KL term would be scored.
    valid[1, x] = np.nan
    assert model._without_levels_unseen_in_training(train, valid).shape[0] == 2
    # ... unless no held-out row keeps an observed cell: the split stays as it was.
    assert model._without_levels_unseen_in_training(train, valid[[1]]).shape[0] == 1
    # Under self-masking a level column the mechanism models keeps its cells: its mask is scored.
    mechanism = type("Mechanism", (), {"level_columns": [level]})()
    monkeypatch.setattr(type(model), "modelled_missingness", property(lambda self: mechanism))
    kept = model._without_levels_unseen_in_training(train, encoded[3:])
    np.testing.assert_array_equal(kept[:, level], encoded[3:, level])
    assert np.isnan(kept[:, id_]).all()


_FIRST_FIT = """
import sys, warnings
import numpy as np, pandas as pd
import skvae
already = [name for name in ("torch._dynamo", "sympy") if name in sys.modules]
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = pd.DataFrame({"a": rng.normal(size=120), "b": rng.choice(["x", "y"], 120), "c": rng.poisson(3, 120)})
holed = X.mask(rng.random(X.shape) < 0.2)
vae = skvae.VAETransformer(max_iter=3, random_state=0).fit(X)
vae.partial_fit(X)
skvae.VAEImputer(max_iter=3, random_state=0).fit(holed).transform(holed)
skvae.VAEOutlierDetector(max_iter=3, random_state=0).fit(holed).predict(holed)
import io
buffer = io.BytesIO()
skvae.save(vae, buffer)
buffer.seek(0)
skvae.load(buffer).partial_fit(X)
print(already, [name for name in ("torch._dynamo", "sympy") if name in sys.modules])
"""


def _two_lists(output):
    import ast

    first, second = output.strip().splitlines()[-1].split("] [")
    return ast.literal_eval(first + "]"), ast.literal_eval("[" + second)


def test_a_process_first_fit_imports_neither_torch_dynamo_nor_sympy():
    # torch's Optimizer methods import torch._dynamo on their first call (0.8 s), and
    # nn.utils.skip_init's move off the meta device imported sympy (0.3 s): a process's
    # first fit of 300 rows took 0.81 s against 0.05 s for the next (_training._without_dynamo_guard,
    # _networks._linear). Now 0.08 s.
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", _FIRST_FIT], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    already, after = _two_lists(result.stdout)
    if already:
        pytest.skip(f"this torch imports {already} itself")
    assert after == []


def test_a_layer_is_drawn_as_skip_init_drew_it():
    from skvae._networks import _linear

    reference = torch.nn.utils.skip_init(torch.nn.Linear, 6, 4, dtype=torch.float32)
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        reference.weight.uniform_(-1 / math.sqrt(6), 1 / math.sqrt(6), generator=generator)
        reference.bias.uniform_(-1 / math.sqrt(6), 1 / math.sqrt(6), generator=generator)
    state = torch.random.get_rng_state()
    layer = _linear(6, 4, torch.Generator().manual_seed(3))
    assert torch.equal(torch.random.get_rng_state(), state)  # the global RNG untouched
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.weight.device.type == "cpu" and layer.weight.requires_grad
    assert torch.equal(layer.weight, reference.weight) and torch.equal(layer.bias, reference.bias)


def test_import_skvae_leaves_the_mixture_and_impute_packages_to_the_calls_that_use_them():
    # sklearn.mixture (with the k-means it starts from) and sklearn.impute took 0.3 s and 0.1 s of every
    # `import skvae`, the command line's sample, transform and score included, which never use them.
    import subprocess
    import sys

    program = ("import sys, skvae; print(sorted(m for m in ('sklearn.mixture', 'sklearn.impute', 'sklearn.cluster') "
               "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
