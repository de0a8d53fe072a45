"""Ingest stage: a round folder becomes the units table (stage.py has the order of steps).

    decode.py      bytes -> text (UTF-8/16/32, Big5), or an error naming the file and line
    readers/       a registry of readers, one module per format family -> Document
    manifest.py    round.yaml, or the folder's files as sessions
    turns.py       speaker turns and analysis units (turn / sentence / window)
    speakers.py    roles: chair and officials from the manifest or inferred with evidence
    procedural.py  greetings, hand-offs, logistics... (not analysed)
    normalize.py   width, whitespace, script conversion
    redact.py      contact details, national ids, names -> placeholders and pseudonyms
"""

from pipeline.ingest.stage import UNIT_COLUMNS, IngestResult, check_unit_ids, ingest_round

__all__ = ["UNIT_COLUMNS", "IngestResult", "check_unit_ids", "ingest_round"]
