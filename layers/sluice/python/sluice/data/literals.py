"""Arrow values to and from Python and NumPy through buffers, not through pyarrow's object conversion.

pyarrow's conversions (``pa.array`` of a list, ``pa.scalar``, a Python literal passed to a compute
function, ``Array.to_numpy``) import pandas whenever it is installed: about 36 MB of resident memory and
0.15 s that a validation, which never needs pandas, would pay. The data path converts here instead.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa

_LARGE_OFFSETS = (pa.large_string(), pa.large_binary())


def text_array(values: Iterable[str | None], type_: pa.DataType | None = None) -> pa.Array:
    """A string array (or ``type_``: large_string, binary, large_binary) of ``values``; None is null."""
    kind = pa.string() if type_ is None else type_
    items = list(values)
    encoded = [b"" if value is None else value.encode("utf-8") for value in items]
    offsets = np.zeros(len(items) + 1, dtype="<i8" if kind in _LARGE_OFFSETS else "<i4")
    offsets[1:] = np.cumsum([len(value) for value in encoded], dtype=offsets.dtype)
    buffers = [_validity(value is not None for value in items), pa.py_buffer(offsets.tobytes()),
               pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(kind, len(items), buffers)


def fixed_array(values: Iterable[float | int | bool | None], type_: pa.DataType) -> pa.Array:
    """An array of ``type_`` (bool, or any 64-bit number or timestamp: ints are its raw value); None is null."""
    items = list(values)
    if pa.types.is_boolean(type_):
        data = np.packbits(np.array([bool(value) for value in items], dtype=bool), bitorder="little")
    else:
        data = np.array([0 if value is None else value for value in items], dtype=_storage(type_))
    buffers = [_validity(value is not None for value in items), pa.py_buffer(data.tobytes())]
    return pa.Array.from_buffers(type_, len(items), buffers)


def scalar(value: str | float | int | bool | None, type_: pa.DataType) -> pa.Scalar:
    """One value of ``type_`` as an Arrow scalar (None: the type's null)."""
    if value is None:
        return pa.nulls(1, type_)[0]
    if isinstance(value, str):
        return text_array([value], type_)[0]
    return fixed_array([value], type_)[0]


_NUMPY_TYPES = {np.dtype("int64"): pa.int64(), np.dtype("uint64"): pa.uint64(), np.dtype("float64"): pa.float64()}


def numpy_array(values: np.ndarray) -> pa.Array:
    """A one-dimensional int64, uint64 or float64 NumPy array as an Arrow array over the same memory."""
    contiguous = np.ascontiguousarray(values)
    return pa.Array.from_buffers(_NUMPY_TYPES[contiguous.dtype], len(contiguous), [None, pa.py_buffer(contiguous)])


def numpy_values(array: pa.Array) -> np.ndarray:
    """The values of a bool or 64-bit number array without nulls, as NumPy (a view, except for bools)."""
    if array.null_count:
        raise ValueError("numpy_values needs an array without nulls")
    data = array.buffers()[1]
    if pa.types.is_boolean(array.type):
        if data is None:
            return np.zeros(0, dtype=bool)
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
        return bits[array.offset : array.offset + len(array)].astype(bool)
    storage = _storage(array.type)
    if data is None:
        return np.zeros(0, dtype=storage)
    return np.frombuffer(data, dtype=storage, count=len(array), offset=array.offset * 8)


def text_bytes(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The byte length of each value of a string or binary array (0 for null) and all their bytes, as NumPy."""
    offset_type = "<i8" if array.type in _LARGE_OFFSETS else "<i4"
    _, offsets_buffer, data_buffer = array.buffers()
    if offsets_buffer is None:
        return np.zeros(len(array), dtype=offset_type), np.zeros(0, dtype=np.uint8)
    offsets = np.frombuffer(offsets_buffer, dtype=offset_type, count=len(array) + 1, offset=array.offset * int(
        np.dtype(offset_type).itemsize))
    data = np.zeros(0, dtype=np.uint8) if data_buffer is None else np.frombuffer(data_buffer, dtype=np.uint8)
    return np.diff(offsets), data[int(offsets[0]) : int(offsets[-1])]


def _storage(type_: pa.DataType) -> str:
    """The NumPy dtype holding the values of a 64-bit number or timestamp type."""
    if type_.bit_width != 64 or not (pa.types.is_floating(type_) or pa.types.is_integer(type_)
                                     or pa.types.is_temporal(type_)):
        raise TypeError(f"no 64-bit NumPy storage for {type_}")
    return "<f8" if pa.types.is_floating(type_) else "<u8" if type_ == pa.uint64() else "<i8"


def _validity(present: Iterable[bool]) -> pa.Buffer | None:
    flags = np.fromiter(present, dtype=bool)
    if flags.all():
        return None
    return pa.py_buffer(np.packbits(flags, bitorder="little").tobytes())
