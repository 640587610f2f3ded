"""The keyed tile: the small periodic pattern that carries the payload.

The mark is one T x T tile of "chips" repeated over the whole image, so any
crop still holds many complete periods and a detector only has to find the
tile's phase. Each chip is the sum of two keyed layers:

* a *pilot* (+1/-1 per chip) that is the same for every export; the detector
  locks onto it to find the tile's phase and to measure how sure it is;
* a *data* layer: each chip is a keyed +1/-1 spreading value times one of the
  convolutionally coded payload bits, assigned to chips by a keyed permutation
  so that every code bit is spread over chips all across the tile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from medveil.watermark import ecc
from medveil.watermark.keys import keyed_rng

#: Chips per tile side.
TILE = 32
#: Payload: a 32-bit export id, then a CRC-16 over it.
ID_BITS = 32
MESSAGE_BITS = ID_BITS + ecc.CRC_BITS
CODED_BITS = ecc.coded_length(MESSAGE_BITS)
#: Share of the mark's energy given to the pilot (the rest carries data).
PILOT_SHARE = 0.4


@dataclass(frozen=True)
class KeyedTile:
    """The keyed patterns of one watermark key (all arrays are TILE x TILE)."""

    pilot: npt.NDArray[np.float64]
    spreading: npt.NDArray[np.float64]
    assignment: npt.NDArray[np.int64]

    @classmethod
    def from_key(cls, key: bytes) -> KeyedTile:
        """Derive the pilot, the spreading values and the chip-to-code-bit map from ``key``."""
        shape = (TILE, TILE)
        pilot = keyed_rng(key, "pilot").choice([-1.0, 1.0], size=shape)
        spreading = keyed_rng(key, "spreading").choice([-1.0, 1.0], size=shape)
        order = keyed_rng(key, "assignment").permutation(TILE * TILE)
        assignment = (order % CODED_BITS).reshape(shape)
        return cls(pilot=pilot, spreading=spreading, assignment=assignment)

    def chips(self, export_id: int) -> npt.NDArray[np.float64]:
        """The tile for ``export_id``, with unit mean power."""
        if not 0 <= export_id < 1 << ID_BITS:
            raise ValueError(f"export id {export_id} does not fit in {ID_BITS} bits")
        message = ecc.to_bits(export_id, ID_BITS)
        crc = ecc.to_bits(ecc.crc16(export_id.to_bytes(4, "big")), ecc.CRC_BITS)
        symbols = ecc.encode(np.concatenate([message, crc]))
        data = self.spreading * symbols[self.assignment]
        return np.sqrt(PILOT_SHARE) * self.pilot + np.sqrt(1 - PILOT_SHARE) * data

    def soft_symbols(self, chips: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Per-code-symbol soft values from received chip values (pilot already removed)."""
        sums = np.bincount(
            self.assignment.ravel(), weights=(self.spreading * chips).ravel(), minlength=CODED_BITS
        )
        return np.asarray(sums, dtype=np.float64)

    @staticmethod
    def check(bits: npt.NDArray[np.int64]) -> int | None:
        """The export id carried by decoded ``bits``, or None when the CRC fails."""
        export_id = ecc.from_bits(bits[:ID_BITS])
        crc = ecc.from_bits(bits[ID_BITS:MESSAGE_BITS])
        return export_id if ecc.crc16(export_id.to_bytes(4, "big")) == crc else None
