"""The thread policy (skvae._threads): what it chooses, and that torch is left as it was found.

Threads are a CPU matter: every model here trains on the CPU (on a GPU the policy leaves torch alone).
"""

import threading
import time
import warnings

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from sklearn.base import clone

from skvae import VAETransformer, _threads
from skvae._training import Trainer

X = np.random.default_rng(0).standard_normal((300, 6))
LARGE_WORK = 10**12  # multiply-adds of one step that would keep any machine busy


@pytest.fixture
def torch_threads_restored():
    """Run a test with torch's setting as it may be for users (2 threads), then put the suite's back."""
    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    yield 2
    torch.set_num_threads(saved)


def _quiet_fit(model, data=X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(data)


@pytest.fixture
def threads_in_steps(monkeypatch):
    """torch's thread count at every training step of the test."""
    seen = []
    original = Trainer.train_step

    def recording(self, *batch):
        seen.append(torch.get_num_threads())
        return original(self, *batch)

    monkeypatch.setattr(Trainer, "train_step", recording)
    return seen


# ------------------------------------------------------ torch is left as found

@pytest.mark.parametrize("user_threads", [1, 2, 3])
def test_every_public_method_restores_torch_threads(user_threads, torch_threads_restored):
    torch.set_num_threads(user_threads)
    model = VAETransformer(device="cpu", latent_dim=2, max_iter=2, random_state=0, n_jobs=2 if user_threads != 2 else 1)
    calls = {
        "fit": lambda: _quiet_fit(model),
        "partial_fit": lambda: model.partial_fit(X),
        "fit_transform": lambda: model.fit_transform(X),
        "transform": lambda: model.transform(X),
        "inverse_transform": lambda: model.inverse_transform(np.zeros((3, 2))),
        "score_samples": lambda: model.score_samples(X, n_importance=3),
        "sample": lambda: model.sample(5),
    }
    for name, call in calls.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
        assert torch.get_num_threads() == user_threads, name


@pytest.mark.parametrize("user_threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_row_transform_restores_torch_threads(user_threads, dtype, torch_threads_restored):
    # The automatic policy runs a one-row call on one thread: the user's count comes back after it.
    model = VAETransformer(device="cpu", latent_dim=2, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    torch.set_num_threads(user_threads)
    for _ in range(3):
        model.transform(X[:1].astype(dtype))
        assert torch.get_num_threads() == user_threads


def test_failed_fit_restores_torch_threads(torch_threads_restored):
    model = VAETransformer(device="cpu", learning_rate=1e30, max_iter=3, random_state=0, n_jobs=1)
    with pytest.raises(ValueError):
        _quiet_fit(model, X * 1e30)
    assert torch.get_num_threads() == torch_threads_restored


# --------------------------------------------------------------- what it chooses

@pytest.mark.parametrize("n_jobs", [1, 2, 3])
def test_n_jobs_sets_the_training_threads(n_jobs, threads_in_steps, torch_threads_restored):
    _quiet_fit(VAETransformer(device="cpu", max_iter=1, n_jobs=n_jobs, random_state=0))
    assert set(threads_in_steps) == {n_jobs}


def test_n_jobs_minus_one_uses_every_usable_core(monkeypatch, threads_in_steps, torch_threads_restored):
    monkeypatch.setattr(_threads, "usable_cores", lambda: 3)
    _quiet_fit(VAETransformer(device="cpu", max_iter=1, n_jobs=-1, random_state=0))
    assert set(threads_in_steps) == {3}
    assert _threads.resolve_n_jobs(-2, 1) == (2, False)


def test_small_steps_train_on_one_thread(threads_in_steps, torch_threads_restored):
    # A batch of 128 through a (128, 64) network on 6 features: far below WORK_PER_THREAD.
    _quiet_fit(VAETransformer(device="cpu", max_iter=2, random_state=0))
    assert set(threads_in_steps) == {1}


def test_large_steps_measure_one_thread_against_several(monkeypatch, threads_in_steps, torch_threads_restored):
    monkeypatch.setattr(_threads, "WORK_PER_THREAD", 1)
    monkeypatch.setattr(_threads, "usable_cores", lambda: 2)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # the suite's own limit
    monkeypatch.setattr(_threads, "idle_cores", lambda: 2)
    _quiet_fit(VAETransformer(device="cpu", max_iter=1, batch_size=8, random_state=0))
    # Warm-up steps on the allowed count, the probe over both counts, then one of them.
    warmup, probe = _threads.WARMUP_STEPS, 4 * _threads.PROBE_STEPS
    assert set(threads_in_steps[:warmup]) == {2}
    assert set(threads_in_steps[warmup : warmup + probe]) == {1, 2}
    assert len(set(threads_in_steps[warmup + probe :])) == 1


def test_automatic_policy_respects_the_machine_and_environment(monkeypatch, torch_threads_restored):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(_threads, "usable_cores", lambda: 8)
    torch.set_num_threads(4)
    assert _threads.resolve_n_jobs(None, LARGE_WORK) == (4, True)  # the user's torch setting
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert _threads.resolve_n_jobs(None, LARGE_WORK) == (3, True)
    monkeypatch.setattr(_threads, "usable_cores", lambda: 2)
    assert _threads.resolve_n_jobs(None, LARGE_WORK) == (2, True)
    # threadpoolctl's limit (what joblib's workers and users set) reaches torch's OpenMP.
    with threadpool_limits(1):
        assert _threads.resolve_n_jobs(None, LARGE_WORK) == (1, False)
    assert _threads.resolve_n_jobs(None, 2 * _threads.WORK_PER_THREAD - 1) == (1, False)


def test_usable_cores_follow_affinity_and_cgroup_quota(monkeypatch, tmp_path):
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5})
    monkeypatch.setattr(_threads, "_cached_cgroup_cpu_quota", lambda: None)
    assert _threads.usable_cores() == 6
    monkeypatch.setattr(_threads, "_cached_cgroup_cpu_quota", lambda: 1.5)
    assert _threads.usable_cores() == 2
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: {3})
    assert _threads.usable_cores() == 1


