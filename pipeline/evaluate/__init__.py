"""`consult eval`: scores of the configured pipeline on labelled files, reusing the stages.

    clustering.py  NMI/ARI of themes against a label column
    procedural.py  the procedural-talk rules against labelled units

The mapping evaluation is still pipeline/eval_mapping.py (to move here with mapping/).
"""
