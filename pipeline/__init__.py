"""Consultation-feedback pipeline: ingest → segment → embed → themes → mapping → report."""

__version__ = "0.1.0"
