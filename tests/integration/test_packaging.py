"""The package says which version it is, as its installed metadata does."""

import importlib.metadata
import re

import sk_adagrad


def test_version_is_the_installed_distributions():
    # PEP 440 release segment with optional pre-, post- or dev-release parts.
    assert re.fullmatch(
        r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?", sk_adagrad.__version__
    )
    assert importlib.metadata.version("sk_adagrad") == sk_adagrad.__version__
