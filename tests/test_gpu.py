"""The CUDA path: fitting, inference, sampling, persistence and the estimator checks on a GPU.

Every test that runs on a GPU is skipped without CUDA. The device *decisions*
(``device="auto"``, where the training data goes) are plain logic and are
tested on any machine by patching what torch reports about the GPU.
"""

import pickle

import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

import skvae
import skvae._device
import skvae._model
from skvae import VAETransformer
from skvae._device import place_training_data, resolve_device

HAS_CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA")
#: Agreement of one model's codes on the CPU and on a GPU: a few float32 ulps
#: (1.2e-7) of activations of order 1.
FLOAT32_ACROSS_DEVICES = 1e-6
SMALL = dict(latent_dim=2, hidden_layer_sizes=(16,), batch_size=64, max_iter=5, random_state=0)


def _data(n_rows=512, n_features=6, seed=0):
    return np.random.default_rng(seed).normal(size=(n_rows, n_features))


# ----------------------------------------------------- decisions, any machine


@pytest.mark.parametrize("cuda_available, expected", [(False, "cpu"), (True, "cuda")])
def test_auto_device_is_cuda_exactly_when_cuda_is_available(monkeypatch, cuda_available, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda_available)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    resolved = resolve_device("auto")
    assert resolved.type == expected
    # Named as an explicit device="cuda" is: "cuda:0", not "cuda".
    assert str(resolved) == ("cuda:0" if cuda_available else "cpu")


def test_training_data_on_the_cpu_is_shared_not_copied():
    array = np.zeros((64, 8), dtype=np.float32)
    placed = place_training_data(array, torch.device("cpu"))
    assert placed.device.type == "cpu"
    assert np.shares_memory(placed.numpy(), array)


@pytest.mark.parametrize("free_bytes_per_data_byte, moved", [(2, True), (1.99, False), (0.5, False)])
def test_training_data_moves_to_the_gpu_only_within_half_its_free_memory(
    monkeypatch, free_bytes_per_data_byte, moved
):
    # Without a GPU the copy itself cannot run: torch's report of free memory
    # and the tensor's .to() are replaced by recorders, and the decision taken
    # from the real array size is checked. Data left on the host is shared
    # with the array, not copied.
    array = np.zeros((64, 8), dtype=np.float32)
    free_bytes = int(free_bytes_per_data_byte * array.nbytes)
    moved_to = []

    def record_to(tensor, *args, **kwargs):
        moved_to.append(torch.device(args[0] if args else kwargs["device"]).type)
        return tensor

    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (free_bytes, 4 * free_bytes))
    monkeypatch.setattr(torch.Tensor, "to", record_to)
    placed = place_training_data(array, torch.device("cuda", 0))
    if moved:
        assert moved_to == ["cuda"]
    else:
        assert moved_to == [] and np.shares_memory(placed.numpy(), array)


# ------------------------------------------------------------------ on a GPU


@pytest.mark.gpu
@needs_cuda
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_auto_device_fits_on_cuda():
    model = VAETransformer(**SMALL).fit(_data())
    assert model.device_.startswith("cuda")
    assert all(p.is_cuda for p in [*model.encoder_.parameters(), *model.decoder_.parameters()])


@pytest.mark.gpu
@needs_cuda
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_transform_score_and_sample_on_cuda():
    X = _data()
    model = VAETransformer(device="cuda", **SMALL).fit(X)
    assert model.device_ == "cuda:0"
    assert len(model.loss_curve_) == SMALL["max_iter"] and np.isfinite(model.loss_curve_).all()
    for dtype in (np.float32, np.float64):
        Z = model.transform(X.astype(dtype))
        assert type(Z) is np.ndarray and Z.dtype == dtype and Z.shape == (len(X), 2)
        X_back = model.inverse_transform(Z)
        assert type(X_back) is np.ndarray and X_back.dtype == dtype and X_back.shape == X.shape
        scores = model.score_samples(X.astype(dtype))
        assert type(scores) is np.ndarray and scores.shape == (len(X),) and np.isfinite(scores).all()
    # float32 and float64 inference agree: the same weights in two precisions.
    np.testing.assert_allclose(model.transform(X.astype(np.float32)), model.transform(X), rtol=1e-4, atol=1e-5)
    samples = model.sample(100, random_state=0)
    assert type(samples) is np.ndarray and samples.dtype == np.float64 and samples.shape == (100, X.shape[1])
    np.testing.assert_array_equal(samples, model.sample(100, random_state=0))
    assert np.isfinite(model.score(X, n_importance=5))


