"""Reading the mark: phase search on the folded tile, confidence, payload decoding.

Confidence is a bound on the false-positive probability, not a heuristic. For
one fixed tile phase, the pilot statistic ``z = <pilot, a> / |a|`` of an image
that does not carry this key's pilot is a sum of independent random signs
(the key's pilot chips) weighted by values that do not depend on the key, so
Hoeffding's inequality gives ``P(|z| >= t) <= 2 exp(-t^2 / 2)`` whatever the
image. The detector tries every phase of every period hypothesis under each
prewhitening, so the reported bound is that number times larger (union
bound). A payload is only reported when this bound is at most
:data:`FALSE_POSITIVE_LIMIT` *and* the decoded payload passes its CRC-16.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from medveil.watermark import ecc
from medveil.watermark.sync import (
    CANDIDATES,
    FOLDED,
    OVERSAMPLE,
    estimate_periods,
    fold,
    native_period,
    whiten,
)
from medveil.watermark.tile import MESSAGE_BITS, KeyedTile

#: A detection is reported only when the false-positive bound is at most this.
FALSE_POSITIVE_LIMIT = 1e-6
#: Images smaller than this (short side, pixels) cannot hold two tile periods.
MIN_TRACE_SIDE = 64
#: Pilot hypotheses per period: every phase of the folded tile (|z| covers both polarities).
PHASES = FOLDED * FOLDED
#: Width (frequency bins) of the smoothing that estimates the host's spectrum in the folded tile.
SPECTRUM_SMOOTHING = 2.0
#: Exponents of that spectrum the folded tile is divided by: 2 is the matched
#: filter when the host dominates (speckle), 1 flattens the spectrum and wins
#: where the mark itself dominates some frequencies (a mark of a smooth
#: radiograph after resizing and JPEG), 1.5 lies between. All are tried; the
#: bound counts all.
PREWHITEN_POWERS = (1.0, 1.5, 2.0)


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

    ``periods`` is the number of hypotheses besides the phase that the detector
    may try: period candidates times prewhitening exponents.
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


def _smoothing_spectrum() -> npt.NDArray[np.complex128]:
    """Transfer function of a circular Gaussian blur (``SPECTRUM_SMOOTHING`` bins) on the tile."""
    offsets = np.fft.fftfreq(FOLDED) * FOLDED
    kernel = np.exp(-0.5 * (offsets / SPECTRUM_SMOOTHING) ** 2)
    return np.fft.fft2(np.outer(kernel, kernel) / kernel.sum() ** 2)


_SMOOTHING = _smoothing_spectrum()


def prewhiten(spectrum: npt.NDArray[np.complex128], exponent: float) -> npt.NDArray[np.complex128]:
    """``spectrum`` (of a folded tile) over a smoothed estimate of its power ** (exponent / 2).

    The folded host is (nearly) stationary noise whose spectrum is far from
    flat (speckle, tissue texture, JPEG). Dividing by its power spectrum
    (``exponent=2``) makes the pilot correlation the matched filter for that
    noise instead of for white noise. The estimate comes from the image alone,
    so the statistic stays key-independent and the bound holds.
    """
    power = np.fft.ifft2(np.fft.fft2(np.abs(spectrum) ** 2) * _SMOOTHING).real
    floor = 1e-9 * float(power.max()) + 1e-30
    return np.asarray(spectrum / np.maximum(power, floor) ** (exponent / 2), dtype=np.complex128)


class Detector:
    """Detects and decodes marks made with one key."""

    def __init__(self, key: bytes) -> None:
        self._tile = KeyedTile.from_key(key)
        self._pilot_spectrum = np.conj(np.fft.fft2(_upsample_pilot(self._tile.pilot)))

    def _lock(
        self, white: npt.NDArray[np.float32], period: float
    ) -> list[tuple[float, npt.NDArray[np.float64]]]:
        """Pilot z and chip values at the best tile phase for one period, per prewhitening.

        Sorted by decreasing ``|z|``.
        """
        raw = np.fft.fft2(fold(white, period))
        locks = []
        for exponent in PREWHITEN_POWERS:
            spectrum = prewhiten(raw, exponent)
            correlation = np.fft.ifft2(spectrum * self._pilot_spectrum).real
            row, col = np.unravel_index(int(np.argmax(np.abs(correlation))), correlation.shape)
            folded = np.fft.ifft2(spectrum).real
            chips = _chip_values(np.roll(folded, (-int(row), -int(col)), axis=(0, 1)))
            norm = float(np.linalg.norm(chips)) or 1.0
            locks.append((float((self._tile.pilot * chips).sum()) / norm, chips))
        return sorted(locks, key=lambda lock: -abs(lock[0]))

    def _decode(self, chips: npt.NDArray[np.float64]) -> int | None:
        """The payload carried by ``chips`` (pilot polarity positive); None if the CRC fails."""
        pilot = self._tile.pilot
        data = chips - (pilot * chips).sum() / pilot.size * pilot
        return KeyedTile.check(ecc.viterbi(self._tile.soft_symbols(data), MESSAGE_BITS))

    def read_back(self, lum: npt.NDArray[np.float32]) -> float:
        """Pilot |z| of an image at its own size, at the embedder's period (no search).

        The embedder uses it to check how well a frame it just marked can be read.
        """
        locks = self._lock(whiten(lum), native_period((lum.shape[0], lum.shape[1])))
        return abs(locks[0][0])

    def detect(self, lum: npt.NDArray[np.float32]) -> Detection:
        """Search ``lum`` (grey levels, any scale) for this key's mark."""
        if min(lum.shape) < MIN_TRACE_SIDE:
            return Detection(None, 0.0, 1.0, 0.0, inverted=False)
        white = whiten(lum)
        # The period at the image's own size first (a copy that was not
        # rescaled), then the key-free estimates; the bound always counts all.
        hypotheses = (1 + CANDIDATES) * len(PREWHITEN_POWERS)

        def periods() -> Iterator[float]:
            yield native_period((lum.shape[0], lum.shape[1]))
            yield from estimate_periods(white)

        best: tuple[float, float] | None = None
        readings: list[tuple[float, npt.NDArray[np.float64]]] = []
        for period in periods():
            locks = self._lock(white, period)
            if best is None or abs(locks[0][0]) > abs(best[0]):
                best = (locks[0][0], period)
            if false_positive_bound(locks[0][0], hypotheses) <= FALSE_POSITIVE_LIMIT:
                readings = [
                    lock
                    for lock in locks
                    if false_positive_bound(lock[0], hypotheses) <= FALSE_POSITIVE_LIMIT
                ]
                break
        if best is None:
            return Detection(None, 0.0, 1.0, 0.0, inverted=False)
        z_score, period = best
        # Every prewhitening whose pilot passes gets a decoding attempt (the
        # best-matched one is not always the one whose payload is cleanest);
        # each attempt lets a random payload through the CRC with 2**-16.
        export_id = None
        for reading, chips in readings:
            export_id = self._decode(-chips if reading < 0 else chips)
            if export_id is not None:
                break
        bound = false_positive_bound(z_score, hypotheses)
        return Detection(export_id, abs(z_score), bound, period, inverted=z_score < 0)


__all__ = ["FALSE_POSITIVE_LIMIT", "Detection", "Detector", "false_positive_bound"]
