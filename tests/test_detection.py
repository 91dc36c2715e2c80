"""Identifier and timeline detection: the traps plain Presidio falls into, and the report's contract."""

from __future__ import annotations

import pytest


def rules_fired(checker, text: str) -> set[str]:
    return {finding.rule for finding in checker.check(text).counted}


def categories(checker, text: str) -> set[str]:
    return {finding.category for finding in checker.check(text).counted}


@pytest.mark.parametrize("text", [
    "Parkinson's and Crohn's flares both got worse on our unit after the formulary change.",
    "Graves' disease or Hashimoto thyroiditis? The antibodies decide. My patient taught me that.",
    "Bell's palsy spares the forehead; Murphy's sign points at the gallbladder. Saw a patient with both.",
    "Down syndrome and Hodgkin lymphoma in the same patient is rare but real.",
])
def test_eponymous_diseases_are_not_people(checker, text):
    assert "identifier" not in categories(checker, text)


@pytest.mark.parametrize("text", [
    "Patient admitted with CHF exacerbation, NPO for the TEE, GI and CV following, ABG pending in the ED and ICU.",
    "Pt on heparin and warfarin bridge, then metoprolol 25 and lisinopril 10, recheck INR Friday.",
    "Gave the patient 4 mg ondansetron and 1 L LR, then 0.5 mg hydromorphone.",
])
def test_clinical_abbreviations_drugs_and_doses_are_not_people(checker, text):
    assert not any(f.type == "PERSON" for f in checker.check(text).findings)


def test_names_in_capitals_are_still_names(checker):
    report = checker.check("PT MARGARET OYELARAN IN BED 7 REFUSING MEDS AGAIN")
    assert any(f.type == "PERSON" and "MARGARET" in f.text for f in report.counted)


@pytest.mark.parametrize("text", [
    "Thank you Dr. Renata Solis for teaching me how to run a code.",
    "Huge thanks to @DrOkonkwoIM for the great talk on heart failure today.",
    "Congratulations to our chief residents Priyanka and Deshawn!",
])
def test_colleagues_and_thank_yous_are_not_patient_identifiers(checker, text):
    assert checker.check(text).verdict == "ok"


def test_authors_own_name_is_not_a_patient(checker):
    text = "I'm Keziah, a PGY-2. A patient taught me patience this week."
    assert not any(f.type == "PERSON" for f in checker.check(text).findings)
    by_flag = checker.check("Keziah Obi here, signing off. Admitted a patient with DKA.", author="Keziah Obi")
    assert not any(f.type == "PERSON" for f in by_flag.findings)


def test_hospital_in_a_committee_post_is_not_a_patient_location(checker):
    text = "Honored to join the Ethics Committee at Lakeshore Memorial Hospital this year."
    assert checker.check(text).verdict == "ok"


def test_today_alone_is_not_a_timeline(checker):
    assert "timeline" not in categories(checker, "Today I'm grateful for coffee and my co-residents.")
    assert "timeline" in categories(checker, "Today a patient hugged me after her last chemo.")


def test_conference_dates_and_study_years_are_not_timelines(checker):
    text = "Presenting at the AHA meeting on November 12th at 2pm. A 2019 RCT of 800 patients changed practice."
    assert checker.check(text).verdict == "ok"


@pytest.mark.parametrize("text, kind", [
    ("Discharged an 82 y/o after a long stay.", "AGE"),
    ("Discharged an 82-year-old after a long stay.", "AGE"),
    ("Discharged an 82yo after a long stay.", "AGE"),
    ("Admitted a 45M with chest pain.", "AGE"),
    ("My patient is in her 90s and still gardens.", "AGE"),
    ("Her DOB is 03/02/1950 and she told everyone.", "DATE"),
    ("Text her son at 555-867-5309 if you knew him.", "PHONE"),
    ("The patient's daughter in London asked us to call +44 20 7946 0958 with news.", "PHONE"),
    ("The patient emailed me from walt.hartley77@example.com again.", "EMAIL"),
    ("Please see MRN 88234019 first thing.", "MRN"),
    ("Room 12B pulled out his IV again.", "ROOM_BED"),
    ("EMS picked him up at 48 Ferncliff Road for the third time.", "ADDRESS"),
])
def test_identifier_kinds_clinicians_write(checker, text, kind):
    assert kind in {f.type for f in checker.check(text).counted}


def test_age_over_89_is_an_error_exact_age_a_warning(checker):
    over = checker.check("Discharged a 94yo today.")
    assert any(f.type == "AGE" and f.severity == "error" for f in over.findings)
    exact = checker.check("Discharged a 64yo.")
    assert [f.severity for f in exact.findings if f.type == "AGE"] == ["warning"]


def test_offsets_are_python_string_offsets(checker):
    text = "😷 Admitted 🚑 a 71yo from Cobb Hollow last night, his wife Doreen stayed. 🙏"
    report = checker.check(text)
    assert report.findings
    for finding in report.findings:
        assert text[finding.start:finding.end] == finding.text


def test_report_json_has_the_documented_keys(checker):
    data = checker.check("Admitted a 71yo last night.").to_dict()
    assert set(data) >= {"verdict", "findings", "redacted"}
    for finding in data["findings"]:
        assert set(finding) >= {"rule", "category", "type", "start", "end", "text", "severity", "message", "suggestion"}
        assert finding["category"] in {"identifier", "timeline", "venting", "conduct"}
        assert finding["severity"] in {"info", "warning", "error"}


def test_verdict_follows_the_worst_counted_severity(checker):
    assert checker.check("Sepsis bundles save lives. Reassess after each liter.").verdict == "ok"
    assert checker.check("Admitted a 64yo with sepsis.").verdict == "review"
    assert checker.check("Admitted Mr. Castellanos with sepsis.").verdict == "block"


def test_redacted_replaces_identifiers_and_keeps_the_rest(checker):
    report = checker.check("Mrs. Pennington, 93yo, asked for her cat. Sweetest patient.")
    assert "Pennington" not in report.redacted and "93" not in report.redacted
    assert "asked for her cat" in report.redacted


def test_check_many_matches_check(checker):
    texts = ["Admitted a 71yo last night.", "Kawasaki disease: think coronary aneurysms.", "Mr. Ambrose says hi."]
    batch = [r.to_dict() for r in checker.check_many(texts)]
    assert batch == [checker.check(t).to_dict() for t in texts]


def test_combined_quasi_identifiers_block_without_a_name(checker):
    report = checker.check(
        "Admitted a pregnant teacher from Fenwick Harbor with Takayasu arteritis last night. Wild case."
    )
    assert report.risk.level == "high"
    assert report.verdict == "block"
    assert {"sex", "place", "time", "condition"} <= set(report.risk.quasi_identifiers)


def test_two_quasi_identifiers_raise_severity_to_review(checker):
    report = checker.check("Saw a patient in her 40s this week, lovely conversation about gardening.")
    assert report.risk.level == "medium"
    assert report.verdict == "review"


def test_one_quasi_identifier_alone_is_low_risk(checker):
    report = checker.check("A patient in her 40s taught me to slow down and listen.")
    assert report.risk.level == "low"
    assert report.verdict == "ok"


def test_a_name_before_a_verb_like_signed_is_still_a_name(checker):
    text = "Admitted Gregory Haverford with a GI bleed. Gregory Haverford signed the consent himself."
    names = [f for f in checker.check(text).findings if f.type == "PERSON"]
    assert len(names) == 2
