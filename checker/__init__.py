"""postcheck: check a clinician's draft post for patient identifiers, encounter timelines and venting.

    from checker import Checker
    checker = Checker()                 # loads the model and rules once
    report = checker.check("82yo M ...")
    report.verdict, report.to_dict()
"""

from checker.errors import ConfigError, InputError, ModelError, PostcheckError, RuleFileError
from checker.pipeline import Checker, check
from checker.report import Finding, Report, Risk

__all__ = [
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
