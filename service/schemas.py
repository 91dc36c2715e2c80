"""The wire format, defined once: these pydantic models validate requests, shape responses and are
what the OpenAPI document at /docs is generated from.

`ReportModel` mirrors `checker.Report.to_dict()` key for key (a test holds them together), so a client
gets the same JSON from `postcheck check --format json` and from `POST /v1/check`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Same shape as rule ids in rules/*.yaml; bounding it keeps arbitrary text out of error messages.
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$", max_length=64)]
Platform = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,32}$")]
AllowWord = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class _Request(BaseModel):
    # A misspelt option ("disabled") must fail loudly, not be ignored while the user thinks it applied.
    model_config = ConfigDict(extra="forbid")


class CheckOptions(_Request):
    platform: Platform | None = Field(
        None, description="Where the draft will be posted (x, instagram, linkedin, ...). Accepted and "
                          "validated; the checker does not yet vary by platform.")
    author: str | None = Field(None, max_length=200, description="Your own name, never flagged as a patient's.")
    disable: list[RuleId] = Field([], max_length=200, description="Rule ids to turn off for this request.")
    allow: list[AllowWord] = Field(
        [], max_length=200, description="Words or phrases to accept for this request (an 'ignore this word' "
                                        "button): a match that lies within one of them, in any case, is not a finding.")


class CheckRequest(CheckOptions):
    text: str = Field(description="The draft. Never logged or stored.")


class BatchDraft(_Request):
    id: str | None = Field(None, max_length=200, description="Your key for this draft, echoed in its result.")
    text: str


class BatchRequest(CheckOptions):
    drafts: list[BatchDraft] = Field(min_length=1, description="Drafts to check; see POSTCHECK_MAX_BATCH.")


class FindingModel(BaseModel):
    rule: str
    category: str
    type: str
    start: int = Field(description="Offset in Unicode code points (Python string index).")
    end: int
    start_utf16: int = Field(description="Offset in UTF-16 code units, as JavaScript counts: "
                                         "text.slice(start_utf16, end_utf16) is the flagged text, emoji or not.")
    end_utf16: int
    text: str
    severity: Literal["info", "warning", "error"]
    message: str
    suggestion: str
    why: str
    reference: str
    quasi: str | None = None
    rewrite: str | None = Field(None, description="Drop-in text for text[start:end] that fixes this finding "
                                "(a rounded age, a placeholder); null when only the author can rewrite it.")


class RiskDetail(BaseModel):
    kind: str
    start: int
    end: int


class RiskModel(BaseModel):
    level: str
    quasi_identifiers: list[str]
    details: list[RiskDetail] = Field([], description="The pieces that were counted, with their offsets.")


class ReportModel(BaseModel):
    verdict: Literal["ok", "review", "block"]
    findings: list[FindingModel]
    redacted: str
    risk: RiskModel


class BatchResult(BaseModel):
    id: str | None
    report: ReportModel | None = None
    error: str | None = Field(None, description="Why this draft could not be checked (sizes only).")


class BatchResponse(BaseModel):
    results: list[BatchResult]


class RuleExamples(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    flag: list[str]
    pass_: list[str] = Field(alias="pass")


class RuleModel(BaseModel):
    id: str
    category: str
    type: str
    severity: str
    message: str
    why: str
    instead: str
    reference: str
    quasi: str | None
    examples: RuleExamples


class RulesResponse(BaseModel):
    rules: list[RuleModel]


class HealthResponse(BaseModel):
    status: Literal["ok"]
    version: str
    model: str
    rules: int


class FieldProblem(BaseModel):
    field: str
    problem: str


class ErrorResponse(BaseModel):
    error: str = Field(description="Stable code: invalid_request, payload_too_large, unauthorized, ...")
    message: str
    fields: list[FieldProblem] = []


# -- LanguageTool's HTTP API (v2), the subset its clients and browser add-ons read ---------------------

class LTCheckForm(BaseModel):
    """Fields of LanguageTool's /v2/check (form fields for POST, query parameters for GET); fields
    postcheck has no use for are ignored."""

    model_config = ConfigDict(extra="ignore")
    text: str | None = None
    data: str | None = Field(None, description='Annotated text: {"annotation": [{"text": ...}, {"markup": ...}]}')
    language: str = Field(max_length=35, description="auto or an English variant (see /v2/languages).")
    username: str | None = Field(None, max_length=200, description="Any name; LanguageTool clients send one with apiKey.")
    apiKey: str | None = Field(None, max_length=1000, description="POSTCHECK_TOKEN, for clients that cannot send "
                                                                  "an Authorization header.")
    enabledRules: str | None = Field(None, max_length=10_000, description="Rule ids whose info-level notes to show; "
                                                                          "with enabledOnly, the only rules to run.")
    disabledRules: str | None = Field(None, max_length=10_000)
    enabledCategories: str | None = Field(None, max_length=1_000, description="IDENTIFIER, TIMELINE, VENTING, CONDUCT.")
    disabledCategories: str | None = Field(None, max_length=1_000)
    enabledOnly: bool = Field(False, description="Run only enabledRules and enabledCategories.")
    level: str | None = Field(None, max_length=20, description="picky also returns info-level notes.")


class LTReplacement(BaseModel):
    value: str


class LTContext(BaseModel):
    text: str
    offset: int
    length: int


class LTCategory(BaseModel):
    id: str
    name: str


class LTUrl(BaseModel):
    value: str


class LTRule(BaseModel):
    id: str
    description: str
    issueType: str
    urls: list[LTUrl] = Field([], description="The rule's page on this server: what, why, example, instead.")
    category: LTCategory


class LTType(BaseModel):
    typeName: str = "Other"


class LTMatch(BaseModel):
    message: str
    shortMessage: str
    replacements: list[LTReplacement]
    offset: int = Field(description="In UTF-16 code units, as JavaScript and Java count.")
    length: int
    context: LTContext
    sentence: str
    type: LTType = LTType()
    rule: LTRule
    ignoreForIncompleteSentence: bool = False
    contextForSureMatch: int = 0


class LTSoftware(BaseModel):
    name: str
    version: str
    buildDate: str = ""
    apiVersion: int = 1
    premium: bool = False
    status: str = ""


class LTDetectedLanguage(BaseModel):
    name: str
    code: str
    confidence: float = 1.0


class LTLanguage(BaseModel):
    name: str
    code: str
    detectedLanguage: LTDetectedLanguage


class LTWarnings(BaseModel):
    incompleteResults: bool = False


class LTCheckResponse(BaseModel):
    software: LTSoftware
    warnings: LTWarnings = LTWarnings()
    language: LTLanguage
    matches: list[LTMatch]


class LTLanguageEntry(BaseModel):
    name: str
    code: str
    longCode: str
