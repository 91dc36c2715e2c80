"""Speed-only code: each module computes exactly what a stock spaCy or Presidio part computes, faster.

Nothing here decides a result. Each module is paired with an equivalence test in tests/fast/ that
compares it with the stock part on many inputs; a speed-up that changes a single result is a bug.
The swapped components are applied at run time (pipeline.py) and never written into the spaCy
pipeline, so `nlp.to_disk` and `spacy.load` work and a trained component can be added beside them.
"""
