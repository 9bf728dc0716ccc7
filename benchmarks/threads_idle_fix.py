"""Before/after of the idle_cores fix in one process, alternating rounds, idle and beside a busy core.

Run from the repository root: ``python -m benchmarks.threads_idle_fix N_ROUNDS``.
"""
import json, statistics, sys
from skvae import _threads
from benchmarks._common import RoundRobin, low_rank_data, timed
from benchmarks.speed import fit_hand_written, fit_skvae
from benchmarks._common import busy_core
from benchmarks.threads import NETWORKS, _config, torch_threads_set_to

new_idle = _threads.idle_cores
def old_idle():  # main's rule: every runnable task but the reader counts as another's
    with open("/proc/loadavg") as f:
        running = int(f.read().split()[3].split("/")[0])
    return max(0, _threads.usable_cores() - (running - 1))


def main(n_rounds):
    out = {}
    cores = _threads.usable_cores()
    for label in ["784 features, hidden (256, 128)"]:
        config = _config(NETWORKS[label]); X = low_rank_data(config["n_rows"], config["n_features"], seed=0)
        rows = config["n_rows"] * config["epochs"]
        def hw(n):
            with torch_threads_set_to(n):
                return rows / timed(lambda: fit_hand_written(X, config))
        def sk(rule):
            _threads.idle_cores = rule
            try:
                return rows / timed(lambda: fit_skvae(X, config))
            finally:
                _threads.idle_cores = new_idle
        contenders = {"hand 1": lambda: hw(1), f"hand {cores}": lambda: hw(cores),
                      "skvae before (main idle rule)": lambda: sk(old_idle), "skvae after": lambda: sk(new_idle)}
        for cond in ("idle", "busy"):
            with busy_core(cond == "busy"), torch_threads_set_to(cores):
                rr = RoundRobin().run(contenders, n_rounds)
            best = [max(a, b) for a, b in zip(rr.values["hand 1"], rr.values[f"hand {cores}"])]
            out[cond] = {n + " / best hand-written": statistics.median(a / b for a, b in zip(rr.values[n], best))
                         for n in contenders}
            print(cond, out[cond], flush=True)
    json.dump({"network": label, "config": config, "load": open("/proc/loadavg").read(), "ratios": out},
              open("benchmarks/results/threads_idle_fix.json", "w"), indent=1)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