@pytest.mark.gpu
@needs_cuda
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_partial_fit_streams_on_cuda():
    X = _data()
    model = VAETransformer(device="cuda", **SMALL)
    for block in np.split(X, 4):
        model.partial_fit(block)
    assert model.n_iter_ == 4 and np.isfinite(model.loss_curve_).all()
    steps = {int(state["step"]) for state in model.optimizer_.state.values()}
    assert steps == {4 * (len(X) // 4) // SMALL["batch_size"]}


@pytest.mark.gpu
@needs_cuda
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_pickled_cuda_model_loads_on_a_machine_without_cuda(monkeypatch):
    X = _data()
    model = VAETransformer(device="cuda", **SMALL).fit(X)
    expected_Z, expected_scores = model.transform(X), model.score_samples(X)
    blob = pickle.dumps(model)

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="not available here"):
        restored = pickle.loads(blob)
    assert restored.device_ == "cpu"
    assert not any(p.is_cuda for p in restored.encoder_.parameters())
    # The same weights on two devices agree to float32 rounding: the networks
    # run in float32 whatever the input's dtype (skvae._inference), and CPU
    # and GPU kernels sum in different orders, so a code near 0 can differ
    # by a few float32 ulps of the layers' O(1) activations.
    np.testing.assert_allclose(restored.transform(X), expected_Z, rtol=1e-5, atol=FLOAT32_ACROSS_DEVICES)
    np.testing.assert_allclose(restored.score_samples(X), expected_scores, rtol=1e-5)
    # The optimizer state came along: training continues on the CPU.
    restored.partial_fit(X)
    assert restored.n_iter_ == model.n_iter_ + 1


@pytest.mark.gpu
@needs_cuda
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_saved_cuda_model_loads_on_cuda_and_without_it(tmp_path, monkeypatch):
    X = _data()
    model = VAETransformer(device="cuda", **SMALL).fit(X)
    path = tmp_path / "model.skvae"
    skvae.save(model, path)
    loaded = skvae.load(path)
    assert loaded.device_ == model.device_
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="not available here"):
        on_cpu = skvae.load(path)
    assert on_cpu.device_ == "cpu"
    np.testing.assert_allclose(on_cpu.transform(X), model.transform(X), rtol=1e-5, atol=FLOAT32_ACROSS_DEVICES)


@pytest.mark.gpu
@needs_cuda
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_data_too_large_for_the_gpu_is_streamed_with_the_same_result(monkeypatch):
    X = _data()
    resident = VAETransformer(device="cuda", **SMALL).fit(X)

    placed = []

    def recording_place(array, device):
        placed.append(place_training_data(array, device))
        return placed[-1]

    # Let the data take no GPU memory: the 12 kB of training data cannot move
    # there, while the networks (checked against the real free memory) can.
    monkeypatch.setattr(skvae._device, "_DEVICE_DATA_FRACTION", 0.0)
    monkeypatch.setattr(skvae._model, "place_training_data", recording_place)
    streamed = VAETransformer(device="cuda", **SMALL).fit(X)

    assert placed and all(tensor.device.type == "cpu" for tensor in placed)
    assert all(p.is_cuda for p in streamed.encoder_.parameters())
    # Same rows in the same order reach the same GPU computation: the same model.
    np.testing.assert_allclose(streamed.loss_curve_, resident.loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(streamed.transform(X), resident.transform(X), rtol=1e-5, atol=1e-7)


@pytest.mark.gpu
@needs_cuda
@parametrize_with_checks([VAETransformer(device="cuda")])
def test_sklearn_checks_on_cuda(estimator, check):
    check(estimator)

