"""Sphinx configuration of the skgd documentation.

Build it from the repository root with::

    pip install ".[docs]"
    sphinx-build -W -b html docs docs/_build/html

The API pages (``generated/``) and the gallery (``auto_examples/``) are
written into this directory by the build; they are not under version control.
"""

import re

import skgd

project = "skgd"
author = "the skgd developers"
copyright = "the skgd developers"
version = release = skgd.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
# No intersphinx: the build must not need the network (and, with -W, a
# failed fetch would fail it).

templates_path = ["_templates"]
# examples/ holds the gallery's sources; sphinx-gallery turns them into auto_examples/.
exclude_patterns = ["_build", "examples", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"  # `x` renders as ``x``, as in scikit-learn: e.g. shape (`n_features_in_`,)

# autodoc / autosummary: one page per public class, from its numpydoc docstring
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"

# numpydoc: a "Methods" table on each class page, linking to the methods below it
numpydoc_show_class_members = True
numpydoc_show_inherited_class_members = True
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# sphinx-gallery: every docs/examples/plot_*.py runs at each build; an example that
# raises fails the build (after all examples ran, listing the failures)
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "doc_module": ("skgd",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skgd": None},
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
}

html_theme = "pydata_sphinx_theme"
html_title = f"skgd {release}"
html_theme_options = {
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
html_show_sourcelink = False


# Methods inherited from scikit-learn (score, get_params, set_params, the
# metadata-routing set_*_request and get_metadata_routing) bring docstrings
# that cross-reference scikit-learn's own documentation with :ref: and :term:.
# Without intersphinx those targets do not exist here, so link them to
# scikit-learn's site instead (no network is needed to build); other targets
# become plain text.
SKLEARN_DOCS = "https://scikit-learn.org/stable/"
SKLEARN_TARGETS = {
    "r2_score": "modules/model_evaluation.html#r2-score",
    "metadata_routing": "metadata_routing.html",
    "meta-estimator": "glossary.html#term-meta-estimator",
}
_ROLE = re.compile(r":(ref|term):`([^`<]*?)\s*(?:<([^`>]+)>)?`")


def _sklearn_reference(match):
    text, target = match.group(2).strip(), (match.group(3) or match.group(2)).strip()
    if target in SKLEARN_TARGETS:
        return f"`{text} <{SKLEARN_DOCS}{SKLEARN_TARGETS[target]}>`__"
    return text


def _link_sklearn_references(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", None) or ""
    if module.startswith("sklearn."):
        lines[:] = [_ROLE.sub(_sklearn_reference, line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _link_sklearn_references)
