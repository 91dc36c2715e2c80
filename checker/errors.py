"""One small exception hierarchy, mapped to exit codes in the CLI and to HTTP statuses in the service.

Messages name sizes, files, rule ids and fields, never draft text: a draft is PHI until proven otherwise.
"""


class PostcheckError(Exception):
    """Base for every error postcheck reports to a user as one line."""


class InputError(PostcheckError):
    """The draft itself cannot be checked: empty, undecodable, or over the size limit."""


class RuleFileError(PostcheckError):
    """A rule file is unreadable or breaks the schema; the message names file, rule and field."""


class ModelError(PostcheckError):
    """The configured spaCy model is not installed; postcheck never downloads one."""


class ConfigError(PostcheckError):
    """A setting or the user's config file is invalid."""


class ClusterError(PostcheckError):
    """The Dask cluster a scan was sent to could not be reached, or lost the scan (`scan --dask`)."""
