"""Error control for the watermark payload: CRC-16 and a soft-decision convolutional code.

The payload travels through a very noisy channel (a faint mark under a whole
radiograph), so every coded bit arrives as a soft correlation value rather than
a clean 0/1. A rate-1/3, constraint-length-7 convolutional code decoded with a
soft Viterbi search turns those noisy values into the most likely message, and
the CRC then tells a real payload from a decode of noise: a random decode passes
it with probability 2**-16.
"""

from __future__ import annotations

import binascii

import numpy as np
import numpy.typing as npt

#: Generator polynomials (octal 133, 171, 165), the rate-1/3 K=7 code used by LTE.
GENERATORS = (0o133, 0o171, 0o165)
CONSTRAINT = 7
_STATES = 1 << (CONSTRAINT - 1)
TAIL = CONSTRAINT - 1
CRC_BITS = 16


def _parity(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    out = np.zeros_like(values)
    for shift in range(CONSTRAINT):
        out ^= (values >> shift) & 1
    return out


# Register layout: bit 0 is the newest input, bit 6 the oldest. For every 7-bit
# register value, the three code bits it emits, as +1/-1 symbols.
_REGISTERS = np.arange(1 << CONSTRAINT, dtype=np.int64)
_SYMBOLS = np.stack([1 - 2 * _parity(_REGISTERS & g) for g in GENERATORS], axis=1).astype(
    np.float64
)


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of ``data``."""
    return binascii.crc_hqx(data, 0xFFFF)


def to_bits(value: int, width: int) -> npt.NDArray[np.int64]:
    """The ``width`` low bits of ``value``, most significant first."""
    return np.array([(value >> (width - 1 - i)) & 1 for i in range(width)], dtype=np.int64)


def from_bits(bits: npt.NDArray[np.int64]) -> int:
    """Inverse of :func:`to_bits`."""
    value = 0
    for bit in bits.tolist():
        value = (value << 1) | int(bit)
    return value


def coded_length(message_bits: int) -> int:
    """Number of code symbols for a message of ``message_bits`` (tail included)."""
    return len(GENERATORS) * (message_bits + TAIL)


def encode(bits: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Convolutionally encode ``bits`` (0/1), terminated to state 0, as +1/-1 symbols."""
    state = 0
    out = []
    for bit in [*bits.tolist(), *([0] * TAIL)]:
        register = (state << 1) | int(bit)
        out.append(_SYMBOLS[register])
        state = register & (_STATES - 1)
    return np.concatenate(out)


def viterbi(soft: npt.NDArray[np.float64], message_bits: int) -> npt.NDArray[np.int64]:
    """Most likely message for soft symbols ``soft`` (positive means +1).

    Maximises the correlation between the received soft values and the code
    sequence, which is the maximum-likelihood decision for Gaussian noise.
    """
    steps = message_bits + TAIL
    received = soft.reshape(steps, len(GENERATORS))
    next_states = np.arange(_STATES, dtype=np.int64)
    # Predecessor of next state ns via oldest bit b: register = (b << 6) | ns.
    registers = np.stack([next_states, next_states | _STATES])  # (2, 64)
    predecessors = registers >> 1
    metric = np.full(_STATES, -np.inf)
    metric[0] = 0.0
    choices = np.empty((steps, _STATES), dtype=np.int64)
    for step in range(steps):
        branch = _SYMBOLS[registers] @ received[step]  # (2, 64)
        candidates = metric[predecessors] + branch
        choice = np.argmax(candidates, axis=0)
        choices[step] = choice
        metric = candidates[choice, next_states]
    bits = np.empty(steps, dtype=np.int64)
    state = 0
    for step in range(steps - 1, -1, -1):
        bits[step] = state & 1
        state = int(predecessors[choices[step, state], state])
    return bits[:message_bits]
