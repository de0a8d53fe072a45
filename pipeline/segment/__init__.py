"""Segment: Traditional Chinese words for themes, keywords and the TF-IDF backend.

    segmenter.py    Segmenter (cutting, tokens for keywords) and get_segmenter (one per config)
    dictionary.py   the derived Traditional dictionary and jieba's prefix dictionary, cached
    conventions.py  the measured segmentation choices on top of the dictionary
"""

from pipeline.segment.conventions import DEFAULT_CONVENTIONS, Conventions
from pipeline.segment.segmenter import Segmenter, get_segmenter

__all__ = ["DEFAULT_CONVENTIONS", "Conventions", "Segmenter", "get_segmenter"]
