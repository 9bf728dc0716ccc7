"""Each public estimator's docstring lists exactly its parameters, each with its real default."""

import inspect
import math
import re

import numpy as np
import pytest

from skvae import VAEImputer, VAEOutlierDetector, VAETransformer


def _documented(cls):
    doc = cls.__doc__
    section = doc[doc.index("Parameters\n    ----------"):doc.index("Attributes\n    ----------")]
    entries = re.findall(r"^    (\w+) : (.*)$", section, flags=re.MULTILINE)
    return {name: (re.search(r"default=(.+)$", spec).group(1) if "default=" in spec else None)
            for name, spec in entries}


def _as_python(text):
    text = text.strip()
    if text == "np.nan":
        return np.nan
    return eval(text, {"np": np, "__builtins__": {}})  # literals only: True, None, 1e-3, (128, 64), "auto"


@pytest.mark.parametrize("cls", [VAETransformer, VAEImputer, VAEOutlierDetector])
def test_docstring_parameters_match_the_signature(cls):
    documented = _documented(cls)
    signature = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items() if name != "self"}
    assert list(documented) == list(signature) or set(documented) == set(signature), (
        sorted(set(documented) ^ set(signature)))
    for name, default in signature.items():
        assert documented[name] is not None, f"{cls.__name__}.{name} documents no default"
        written = _as_python(documented[name])
        if isinstance(default, float) and math.isnan(default):
            assert isinstance(written, float) and math.isnan(written), name
        else:
            assert written == default and type(written) is type(default), (cls.__name__, name, written, default)


@pytest.mark.parametrize("cls", [VAETransformer, VAEImputer, VAEOutlierDetector])
def test_parameters_are_keyword_only(cls):
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert parameters and all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)


@pytest.mark.parametrize("cls", [VAEImputer, VAEOutlierDetector])
def test_every_vae_parameter_reaches_each_face(cls):
    from skvae._faces import VAE_PARAMETER_NAMES

    face = set(inspect.signature(cls.__init__).parameters)
    assert set(VAE_PARAMETER_NAMES) <= face, sorted(set(VAE_PARAMETER_NAMES) - face)
    assert set(VAETransformer._parameter_constraints) <= set(cls._parameter_constraints)
