"""Ids and text as fixed-width bytes and Arrow arrays: Salesforce and Stripe ids, names, e-mails, dates."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flywheel_demo.contract import DATE
from flywheel_demo.vocabularies import AREA_CODES, COMPANY_A, COMPANY_B, COMPANY_SUFFIX, FIRST_NAMES, LAST_NAMES

ALNUM = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
LOWER_ALNUM = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)


def object_array(values: Sequence[object]) -> np.ndarray:
    """A lookup array of Python objects (strings or None)."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _bytes_to_str(matrix: np.ndarray) -> np.ndarray:
    """Rows of an ASCII byte matrix as fixed-width numpy bytes (dtype S<width>).

    Ids stay numpy bytes through the simulation: indexing, concatenating and sorting them are memory copies, and
    Arrow turns them into strings without a Python object per value (object arrays of str cost both ways). Where
    an id lands in an object array it is a `bytes` object there, which Arrow also takes as a string."""
    return np.ascontiguousarray(matrix, dtype=np.uint8).view(f"S{matrix.shape[1]}").reshape(-1)


def str_objects(values: np.ndarray) -> np.ndarray:
    """Fixed-width numpy bytes as an object array of str, for text that is built with Python string operators."""
    return np.asarray(values).astype(str).astype(object)


def digits_matrix(prefix: str, numbers: np.ndarray, width: int = 15) -> np.ndarray:
    """Salesforce-style ids as an ASCII byte matrix: prefix + zero-padded number, `width` characters in total."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    matrix = np.empty((len(numbers), width), dtype=np.uint8)
    matrix[:, : len(head)] = head
    rest = np.asarray(numbers, dtype=np.int64).copy()
    for pos in range(width - 1, len(head) - 1, -1):
        matrix[:, pos] = 48 + rest % 10
        rest //= 10
    return matrix


def seq_ids(prefix: str, numbers: np.ndarray, width: int = 15) -> np.ndarray:
    """Salesforce-style ids: prefix + zero-padded number, `width` characters in total."""
    return _bytes_to_str(digits_matrix(prefix, numbers, width))


def base62_matrix(prefix: str, parts: Sequence[tuple[np.ndarray, int]]) -> np.ndarray:
    """prefix + fixed-width base62 encodings of integers as an ASCII byte matrix, so text order is numeric order."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    width = len(head) + sum(w for _, w in parts)
    matrix = np.empty((len(parts[0][0]), width), dtype=np.uint8)
    matrix[:, : len(head)] = head
    pos = width
    for values, w in reversed(parts):
        rest = np.asarray(values, dtype=np.int64).copy()
        for col in range(pos - 1, pos - w - 1, -1):
            matrix[:, col] = ALNUM[rest % 62]
            rest //= 62
        pos -= w
    return matrix


def base62_ids(prefix: str, parts: Sequence[tuple[np.ndarray, int]]) -> np.ndarray:
    """prefix + fixed-width base62 encodings of integers, so text order equals numeric order."""
    return _bytes_to_str(base62_matrix(prefix, parts))


