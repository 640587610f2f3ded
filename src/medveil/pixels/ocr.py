"""The OCR engine: PP-OCRv4 text detection and recognition through rapidocr.

One engine per process, created on first use (loading the two ONNX models
takes ~0.1 s; worker processes each pay it once). The models ship inside the
rapidocr_onnxruntime wheel, so nothing is downloaded at run time.

onnxruntime runs each model on :data:`THREADS` intra-op threads (default 1):
the batch runner parallelises over files with worker processes, and one
thread per model is the fastest layout for that (no oversubscription). Set
``MEDVEIL_OCR_THREADS`` to change it for single-file use.

The detector is fed crops chosen by :mod:`medveil.pixels.candidates`, each
scaled so its text lands at the height the model was trained for; rapidocr's
own pipeline would upscale every input to 736 px on the short side, which is
5-10x slower on the small crops medveil sends.

Both models are pure functions of their input, so results are remembered by
content (:class:`_Memo`: a digest of the pixels, their shape and the scale):
the same banner crop in every frame of a cine loop, or in every image of a
series, is detected and read once per process.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
from rapidocr_onnxruntime.ch_ppocr_det import TextDetector
from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
from rapidocr_onnxruntime.main import DEFAULT_CFG_PATH
from rapidocr_onnxruntime.utils import read_yaml
from rapidocr_onnxruntime.utils.parse_parameters import update_model_path

from medveil.pixels.report import Box

THREADS = int(os.environ.get("MEDVEIL_OCR_THREADS", "1"))
# Detector probability threshold for a text pixel and for a whole box; lower
# than rapidocr's defaults (0.3/0.5) because missing PHI costs more than
# recognising a little noise, which the recognizer then reads as empty text.
PIXEL_THRESHOLD = 0.25
BOX_THRESHOLD = 0.45
_MEAN = np.float32(127.5)
# Remembered answers (see _Memo): detector inputs are large and seldom repeat
# outside a cine loop; line crops are small and repeat across a series.
DETECT_MEMO = 64
READ_MEMO = 4096
REC_HEIGHT = 48  # the recognizer's fixed input height


class _Memo:
    """A bounded, least-recently-used map from an input's digest to a model's answer."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._answers: OrderedDict[bytes, object] = OrderedDict()

    @staticmethod
    def key(pixels: np.ndarray, *extra: object) -> bytes:
        digest = hashlib.blake2b(np.ascontiguousarray(pixels).data, digest_size=20)
        digest.update(repr((pixels.shape, pixels.dtype.str, extra)).encode())
        return digest.digest()

    def get(self, key: bytes) -> object | None:
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    def put(self, key: bytes, answer: object) -> None:
        self._answers[key] = answer
        if len(self._answers) > self._size:
            self._answers.popitem(last=False)


@dataclass(frozen=True)
class Reading:
    """Recognized text of one box with the recognizer's confidence (0-1)."""

    text: str
    score: float


class OcrEngine:
    """Detector and recognizer sessions; thread-safe for sequential use per process."""

    def __init__(self, threads: int = THREADS) -> None:
        config = update_model_path(read_yaml(DEFAULT_CFG_PATH))
        for part in ("Det", "Rec"):
            config[part]["intra_op_num_threads"] = threads
            config[part]["inter_op_num_threads"] = 1
        config["Det"]["thresh"] = PIXEL_THRESHOLD
        config["Det"]["box_thresh"] = BOX_THRESHOLD
        self._detector = TextDetector(config["Det"])
        self._recognizer = TextRecognizer(config["Rec"])
        self._lock = threading.Lock()
        self._detected = _Memo(DETECT_MEMO)
        self._read_before = _Memo(READ_MEMO)

    def forget(self) -> None:
        """Drop every remembered answer (a benchmark that repeats one image measures the
        models' work, not the memory's)."""
        with self._lock:
            self._detected = _Memo(DETECT_MEMO)
            self._read_before = _Memo(READ_MEMO)

    def detect(self, gray: np.ndarray, scale: float) -> list[Box]:
        """Text line boxes in ``gray`` (uint8), run at ``scale`` x its size."""
        key = _Memo.key(gray, scale)
        with self._lock:
            known = self._detected.get(key)
        if isinstance(known, tuple):
            return list(known)
        boxes = self._detect(gray, scale)
        with self._lock:
            self._detected.put(key, tuple(boxes))
        return boxes

    def _detect(self, gray: np.ndarray, scale: float) -> list[Box]:
        rows, columns = gray.shape
        height = max(32, round(rows * scale / 32) * 32)
        width = max(32, round(columns * scale / 32) * 32)
        resized = cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA)
        with self._lock:
            prediction = self._detector.infer(_batch(resized))[0]
        quads, _ = self._detector.postprocess_op(prediction, (rows, columns))
        boxes = []
        for quad in quads:
            xs, ys = quad[:, 0], quad[:, 1]
            box = Box(int(xs.min()), int(ys.min()), int(np.ceil(xs.max())), int(np.ceil(ys.max())))
            if box.width >= 2 and box.height >= 2:
                boxes.append(box)
        return boxes

    def recognize(self, crops: list[np.ndarray]) -> list[Reading]:
        """Read each uint8 gray crop (one text line per crop).

        Lines are run one at a time at their own width: rapidocr's batches pad
        every line to the widest (and to at least 320 px), which on one thread
        costs more than it saves.
        """
        return [self._read(crop) for crop in crops]

    def _read(self, crop: np.ndarray) -> Reading:
        key = _Memo.key(crop)
        with self._lock:
            known = self._read_before.get(key)
        if isinstance(known, Reading):
            return known
        reading = self._infer_reading(crop)
        with self._lock:
            self._read_before.put(key, reading)
        return reading

    def _infer_reading(self, crop: np.ndarray) -> Reading:
        rows, columns = crop.shape
        width = max(REC_HEIGHT // 2, int(np.ceil(REC_HEIGHT * columns / max(rows, 1))))
        resized = cv2.resize(crop, (width, REC_HEIGHT), interpolation=cv2.INTER_LINEAR)
        with self._lock:
            prediction = self._recognizer.session(_batch(resized))[0]
        text, score = self._recognizer.postprocess_op(prediction)[0][:2]
        return Reading(str(text), float(score))


def _batch(gray: np.ndarray) -> np.ndarray:
    """A uint8 gray image as the models' input: one 3-channel image scaled to [-1, 1]."""
    tensor = (gray.astype(np.float32) - _MEAN) / _MEAN
    return np.repeat(tensor[np.newaxis, np.newaxis], 3, axis=1)


@cache
def engine() -> OcrEngine:
    """The process-wide engine, created lazily on first use."""
    return OcrEngine()
