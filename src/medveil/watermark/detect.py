"""Reading the mark: phase search on the folded tile, confidence, payload decoding.

Confidence is a bound on the false-positive probability, not a heuristic. For
one fixed tile phase, the pilot statistic ``z = <pilot, a> / |a|`` of an image
that does not carry this key's pilot is a sum of independent random signs
(the key's pilot chips) weighted by values that do not depend on the key, so
Hoeffding's inequality gives ``P(|z| >= t) <= 2 exp(-t^2 / 2)`` whatever the
image. The detector tries every phase of every period hypothesis, so the
reported bound is that number times larger (union bound). A payload is only
reported when this bound is at most :data:`FALSE_POSITIVE_LIMIT` *and* the
decoded payload passes its CRC-16.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from medveil.watermark import ecc
from medveil.watermark.sync import (
    FOLDED,
    OVERSAMPLE,
    estimate_periods,
    fold,
    whiten,
)
from medveil.watermark.tile import MESSAGE_BITS, KeyedTile

#: A detection is reported only when the false-positive bound is at most this.
FALSE_POSITIVE_LIMIT = 1e-6
#: Images smaller than this (short side, pixels) cannot hold two tile periods.
MIN_TRACE_SIDE = 64
#: Pilot hypotheses per period: every phase of the folded tile (|z| covers both polarities).
PHASES = FOLDED * FOLDED


@dataclass(frozen=True)
class Detection:
    """What the detector found in one image."""

    export_id: int | None
    z_score: float
    false_positive: float
    period: float
    inverted: bool

    @property
    def found(self) -> bool:
        """True when a payload was decoded with a false-positive bound under the limit."""
        return self.export_id is not None

    @property
    def present(self) -> bool:
        """True when this key's pilot is there, even if the payload did not decode.

        A present but unreadable mark typically means several differently
        marked copies were combined (averaged), or the copy was degraded just
        past what the payload code corrects.
        """
        return self.false_positive <= FALSE_POSITIVE_LIMIT


def false_positive_bound(z_score: float, periods: int) -> float:
    """Bound on the chance that an image without this key's mark scores ``|z| >= z_score``.

    ``periods`` is the number of period hypotheses the detector may try.
    """
    return min(1.0, periods * PHASES * 2.0 * math.exp(-0.5 * z_score * z_score))


def _upsample_pilot(pilot: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The pilot as it appears in the folded tile: linear interpolation, ``OVERSAMPLE`` x."""
    tiled = np.tile(pilot.astype(np.float32), (3, 3))
    big = cv2.resize(tiled, None, fx=OVERSAMPLE, fy=OVERSAMPLE, interpolation=cv2.INTER_LINEAR)
    return big[FOLDED : 2 * FOLDED, FOLDED : 2 * FOLDED].astype(np.float64)


def _chip_values(tile: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Adjoint of the 2x linear upsampling: the matched-filter value of every chip."""
    for axis in (0, 1):
        even = np.take(tile, np.arange(0, FOLDED, 2), axis=axis)
        odd = np.take(tile, np.arange(1, FOLDED, 2), axis=axis)
        before = np.take(np.roll(tile, 1, axis=axis), np.arange(0, FOLDED, 2), axis=axis)
        after = np.take(np.roll(tile, -1, axis=axis), np.arange(1, FOLDED, 2), axis=axis)
        tile = 0.75 * (even + odd) + 0.25 * (before + after)
    return tile


class Detector:
    """Detects and decodes marks made with one key."""

    def __init__(self, key: bytes) -> None:
        self._tile = KeyedTile.from_key(key)
        self._pilot_spectrum = np.conj(np.fft.fft2(_upsample_pilot(self._tile.pilot)))

    def _lock(
        self, white: npt.NDArray[np.float32], period: float
    ) -> tuple[float, npt.NDArray[np.float64]]:
        """Pilot z and chip values at the best tile phase for one period hypothesis."""
        folded = fold(white, period)
        correlation = np.fft.ifft2(np.fft.fft2(folded) * self._pilot_spectrum).real
        row, col = np.unravel_index(int(np.argmax(np.abs(correlation))), correlation.shape)
        chips = _chip_values(np.roll(folded, (-int(row), -int(col)), axis=(0, 1)))
        norm = float(np.linalg.norm(chips)) or 1.0
        return float((self._tile.pilot * chips).sum()) / norm, chips

    def _decode(self, chips: npt.NDArray[np.float64]) -> int | None:
        """The payload carried by ``chips`` (pilot polarity positive); None if the CRC fails."""
        pilot = self._tile.pilot
        data = chips - (pilot * chips).sum() / pilot.size * pilot
        return KeyedTile.check(ecc.viterbi(self._tile.soft_symbols(data), MESSAGE_BITS))

    def detect(self, lum: npt.NDArray[np.float32]) -> Detection:
        """Search ``lum`` (grey levels, any scale) for this key's mark."""
        if min(lum.shape) < MIN_TRACE_SIDE:
            return Detection(None, 0.0, 1.0, 0.0, inverted=False)
        white = whiten(lum)
        periods = estimate_periods(white)
        best: tuple[float, npt.NDArray[np.float64], float] | None = None
        for period in periods:
            z_score, chips = self._lock(white, period)
            if best is None or abs(z_score) > abs(best[0]):
                best = (z_score, chips, period)
            if false_positive_bound(z_score, len(periods)) <= FALSE_POSITIVE_LIMIT:
                break
        if best is None:
            return Detection(None, 0.0, 1.0, 0.0, inverted=False)
        z_score, chips, period = best
        bound = false_positive_bound(z_score, len(periods))
        inverted = z_score < 0
        found = bound <= FALSE_POSITIVE_LIMIT
        export_id = self._decode(-chips if inverted else chips) if found else None
        return Detection(export_id, abs(z_score), bound, period, inverted)


__all__ = ["FALSE_POSITIVE_LIMIT", "Detection", "Detector", "false_positive_bound"]