def fixed_width_text(rows: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """An Arrow string array straight from fixed-width ASCII rows (a 2-D uint8 matrix or a 1-D array of records).

    Arrow's string layout is offsets plus one data buffer, and fixed-width rows already are that data buffer: no
    Python string is ever made, which is what turning numpy object arrays into Arrow cost (see benchmarks/results.md).
    """
    rows = np.ascontiguousarray(rows)
    n = len(rows)
    width = rows.itemsize if rows.ndim == 1 else rows.shape[1] * rows.itemsize
    if n * width >= 2**31:  # int32 offsets: split into chunks of Arrow's regular string type
        step = (2**31 - 1) // max(width, 1)
        return pa.chunked_array(  # type: ignore[return-value]
            [
                fixed_width_text(rows[i : i + step], None if null is None else null[i : i + step])
                for i in range(0, n, step)
            ]
        )
    offsets = pa.py_buffer(np.arange(0, width * (n + 1), width, dtype=np.int32))
    data = pa.py_buffer(rows.reshape(-1).view(np.uint8) if n else np.empty(0, np.uint8))
    if null is None or not null.any():
        return pa.Array.from_buffers(pa.string(), n, [None, offsets, data], null_count=0)
    valid = pa.py_buffer(np.packbits(~null, bitorder="little"))
    return pa.Array.from_buffers(pa.string(), n, [valid, offsets, data], null_count=int(null.sum()))


@cache
def _clock_text() -> np.ndarray:
    """'HH:MM:SS' of every second of a day, as 8-byte records."""
    second = np.arange(86_400)
    digits = np.stack([second // 36_000, second // 3_600 % 10, second // 600 % 6, second // 60 % 10,
                       second % 60 // 10, second % 10], axis=1) + 48  # fmt: skip
    out = np.full((86_400, 8), ord(":"), dtype=np.uint8)
    out[:, [0, 1, 3, 4, 6, 7]] = digits
    return out.reshape(-1).view("S8")


def calendar_text(values: np.ndarray, kind: str) -> pa.Array:
    """Epoch seconds (NaN = null) as 'YYYY-MM-DD HH:MM:SS' (TS) or 'YYYY-MM-DD' (DATE) text, the way Arrow's cast
    of a timestamp to string writes them, without the cast: each distinct day is formatted once and each second
    of the day comes from a table, so a column costs two gathers."""
    v = np.asarray(values, dtype=np.float64)
    null = np.isnan(v)
    seconds = np.where(null, 0.0, np.floor(v)).astype(np.int64)
    days = seconds // 86_400
    if len(days) and not null.all():
        lo, hi = int(days[~null].min()), int(days[~null].max())
    else:
        lo = hi = 0
    days = np.where(null, lo, days)
    if hi - lo <= 100_000:  # a dense calendar (about 270 years) is cheaper than finding the distinct days
        calendar = np.datetime_as_string(np.arange(lo, hi + 1).astype("datetime64[D]")).astype("S10")
        day_text = calendar[days - lo]
    else:
        distinct, inverse = np.unique(days, return_inverse=True)
        day_text = np.datetime_as_string(distinct.astype("datetime64[D]")).astype("S10")[inverse]
    if kind == DATE:
        return fixed_width_text(day_text, null)
    rows = np.empty(len(v), dtype=[("day", "S10"), ("space", "S1"), ("clock", "S8")])
    rows["day"], rows["space"], rows["clock"] = day_text, b" ", _clock_text()[seconds % 86_400]
    return fixed_width_text(rows, null)


def tokens(rng: np.random.Generator, n: int, prefix: str, length: int, alphabet: np.ndarray = ALNUM) -> np.ndarray:
    """Stripe-style random ids: prefix + `length` random characters."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    matrix = np.empty((n, len(head) + length), dtype=np.uint8)
    matrix[:, : len(head)] = head
    matrix[:, len(head) :] = alphabet[rng.integers(0, len(alphabet), size=(n, length))]
    return _bytes_to_str(matrix)


def _vocab(words: Sequence[str]) -> np.ndarray:
    """A lookup array of ASCII words as fixed-width numpy bytes (see `_bytes_to_str` for why not str objects)."""
    return np.array([word.encode("ascii") for word in words], dtype=bytes)


def join_bytes(*parts: np.ndarray | bytes) -> np.ndarray:
    """Element-wise concatenation of fixed-width bytes arrays and bytes constants: a C loop, not a Python object
    per value and operator as `+` on object arrays of str is."""
    out = np.asarray(parts[0])
    for part in parts[1:]:
        out = np.strings.add(out, part)
    return out


def name_text(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last names as text (fixed-width bytes)."""
    return _vocab(FIRST_NAMES)[first], _vocab(LAST_NAMES)[last]


def companies(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Fictional company names and their e-mail domains (always under example.com), as fixed-width bytes."""
    a = rng.integers(0, len(COMPANY_A), n)
    b = rng.integers(0, len(COMPANY_B), n)
    suffix = rng.integers(0, len(COMPANY_SUFFIX), n)
    name = join_bytes(_vocab(COMPANY_A)[a], b" ", _vocab(COMPANY_B)[b], _vocab(COMPANY_SUFFIX)[suffix])
    domain = join_bytes(
        _vocab([w.lower() for w in COMPANY_A])[a], _vocab([w.lower() for w in COMPANY_B])[b], b".example.com"
    )
    return name, domain


def emails(first: np.ndarray, last: np.ndarray, domain: np.ndarray | bytes) -> np.ndarray:
    """first.last@domain from name indices."""
    lower_first = _vocab([name.lower() for name in FIRST_NAMES])[first]
    lower_last = _vocab([name.lower() for name in LAST_NAMES])[last]
    return join_bytes(lower_first, b".", lower_last, b"@", domain)


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Fictional numbers from the reserved 555-0100..555-0199 range."""
    area = object_array(AREA_CODES)[rng.integers(0, len(AREA_CODES), n)]
    return "+1-" + area + "-555-01" + object_array([f"{i:02d}" for i in range(100)])[rng.integers(0, 100, n)]


def bytes_text(values: np.ndarray) -> pa.Array:
    """Fixed-width numpy bytes as an Arrow string array: numpy pads short values with NUL bytes, Arrow must not."""
    width = values.dtype.itemsize
    lengths = np.strings.str_len(values)
    if len(values) == 0 or (lengths == width).all():
        return fixed_width_text(values)
    matrix = np.ascontiguousarray(values).view(np.uint8).reshape(len(values), width)
    data = matrix[np.arange(width) < lengths[:, None]]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return pc.cast(
        pa.Array.from_buffers(pa.large_string(), len(values), [None, pa.py_buffer(offsets), pa.py_buffer(data)]),
        pa.string(),
    )
