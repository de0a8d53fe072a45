"""The mapping stage: units and themes → the strategy framework (docs/mapping.md).

framework.py      the framework file (areas, JT dimensions, focuses), parsed and validated
stage.py          map_round: what the runner calls
mapper.py         the framework embedded and indexed once; each unit's scores (rules or learned)
vectors.py        embedding units and framework passages; keywords.py  keyword evidence
zero_shot.py      optional local zero-shot model as extra evidence
unit_scores.py    the unit_areas table; theme_mapping.py  themes onto areas, gaps, curation
summaries.py      strategy matrix, per-area summaries with focus distributions
The learned mapper:
examples.py, pathway.py, offtopic.py, training_data.py   labelled and weakly labelled texts
prototypes.py     one facet's prototype model; bundle.py  texts with vectors and keywords
learned.py        the three facet models, training; calibration.py  calibration and decisions
prior.py          round-level prior adaptation; crossval.py  grouped cross-validation
context.py        conversational context: a unit's neighbouring units (a measured option, off)
artefact.py       the shipped artefact, saved, loaded and rebuilt

Nothing is imported here: curation reads the framework module without loading the stage.
"""
