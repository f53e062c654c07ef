"""Plain metric functions on arrays and lists, with one shared input checker.

Every metric validates its inputs first and raises :class:`MetricInputError` (a ``ValueError``)
naming the argument, the index and the value, e.g. ``confidence[3] = 1.3 is outside [0, 1]``.
"""

from collections.abc import Sequence, Sized

import numpy as np

from synthmix.errors import DataError

__all__ = [
    "MetricInputError",
    "check_binary",
    "check_finite",
    "check_probabilities",
    "check_same_length",
    "check_texts",
]


class MetricInputError(DataError):
    """A metric was given input it cannot score; the message names the argument, index and value."""


def check_finite(name: str, values: object) -> np.ndarray:
    """Return ``values`` as a non-empty 1-D float array, or raise naming the first bad element."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise MetricInputError(f"{name} must be an array of numbers ({error})") from None
    if array.ndim != 1:
        raise MetricInputError(f"{name} must be 1-D, got shape {array.shape}")
    if array.size == 0:
        raise MetricInputError(f"{name} is empty; a metric needs at least one item")
    finite = np.isfinite(array)
    if not finite.all():
        index = int(np.argmin(finite))
        raise MetricInputError(f"{name}[{index}] = {array[index]} is not finite")
    return array


def check_probabilities(name: str, values: object) -> np.ndarray:
    """Return ``values`` as a 1-D float array in [0, 1], or raise naming the first bad element."""
    array = check_finite(name, values)
    inside = (array >= 0.0) & (array <= 1.0)
    if not inside.all():
        index = int(np.argmin(inside))
        raise MetricInputError(f"{name}[{index}] = {array[index]} is outside [0, 1]")
    return array


def check_binary(name: str, values: object) -> np.ndarray:
    """Return ``values`` as a 1-D float array of 0s and 1s (booleans accepted), or raise naming the first bad one."""
    array = check_finite(name, values)
    binary = (array == 0.0) | (array == 1.0)
    if not binary.all():
        index = int(np.argmin(binary))
        raise MetricInputError(f"{name}[{index}] = {array[index]} is not 0 or 1")
    return array


def check_same_length(**arrays: Sized) -> None:
    """Raise if the named arrays differ in length, naming each argument and its length."""
    lengths = {name: len(values) for name, values in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {length}" for name, length in lengths.items())
        raise MetricInputError(f"inputs must have equal lengths: {described}")


def check_texts(name: str, texts: object, minimum: int = 1) -> list[str]:
    """Return ``texts`` as a list of at least ``minimum`` strings, or raise naming the first non-string."""
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise MetricInputError(f"{name} must be a list of strings, got {type(texts).__name__}")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise MetricInputError(f"{name}[{index}] = {text!r} is not a string")
    if len(texts) < minimum:
        raise MetricInputError(f"{name} holds {len(texts)} texts; at least {minimum} are needed")
    return list(texts)
