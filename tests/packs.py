"""A rule an organisation could write (its unit names), for the tests that load rule packs."""

UNIT_RULE = """
  - id: {rule_id}
    category: identifier
    type: FACILITY
    severity: warning
    message: Unit name of our hospital
    why: Our unit names narrow a patient to a few beds.
    instead: Write "on a ward".
    reference: HIPAA Safe Harbor 45 CFR 164.514(b)(2)(i)(R)
    patterns:
      phrases: [Starling Ward, Heron Unit]
{extra}    examples:
      flag: ["Admitted a patient to Starling Ward with pneumonia."]
      pass: ["Starling Ward is hiring nurses."]
"""
