"""The scan output contract: one JSON object a line, `{"id", ...report}` or `{"id", "error"}`.

`postcheck scan --format jsonl` and `checker.dask` both write their lines here, so a scan on a Dask
cluster prints byte for byte what `scan --jobs 1` prints.
"""

from __future__ import annotations

import json

from checker.report import Report


def report_line(key, report: Report) -> str:
    """`key` keeps its JSON type: a scan echoes each input's id as it was given."""
    return json.dumps({"id": key} | report.to_dict(), ensure_ascii=False)


def error_line(key, problem: str) -> str:
    return json.dumps({"id": key, "error": problem}, ensure_ascii=False)
