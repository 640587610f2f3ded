"""Clean Graphics: PHI in the text annotations of presentation states.

Grayscale/colour softcopy presentation states carry annotation text in
GraphicAnnotationSequence > TextObjectSequence > UnformattedTextValue
(a technologist's "J. Smith 3/5" note). Under the Clean Graphics option
(113103) that text is scrubbed with the header lexicon rather than deleted,
so non-identifying annotations (arrows' labels, measurements) survive.
Sequences are searched at any depth: some objects nest annotations in
per-frame or referenced-series items.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

from medveil.deid.text import PhiLexicon


def clean_graphics(dataset: Dataset, phi: PhiLexicon) -> int:
    """Scrub every annotation text value in place; return how many changed."""
    changed = 0
    for annotation in _annotations(dataset):
        for text_object in annotation.get("TextObjectSequence", []):
            value = text_object.get("UnformattedTextValue")
            if not value:
                continue
            scrubbed = phi.scrub(str(value))
            if scrubbed != value:
                text_object.UnformattedTextValue = scrubbed
                changed += 1
    return changed


def _annotations(dataset: Dataset) -> list[Dataset]:
    """Items of every GraphicAnnotationSequence, at any nesting depth."""
    found: list[Dataset] = []
    for element in dataset:
        if element.VR != "SQ":
            continue
        if element.keyword == "GraphicAnnotationSequence":
            found.extend(element.value)
        for item in element.value:
            found.extend(_annotations(item))
    return found
