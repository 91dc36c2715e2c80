"""postcheck: check a clinician's draft post for patient identifiers, encounter timelines and venting.

    from checker import Checker
    checker = Checker()                 # loads the model and rules once
    report = checker.check("82yo M ...")
    report.verdict, report.to_dict()
"""

import os

__version__ = "0.1.0"

# spaCy's small CPU models multiply small matrices, where OpenBLAS's worker threads cost more than they
# give (7% per draft, 14% batched, measured on 2 cores) and oversubscribe the cores under `scan --jobs`.
# A default only: an explicit setting wins, and it has no effect once numpy is already loaded.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from checker.errors import ConfigError, InputError, ModelError, PostcheckError, RuleFileError  # noqa: E402
from checker.pipeline import Checker, check  # noqa: E402
from checker.report import Finding, Report, Risk  # noqa: E402

__all__ = [
    "__version__",
    "Checker",
    "check",
    "Report",
    "Finding",
    "Risk",
    "PostcheckError",
    "InputError",
    "RuleFileError",
    "ModelError",
    "ConfigError",
]