@pytest.mark.parametrize("files, cores", [
    ({"cpu.max": "150000 100000\n"}, 1.5),
    ({"cpu.max": "max 100000\n"}, None),
    ({"cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 2.0),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({}, None),
])
def test_cgroup_quota_is_read_from_v1_and_v2_files(tmp_path, files, cores):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert _threads._cgroup_cpu_quota(str(tmp_path)) == cores


def test_invalid_n_jobs_is_refused():
    with pytest.raises(ValueError, match="n_jobs"):
        VAETransformer(device="cpu", n_jobs=0).fit(X)
    with pytest.raises(ValueError, match="n_jobs"):
        VAETransformer(device="cpu", n_jobs=1.5).fit(X)


# ------------------------------------------------------------------ the tuner

class FakeClock:
    """A clock that advances by the cost of each step at the thread count torch has."""

    def __init__(self, seconds_per_step):
        self.now = 0.0
        self.seconds_per_step = seconds_per_step

    def __call__(self):
        return self.now

    def step(self):
        self.now += self.seconds_per_step[torch.get_num_threads()]


def _run_steps(tuner, clock, n_steps):
    chosen = []
    for _ in range(n_steps):
        tuner.before_step()
        clock.step()
        tuner.after_step()
        chosen.append(torch.get_num_threads())
    return chosen


@pytest.mark.parametrize("costs, winner", [({1: 1e-3, 2: 6e-4}, 2), ({1: 1e-3, 2: 4e-3}, 1), ({1: 1e-3, 2: 1.1e-3}, 1)])
def test_tuner_keeps_the_faster_count(costs, winner, torch_threads_restored):
    clock = FakeClock(costs)
    tuner = _threads.ThreadTuner(2, clock=clock, idle_cores=lambda: 2)
    with _threads.torch_threads(2):
        chosen = _run_steps(tuner, clock, 30)
    assert tuner.chosen == winner
    assert set(chosen[-10:]) == {winner}


def test_one_slow_step_does_not_decide_the_measurement(torch_threads_restored):
    # Two threads are faster, but their first timed step is slowed (a burst of load, late
    # allocations): the median of PROBE_STEPS timed steps must still pick two threads.
    class OneSlowStep(FakeClock):
        def step(self):
            super().step()
            if torch.get_num_threads() == 2 and not self.slowed and self.steps_on_two == 1:
                self.now += 1.3e-3
                self.slowed = True
            self.steps_on_two += torch.get_num_threads() == 2

    clock = OneSlowStep({1: 1e-3, 2: 6e-4})
    clock.slowed, clock.steps_on_two = False, -_threads.WARMUP_STEPS
    tuner = _threads.ThreadTuner(2, clock=clock, idle_cores=lambda: 2)
    with _threads.torch_threads(2):
        _run_steps(tuner, clock, _threads.WARMUP_STEPS + 4 * _threads.PROBE_STEPS + 2)
    assert clock.slowed
    assert tuner.chosen == 2


def test_a_short_fit_measures_again_sooner_than_a_long_one(torch_threads_restored):
    clock = FakeClock({1: 1e-3, 2: 6e-4})
    tuner = _threads.ThreadTuner(2, clock=clock, idle_cores=lambda: 2)
    gaps = []  # from the end of one measurement to the start of the next
    real_start = tuner._start_probe
    tuner._start_probe = lambda: (gaps.append(clock.now - tuner._probe_ended), real_start())
    with _threads.torch_threads(2):
        for _ in range(200):
            _run_steps(tuner, clock, 1)
            clock.now += 0.25
    gaps = np.array(gaps[1:])  # the first measurement follows the warm-up
    assert _threads.FIRST_REPROBE_SECONDS <= gaps[0] < _threads.REPROBE_SECONDS
    assert np.all(np.diff(gaps) >= -1e-9) and gaps[-1] >= _threads.REPROBE_SECONDS


def test_tuner_gives_up_a_clear_loser_early_and_measures_again(torch_threads_restored):
    clock = FakeClock({1: 1e-3, 2: 4e-3})
    tuner = _threads.ThreadTuner(2, clock=clock, idle_cores=lambda: 2)
    with _threads.torch_threads(2):
        # Warm-up steps are not measured; then pairs of steps, the second of each
        # timed: CLEAR_LOSS_STEPS timed steps each are enough at 4x.
        probe = [2, 2, 1, 1] * _threads.CLEAR_LOSS_STEPS
        assert _run_steps(tuner, clock, _threads.WARMUP_STEPS + len(probe)) == [2] * _threads.WARMUP_STEPS + probe
        assert tuner.chosen == 1
        assert set(_run_steps(tuner, clock, 20)) == {1}
        # Load gone: after REPROBE_SECONDS the tuner measures again and switches back.
        clock.seconds_per_step = {1: 1e-3, 2: 5e-4}
        clock.now += _threads.REPROBE_SECONDS
        chosen = _run_steps(tuner, clock, 4 * _threads.PROBE_STEPS + 5)
    assert tuner.chosen == 2 and chosen[-1] == 2


# ----------------------------------------------------------------- concurrency

def test_concurrent_inference_is_correct_and_restores_each_threads_setting(torch_threads_restored):
    model = _quiet_fit(VAETransformer(device="cpu", latent_dim=2, max_iter=2, random_state=0, n_jobs=1))
    expected_z, expected_scores = model.transform(X), model.score_samples(X)
    errors, barrier = [], threading.Barrier(4)

    def worker(own_threads):
        try:
            # torch initialises a thread's count on its first use, from the count
            # set last in any thread: initialise first, so that own_threads sticks.
            torch.get_num_threads()
            torch.set_num_threads(own_threads)
            barrier.wait()
            for _ in range(20):
                np.testing.assert_array_equal(model.transform(X), expected_z)
                np.testing.assert_array_equal(model.score_samples(X), expected_scores)
            # With a per-thread backend each thread keeps its own value; with a
            # process-wide one, whatever was set last. Either way not skvae's 1.
            if _threads._PER_THREAD:
                assert torch.get_num_threads() == own_threads
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    workers = [threading.Thread(target=worker, args=(n,)) for n in (2, 3, 2, 3)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert not errors, errors
    assert torch.get_num_threads() == torch_threads_restored


def test_overlapping_calls_on_a_process_wide_setting_restore_the_users_value(monkeypatch):
    """Process-wide backend (torch's native pool): the last call to leave restores, not the first."""
    setting = {"value": 4}
    monkeypatch.setattr(_threads, "_PER_THREAD", False)
    monkeypatch.setattr(_threads.torch, "get_num_threads", lambda: setting["value"])
    monkeypatch.setattr(_threads.torch, "set_num_threads", lambda n: setting.update(value=n))
    a_entered, b_entered, a_left = threading.Event(), threading.Event(), threading.Event()
    seen_in_b = []

    def call_a():
        with _threads.torch_threads(1):
            a_entered.set()
            b_entered.wait()
        a_left.set()

    def call_b():
        a_entered.wait()
        with _threads.torch_threads(2):
            b_entered.set()
            a_left.wait()
            seen_in_b.append(setting["value"])  # A's exit must not restore 4 under B's feet

    threads = [threading.Thread(target=call_a), threading.Thread(target=call_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen_in_b == [2]
    assert setting["value"] == 4
    assert _threads.current_threads() == 4


def test_tuner_does_not_measure_several_threads_on_a_busy_machine(torch_threads_restored):
    clock = FakeClock({1: 1e-3, 2: 2e-2})
    idle = {"cores": 1}
    tuner = _threads.ThreadTuner(2, clock=clock, idle_cores=lambda: idle["cores"])
    with _threads.torch_threads(2):
        assert set(_run_steps(tuner, clock, 10)) == {1}
        idle["cores"] = 2  # the other process ended: the next look measures
        clock.now += _threads.REPROBE_SECONDS
        assert 2 in _run_steps(tuner, clock, 4)


def test_idle_cores_reads_the_runnable_count(monkeypatch):
    monkeypatch.setattr(_threads, "usable_cores", lambda: 4)
    assert 0 <= _threads.idle_cores() <= 4


@pytest.mark.parametrize("runnable, own, idle", [
    (2, 2, 2),  # only this process's threads run (its OpenMP worker still spinning): idle
    (3, 2, 1),  # one other task runs
    (5, 1, 0),  # the machine is full
    (1, 3, 2),  # the instant counts may disagree: never more idle than usable
])
def test_idle_cores_leaves_out_this_processs_own_threads(monkeypatch, tmp_path, runnable, own, idle):
    monkeypatch.setattr(_threads, "usable_cores", lambda: 2)
    loadavg = tmp_path / "loadavg"
    loadavg.write_text(f"0.50 0.40 0.30 {runnable}/120 4242\n")
    assert _threads.idle_cores(str(loadavg), own_running=lambda: own) == idle


def test_own_running_threads_counts_the_running_state(tmp_path):
    states = {"100": "R", "101": "S", "102": "R", "103": "D"}
    for task, state in states.items():
        (tmp_path / task).mkdir()
        # A command name with a space and a parenthesis, as the kernel allows.
        (tmp_path / task / "stat").write_text(f"{task} (py thr) x) {state} 1 2 3\n")
    assert _threads._own_running_threads(str(tmp_path)) == 2
    assert _threads._own_running_threads(str(tmp_path / "absent")) == 1


# ------------------------------------------------- rows on several threads

WIDE = np.random.default_rng(1).random((400, 784))


@pytest.fixture(scope="module")
def wide_model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return VAETransformer(device="cpu", max_iter=2, random_state=0, n_jobs=1).fit(WIDE)


def test_wide_rows_are_bit_identical_whatever_the_batch_and_the_threads(wide_model, torch_threads_restored):
    # At 784 features on 2 threads the matrix library split the sums of
    # 16-64-row products differently from a 336-row product's; every product
    # now runs on one thread, with the threads spread over blocks of rows.
    model = clone(wide_model)  # n_jobs is read at each call
    model.__dict__.update(wide_model.__dict__)
    codes, scores = model.transform(WIDE), model.score_samples(WIDE)
    for n_jobs in (1, 2):
        model.set_params(n_jobs=n_jobs)
        np.testing.assert_array_equal(model.transform(WIDE), codes)
        np.testing.assert_array_equal(model.score_samples(WIDE), scores)
        for n_rows in (1, 5, 16, 33, 64, 200):
            np.testing.assert_array_equal(model.transform(WIDE[:n_rows]), codes[:n_rows])
            np.testing.assert_array_equal(model.score_samples(WIDE[:n_rows]), scores[:n_rows])
        np.testing.assert_array_equal(model.transform(WIDE[::-1])[::-1], codes)


def test_blocks_of_rows_leave_new_threads_torch_default(wide_model, torch_threads_restored):
    # The pool's threads take one intra-op thread each; torch gives a new
    # thread the count set last anywhere, which must stay the user's.
    def fresh_thread_count():
        seen = []
        thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
        thread.start()
        thread.join()
        return seen[0]

    before = fresh_thread_count()
    copy = clone(wide_model).set_params(n_jobs=2)
    copy.__dict__.update({**wide_model.__dict__, "n_jobs": 2})
    copy.transform(np.tile(WIDE, (3, 1)))
    assert fresh_thread_count() == before
    assert torch.get_num_threads() == torch_threads_restored


def test_an_error_in_one_block_is_raised_and_the_pool_still_serves(torch_threads_restored):
    from skvae._inference import map_row_batches

    def fails_on_the_second_block(rows):
        if rows[0, 0] >= 100:
            raise ArithmeticError("block at row 100")
        return torch.as_tensor(rows * 2)

    rows = np.arange(400, dtype=np.float64)[:, None]
    with pytest.raises(ArithmeticError, match="row 100"):
        map_row_batches(fails_on_the_second_block, rows, (1,), 5000, n_threads=2)
    doubled = map_row_batches(lambda block: torch.as_tensor(block * 2), rows, (1,), 5000, n_threads=2)
    np.testing.assert_array_equal(doubled, rows * 2)
    assert torch.get_num_threads() == torch_threads_restored


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_blocks_of_rows_run_in_a_forked_child(wide_model):
    # A forked child inherits the parent's pool object but not its threads.
    import multiprocessing

    two = clone(wide_model)
    two.__dict__.update({**wide_model.__dict__, "n_jobs": 2})
    two.transform(WIDE)  # the parent's pool exists before the fork
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as children:
        codes = children.apply_async(two.transform, (WIDE,)).get(timeout=120)
    np.testing.assert_array_equal(codes, wide_model.transform(WIDE))


def test_blocks_are_shared_by_the_caller_and_the_pool(torch_threads_restored):
    from skvae._inference import map_row_batches

    seen = []

    def slow_double(block):
        seen.append(threading.get_ident())
        time.sleep(0.005)  # long enough that the other thread takes blocks meanwhile
        return torch.as_tensor(block * 2)

    rows = np.arange(40 * 16, dtype=np.float64)[:, None]
    doubled = map_row_batches(slow_double, rows, (1,), 2**19 // 16, n_threads=2)
    np.testing.assert_array_equal(doubled, rows * 2)
    by_thread = {ident: seen.count(ident) for ident in set(seen)}
    assert threading.get_ident() in by_thread and len(by_thread) == 2
    assert min(by_thread.values()) >= 10, by_thread  # each takes a share, not one block


def test_no_block_starts_after_one_fails(torch_threads_restored):
    from skvae._inference import map_row_batches

    calls = []

    def fails_first(block):
        calls.append(block[0, 0])
        if block[0, 0] == 0:
            raise ArithmeticError("first block")
        time.sleep(0.002)
        return torch.as_tensor(block)

    rows = np.arange(100 * 16, dtype=np.float64)[:, None]
    with pytest.raises(ArithmeticError, match="first block"):
        map_row_batches(fails_first, rows, (1,), 2**19 // 16, n_threads=2)
    assert len(calls) < 10


def test_blocks_called_from_a_pool_thread_do_not_wait_for_that_thread(torch_threads_restored):
    # A call made on the pool's only thread hands blocks to that same, busy pool: the caller takes
    # them all itself and must not wait for a helper that can only start once it returns.
    from concurrent.futures import ThreadPoolExecutor

    from skvae import _inference

    rows = np.arange(40 * 16, dtype=np.float64)[:, None]

    def doubled():
        return _inference.map_row_batches(lambda block: torch.as_tensor(block * 2), rows, (1,), 2**19 // 16,
                                          n_threads=2)

    pool = _inference._row_pool(1)
    np.testing.assert_array_equal(pool.submit(doubled).result(timeout=60), rows * 2)
    with ThreadPoolExecutor(1) as other:  # and from an unrelated thread, as before
        np.testing.assert_array_equal(other.submit(doubled).result(timeout=60), rows * 2)
