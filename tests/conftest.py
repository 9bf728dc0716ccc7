import os

# scikit-learn's check_array_api_input only runs (instead of skipping) when
# SciPy's array API mode is on; it must be set before SciPy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# The suite trains hundreds of tiny networks, for which torch's intra-op
# threads cost more in synchronisation than they save (the whole suite runs
# about twice as fast on one thread), and on a shared 2-core machine spinning
# OpenMP threads slow it down a hundredfold. Set before torch is imported, so
# that subprocesses (the CLI tests, Dask workers) inherit it too. This is the
# test environment's choice; the library never sets thread counts.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
