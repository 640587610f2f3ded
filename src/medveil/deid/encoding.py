"""The encoding a dataset's elements were really read in.

Some writers declare an explicit VR transfer syntax and write implicit VR.
pydicom notices, reads such elements as written (raw, without a VR) and still
records the declared encoding as the dataset's. Code that copies raw bytes or
writes raw elements must know the real one.

    >>> from pydicom import Dataset
    >>> ds = Dataset()
    >>> ds.set_original_encoding(False, True)
    >>> read_encoding(ds)        # nothing raw: the recorded encoding stands
    (False, True)
"""

from __future__ import annotations

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset


def read_encoding(ds: Dataset) -> tuple[bool | None, bool | None]:
    """(implicit VR, little endian) of the first raw element, else as recorded."""
    first = next((e for e in ds._dict.values() if isinstance(e, RawDataElement)), None)
    if first is None:
        return ds.original_encoding
    return first.is_implicit_VR, first.is_little_endian
