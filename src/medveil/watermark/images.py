"""Reading and writing the images the watermark works on: DICOM, PNG and JPEG.

A :class:`Picture` holds the stored pixel values of every frame and the range
they may take (``BitsStored`` for DICOM, the sample type for PNG/JPEG), so a
marked frame is clipped exactly where the original format would clip it. DICOM
output keeps every header element and only replaces the pixel data (written
uncompressed so the mark is not lost again); YBR colour is decoded to RGB.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.dataset import Dataset
from pydicom.misc import is_dicom
from pydicom.uid import ExplicitVRLittleEndian

Frames = npt.NDArray[np.generic]
JPEG_QUALITY = 95
_IMAGE_SUFFIXES = {".png": ".png", ".jpg": ".jpg", ".jpeg": ".jpg"}


@dataclass(frozen=True)
class Picture:
    """Pixel frames, shape (F, H, W) or (F, H, W, 3) RGB, with their valid range."""

    frames: Frames
    low: float
    high: float
    dataset: Dataset | None = None
    alpha: npt.NDArray[np.generic] | None = None

    @property
    def instance_uids(self) -> tuple[str, ...]:
        """The SOP Instance UID of a DICOM picture (empty for plain images)."""
        uid = self.dataset.get("SOPInstanceUID") if self.dataset is not None else None
        return (str(uid),) if uid else ()

    @property
    def peak(self) -> float:
        """Largest representable value span: the PSNR peak on the full bit depth."""
        return self.high - self.low


def read_picture(path: Path) -> Picture:
    """Load a DICOM, PNG or JPEG file; raises ValueError for anything else."""
    if is_dicom(path):
        return _read_dicom(path)
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"{path} is not a DICOM, PNG or JPEG image")
    alpha = None
    if image.ndim == 3 and image.shape[2] == 4:
        alpha = image[..., 3].copy()
        image = image[..., :3]
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    info = np.iinfo(image.dtype.type)  # type: ignore[type-var]
    return Picture(image[None], float(info.min), float(info.max), alpha=alpha)


def _read_dicom(path: Path) -> Picture:
    dataset = pydicom.dcmread(path)
    if "PixelData" not in dataset:
        raise ValueError(f"{path} has no pixel data")
    if dataset.get("PhotometricInterpretation") == "PALETTE COLOR":
        # The stored values are palette indices, not grey levels: a mark added
        # to them would scramble colours instead of hiding in luminance.
        raise ValueError(f"{path}: PALETTE COLOR images are not supported; convert to RGB")
    pixels = dataset.pixel_array
    frames_in_file = int(dataset.get("NumberOfFrames", 1) or 1)
    if frames_in_file == 1:
        pixels = pixels[None]
    if pixels.dtype.kind == "f":
        raise ValueError(f"{path}: float pixel data cannot be watermarked")
    bits = int(dataset.BitsStored)
    if int(dataset.get("PixelRepresentation", 0)) == 1:
        low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    else:
        low, high = 0, (1 << bits) - 1
    return Picture(pixels, float(low), float(high), dataset=dataset)


def encode_picture(picture: Picture, frames: Frames, path: Path) -> bytes:
    """``frames`` encoded in the format ``path``'s suffix names (DICOM for DICOM input)."""
    suffix = _IMAGE_SUFFIXES.get(path.suffix.lower())
    if suffix is None and picture.dataset is None:
        raise ValueError(f"cannot tell the image format of {path} (use .png or .jpg)")
    if suffix is None:
        return _dicom_bytes(picture, frames)
    return _image_bytes(picture, frames, suffix)


def _image_bytes(picture: Picture, frames: Frames, suffix: str) -> bytes:
    if len(frames) != 1:
        raise ValueError("a multi-frame image can only be written as DICOM")
    image = frames[0]
    if image.dtype not in (np.uint8, np.uint16):
        image = np.clip(image, 0, 65535).astype(np.uint16)
    if suffix == ".jpg" and image.dtype != np.uint8:
        raise ValueError("JPEG holds 8 bits only; write a 16-bit image as PNG or DICOM")
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        if picture.alpha is not None:
            image = np.dstack([image, picture.alpha])
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if suffix == ".jpg" else []
    ok, encoded = cv2.imencode(suffix, image, params)
    if not ok:
        raise ValueError(f"could not encode the image as {suffix}")
    return encoded.tobytes()


def _dicom_bytes(picture: Picture, frames: Frames) -> bytes:
    if picture.dataset is None:
        raise ValueError("only a DICOM input can be written as DICOM")
    dataset = picture.dataset.copy()
    colour = frames.ndim == 4
    if colour:
        dataset.PhotometricInterpretation = "RGB"
        dataset.PlanarConfiguration = 0
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.PixelData = (
        np.ascontiguousarray(frames).astype(frames.dtype.newbyteorder("<")).tobytes()
    )
    dataset["PixelData"].VR = "OB" if int(dataset.BitsAllocated) <= 8 else "OW"
    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
