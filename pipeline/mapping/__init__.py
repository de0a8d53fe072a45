"""The mapping stage: units and themes → the strategy framework (docs/mapping.md).

framework.py  the framework file (areas, JT dimensions, focuses), parsed and validated
model.py      the learned prototype mapper and its shipped artefact
stage.py      scoring units, aggregating themes, the strategy matrix and area summaries

Nothing is imported here: curation reads the framework module without loading the stage.
"""
