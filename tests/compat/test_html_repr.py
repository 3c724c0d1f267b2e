"""The HTML repr (notebooks) links each estimator to its documentation page."""

from pathlib import Path

import pytest

from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad._base import BaseAdagrad
from sk_adagrad._doc_link import documentation_url

DOCS_DIR = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("estimator", [AdagradClassifier(), AdagradRegressor()])
def test_the_html_repr_links_to_the_class_page_of_the_documentation_site(
    monkeypatch, estimator
):
    site = "https://docs.example.org/sk_adagrad/"
    monkeypatch.setattr(BaseAdagrad, "_documentation_url", staticmethod(lambda: site))
    page = f"sk_adagrad.{type(estimator).__name__}"
    link = f"https://docs.example.org/sk_adagrad/{page}.html"
    assert estimator._get_doc_link() == link
    assert f'href="{link}"' in estimator._repr_html_()
    # The page the link names is the class's page of the docs.
    assert (DOCS_DIR / f"{page}.rst").exists()


def test_no_link_without_a_documentation_url(monkeypatch):
    monkeypatch.setattr(BaseAdagrad, "_documentation_url", staticmethod(lambda: None))
    estimator = AdagradClassifier()
    assert estimator._get_doc_link() == ""
    assert "AdagradClassifier" in estimator._repr_html_()


def test_the_documentation_url_is_read_from_the_package_metadata():
    class Metadata:
        def get_all(self, name):
            assert name == "Project-URL"
            return [
                "Source, https://example.org/src",
                "Documentation, https://d.example",
            ]

    assert documentation_url(Metadata()) == "https://d.example"
