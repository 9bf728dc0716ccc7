"""One recursive equality for saved and restored state, shared by the persistence tests."""

import numpy as np
import torch


def assert_same(a, b, where="state"):
    """Equality of state values: tensors bit for bit, arrays with dtype and shape (NaN where NaN),
    generators by state, estimators (the imputer's MissingIndicator) by their attributes.
    """
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and torch.equal(a, b), where
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif isinstance(a, np.random.RandomState):
        state_a, state_b = a.get_state(), b.get_state()
        assert state_a[0] == state_b[0] and np.array_equal(state_a[1], state_b[1]), where
        assert state_a[2:] == state_b[2:], where
    elif isinstance(a, dict):
        # Attribute order is not state: __setstate__ itself re-adds the networks last.
        assert sorted(a, key=str) == sorted(b, key=str), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif hasattr(a, "get_params"):
        assert_same(vars(a), vars(b), where)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b or a is b, where
