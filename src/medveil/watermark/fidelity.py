"""Fidelity of a marked image against its original: PSNR and SSIM on the full bit depth.

Both are computed on the stored values (not on an 8-bit rendering), so a
16-bit radiograph is judged on all of its grey levels. SSIM follows Wang et
al. 2004 (11x11 Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03); colour
images are compared on luminance.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from medveil.watermark.embed import luminance


def psnr(original: npt.NDArray[np.generic], marked: npt.NDArray[np.generic], peak: float) -> float:
    """Peak signal-to-noise ratio in dB (infinite for identical images)."""
    error = original.astype(np.float64) - marked.astype(np.float64)
    mse = float(np.mean(error * error))
    return math.inf if mse == 0 else 10 * math.log10(peak * peak / mse)


def ssim(
    original: npt.NDArray[np.generic], marked: npt.NDArray[np.generic], data_range: float
) -> float:
    """Mean structural similarity index of two images."""
    x = luminance(original).astype(np.float64)
    y = luminance(marked).astype(np.float64)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2

    def blur(image: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.asarray(cv2.GaussianBlur(image, (11, 11), 1.5), dtype=np.float64)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x * mu_x
    var_y = blur(y * y) - mu_y * mu_y
    cov = blur(x * y) - mu_x * mu_y
    index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    )
    return float(index.mean())
