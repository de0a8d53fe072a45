"""Stance of each analysed unit (proposal, concern, support, opposition, question, statement)
and the proposals list built from it (docs/stance.md)."""
