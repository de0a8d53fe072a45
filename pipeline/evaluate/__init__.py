"""`consult eval`: scores of the configured pipeline on labelled files, reusing the stages.

    clustering.py  NMI/ARI of themes against a label column
    procedural.py  the procedural-talk rules against labelled units

mapping.py: the strategy-mapping evaluation (grouped CV, ablation); baselines.py its keyword
and embedding baselines.
"""
