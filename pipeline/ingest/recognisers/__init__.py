"""Recognisers of personal data, applied by redact.py: patterns (contact details, ID, card
and account numbers, social IDs, addresses), person names mentioned in passing, and the
name lexicon they share."""

from pipeline.ingest.recognisers.patterns import RECOGNISERS, TAGS, Recogniser, apply, luhn_ok

__all__ = ["RECOGNISERS", "TAGS", "Recogniser", "apply", "luhn_ok"]
