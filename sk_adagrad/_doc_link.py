"""The link of an estimator's HTML repr (notebooks) to its page of the
documentation site that the package metadata names."""

import functools
import importlib.metadata


def documentation_url(metadata) -> str | None:
    """The "Documentation" URL among the Project-URL entries of the package
    ``metadata`` (as ``importlib.metadata.metadata`` returns it), or None."""
    for entry in metadata.get_all("Project-URL") or ():
        label, _, url = entry.partition(",")
        if label.strip().lower() == "documentation" and url.strip():
            return url.strip()
    return None


@functools.cache
def installed_documentation_url() -> str | None:
    """The "Documentation" URL of the installed package, or None (read once)."""
    try:
        metadata = importlib.metadata.metadata("sk_adagrad")
    except importlib.metadata.PackageNotFoundError:
        return None
    return documentation_url(metadata)


def doc_link_template(site: str | None) -> str:
    """``<site>/sk_adagrad.<Class>.html`` (the API pages' names in docs/), in
    the form scikit-learn's HTML repr fills in; "" (no link) without a site."""
    if site is None:
        return ""
    return site.rstrip("/") + "/{estimator_module}.{estimator_name}.html"
