"""Finding the tile again in a leaked copy: whitening, period estimation, folding.

A leaked copy may have been windowed, rescaled and cropped, so the detector
knows neither the tile's size in pixels nor its phase. It

1. whitens the image: a band-pass keeps the mark's frequencies and dividing
   by the local contrast removes the host image's own structure and makes the
   statistics independent of brightness, contrast and windowing;
2. takes the period the embedder would have used at the copy's own size
   (right for any copy that was not rescaled) and measures further candidates
   from the autocorrelation, where the repeated tile leaves a square lattice
   of peaks; the power spectrum is whitened and capped first, so that the
   mark's many weak lines outweigh the few strong ones of the host (edges,
   text rows, JPEG blocks). Neither needs the key, so trying these four
   periods costs the false-positive bound only a factor of four;
3. resamples the whitened image so that one period is exactly ``2 * TILE``
   samples and folds (sums) all periods onto one tile, which adds the mark up
   coherently while the host averages out.

The phase of the folded tile is then found by the detector with the key.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from medveil.watermark.embed import chip_size
from medveil.watermark.tile import TILE

FloatImage = npt.NDArray[np.float32]

#: The detector works at (at most) this many pixels on the short side.
WORK_SIDE = 1024
#: Samples per chip in the folded tile.
OVERSAMPLE = 2
FOLDED = OVERSAMPLE * TILE
#: Range of chip sizes (pixels at working resolution) the period search covers.
MIN_CHIP, MAX_CHIP = 1.0, 4.5
#: Number of period hypotheses handed to the detector.
CANDIDATES = 3
#: Whitening of the power spectrum before the autocorrelation: smoothing width
#: (frequency bins), cap on a line's whitened power, bins left out around each axis.
SPECTRUM_SMOOTHING, LINE_CAP, AXIS_BINS = 3.0, 4.0, 1


def _work_factor(shape: tuple[int, int]) -> float:
    """How much the detector shrinks an image of ``shape`` before working on it."""
    factor = min(shape) / WORK_SIDE
    return factor if factor > 1.05 else 1.0


def _smooth(image: FloatImage, step: int, sigma: float = 0.0) -> FloatImage:
    """A cheap wide low-pass: shrink by ``step`` (area mean), optionally blur, enlarge back."""
    height, width = image.shape
    small = cv2.resize(
        image, (max(1, width // step), max(1, height // step)), interpolation=cv2.INTER_AREA
    )
    if sigma:
        small = cv2.GaussianBlur(small, (0, 0), sigma)
    return np.asarray(
        cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.float32
    )


def whiten(lum: FloatImage) -> FloatImage:
    """Band-passed, contrast-normalised image at working resolution."""
    height, width = lum.shape
    factor = _work_factor((height, width))
    if factor > 1.0:
        size = (round(width / factor), round(height / factor))
        lum = np.asarray(cv2.resize(lum, size, interpolation=cv2.INTER_AREA), dtype=np.float32)
    band = cv2.GaussianBlur(lum, (0, 0), 0.7) - _smooth(lum, 4, 0.5)
    local = np.sqrt(np.maximum(_smooth(band * band, 2, 1.0), 0.0))
    floor = 0.1 * float(local.mean()) + 1e-6
    return np.clip(band / (local + floor), -2.0, 2.0)


def _autocorrelation(white: FloatImage) -> FloatImage:
    """Circular autocorrelation of ``white``, each lag divided by its overlap area."""
    height, width = white.shape
    rows, cols = cv2.getOptimalDFTSize(height), cv2.getOptimalDFTSize(width)
    padded = np.zeros((rows, cols), np.float32)
    padded[:height, :width] = white
    spectrum = cv2.dft(padded, flags=cv2.DFT_COMPLEX_OUTPUT)
    power = cv2.magnitude(spectrum[..., 0], spectrum[..., 1]) ** 2
    # Whiten the power spectrum: divide by its local average (so the host's
    # smooth spectrum is flat and the tile's lattice of lines stands out) and
    # cap it, so a few strong host lines (edges of boxes and text rows, JPEG
    # blocks) cannot outweigh the many weak lines of the mark. The two axes
    # carry mostly the host's straight edges and are left out.
    shifted = np.fft.fftshift(power)
    smooth = cv2.GaussianBlur(shifted, (0, 0), SPECTRUM_SMOOTHING)
    ratio = np.fft.ifftshift(np.minimum(shifted / (smooth + 1e-12), LINE_CAP))
    ratio[: AXIS_BINS + 1] = 0.0
    ratio[-AXIS_BINS:] = 0.0
    ratio[:, : AXIS_BINS + 1] = 0.0
    ratio[:, -AXIS_BINS:] = 0.0
    ratio[ratio > 0] -= float(ratio[ratio > 0].mean())
    complex_ratio = np.zeros((rows, cols, 2), np.float32)
    complex_ratio[..., 0] = ratio
    auto = cv2.dft(complex_ratio, flags=cv2.DFT_INVERSE | cv2.DFT_REAL_OUTPUT)
    lag_rows = np.minimum(np.arange(rows), rows - np.arange(rows))
    lag_cols = np.minimum(np.arange(cols), cols - np.arange(cols))
    overlap = np.outer(np.maximum(height - lag_rows, 1), np.maximum(width - lag_cols, 1))
    return (auto / overlap.astype(np.float32)).astype(np.float32)


def _lattice_scores(
    auto: FloatImage, periods: npt.NDArray[np.float64], reach: tuple[int, int]
) -> npt.NDArray[np.float64]:
    """Matched score of the square lattice of autocorrelation peaks for each period.

    A tile repeated with period P leaves a peak at every lag (k P, l P); the
    score sums the (bilinearly interpolated) autocorrelation over the lattice
    points within ``reach`` and divides by the square root of their number, so
    that neither half nor double the true period scores as well as the period.
    """
    shortest = float(periods.min())
    ks = np.arange(0, int(reach[0] // shortest) + 1)
    ls = np.arange(-int(reach[1] // shortest), int(reach[1] // shortest) + 1)
    grid_k, grid_l = (g.ravel() for g in np.meshgrid(ks, ls, indexing="ij"))
    half_plane = (grid_k > 0) | (grid_l > 0)
    grid_k, grid_l = grid_k[half_plane], grid_l[half_plane]
    all_y, all_x = np.outer(periods, grid_k), np.outer(periods, grid_l)
    inside = (all_y <= reach[0]) & (np.abs(all_x) <= reach[1])
    y, x = all_y[inside], all_x[inside]
    owner = np.nonzero(inside)[0]
    rows, cols = auto.shape
    y0, x0 = np.floor(y).astype(np.int64), np.floor(x).astype(np.int64)
    fy, fx = y - y0, x - x0
    top, bottom = y0 % rows, (y0 + 1) % rows
    left, right = x0 % cols, (x0 + 1) % cols
    value = (auto[top, left] * (1 - fx) + auto[top, right] * fx) * (1 - fy) + (
        auto[bottom, left] * (1 - fx) + auto[bottom, right] * fx
    ) * fy
    sums = np.bincount(owner, weights=value, minlength=len(periods))
    counts = np.bincount(owner, minlength=len(periods))
    return np.asarray(sums / np.sqrt(np.maximum(counts, 1)), dtype=np.float64)


def native_period(shape: tuple[int, int]) -> float:
    """The tile period (working-resolution pixels) of an image marked at ``shape`` and not rescaled.

    A leaked copy at its original size (re-encoded, windowed, cropped) keeps
    the embedder's period exactly; on small, strongly textured images this
    hypothesis finds the mark when the autocorrelation is too weak to.
    """
    return TILE * chip_size(*shape) / _work_factor(shape)


def estimate_periods(white: FloatImage) -> list[float]:
    """Key-free hypotheses for the tile period in pixels (same on both axes), best first.

    The autocorrelation is computed at half resolution (a chip still spans
    about one sample there), which is four times cheaper and loses little of
    the mark's mid-frequency energy.
    """
    height, width = white.shape
    half = cv2.resize(white, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    auto = _autocorrelation(np.asarray(half, dtype=np.float32))
    reach = (half.shape[0] // 2, half.shape[1] // 2)
    longest = min(TILE * MAX_CHIP / 2, max(reach) - 1.0)
    coarse = np.arange(TILE * MIN_CHIP / 2, longest, 0.125)
    if coarse.size == 0:  # too small to hold even one period
        return []
    scores = _lattice_scores(auto, coarse, reach)
    peaks = [i for i in range(len(scores)) if scores[i] == scores[max(0, i - 8) : i + 9].max()]
    refined = []
    for i in sorted(peaks, key=lambda i: -scores[i])[:CANDIDATES]:
        fine = np.arange(coarse[i] - 0.15, coarse[i] + 0.15, 0.005)
        refined.append(2 * float(fine[np.argmax(_lattice_scores(auto, fine, reach))]))
    return refined


def fold(white: FloatImage, period: float) -> npt.NDArray[np.float64]:
    """Resample so one period is ``FOLDED`` samples, then sum all periods onto one tile."""
    scale = FOLDED / period
    method = cv2.INTER_AREA if scale < 0.7 else cv2.INTER_LINEAR
    resampled = cv2.resize(white, (0, 0), fx=scale, fy=scale, interpolation=method)
    height, width = resampled.shape
    rows, cols = -(-height // FOLDED), -(-width // FOLDED)
    padded = np.zeros((rows * FOLDED, cols * FOLDED), np.float64)
    padded[:height, :width] = resampled
    return padded.reshape(rows, FOLDED, cols, FOLDED).sum(axis=(0, 2))
