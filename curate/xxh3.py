"""xxh3-64 of every value of an Arrow string/binary column, compiled (numba), from its buffers.

The same 64-bit values as ``xxhash.xxh3_64_intdigest(value, seed)`` (xxHash 0.8's XXH3_64bits
with a seed; checked against it on every length class in tests/test_xxh3.py), without a Python
object per row: one pass over the offsets and data buffers of each chunk.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

# xxHash 0.8's XXH3_kSecret, the algorithm's 192-byte default secret
_SECRET = np.frombuffer(
    bytes.fromhex(
        "b8fe6c3923a44bbe7c01812cf721ad1cded46de9839097db7240a4a4b7b3671f"
        "cb79e64eccc0e578825ad07dccff7221b8084674f743248ee03590e6813a264c"
        "3c2852bb91c300cb88d0658b1b532ea371644897a20df94e3819ef46a9deacd8"
        "a8fa763fe39c343ff9dcbbc7c70b4f1d8a51e04bcdb45931c89f7ec9d9787364"
        "eac5ac8334d3ebc3c581a0fffa1363eb170ddd51b7f0da49d316552629d4689e"
        "2b16be587d47a1fc8ff8b8d17ad031ce45cb3a8f95160428afd7fbcabb4b407e"
    ),
    np.uint8,
)
_P32_1 = np.uint64(0x9E3779B1)
_P32_2 = np.uint64(0x85EBCA77)
_P32_3 = np.uint64(0xC2B2AE3D)
_P64_1 = np.uint64(0x9E3779B185EBCA87)
_P64_2 = np.uint64(0xC2B2AE3D27D4EB4F)
_P64_3 = np.uint64(0x165667B19E3779F9)
_P64_4 = np.uint64(0x85EBCA77C2B2AE63)
_P64_5 = np.uint64(0x27D4EB2F165667C5)
_MX1 = np.uint64(0x165667919E3779F9)
_MX2 = np.uint64(0x9FB21C651E98DF25)
_M32 = np.uint64(0xFFFFFFFF)
_U = tuple(
    np.uint64(k) for k in range(65)
)  # shift counts as uint64: numba keeps the arithmetic exact


@njit(cache=True, nogil=True, inline="always")
def _le(b, i, n):
    """The n bytes b[i:i + n] as a little-endian integer."""
    v = _U[0]
    for k in range(n):
        v |= np.uint64(b[i + k]) << np.uint64(8 * k)
    return v


@njit(cache=True, nogil=True, inline="always")
def _r64(b, i):
    return _le(b, i, 8)


@njit(cache=True, nogil=True, inline="always")
def _r32(b, i):
    return _le(b, i, 4)


@njit(cache=True, nogil=True, inline="always")
def _rotl(x, r):
    return (x << _U[r]) | (x >> _U[64 - r])


@njit(cache=True, nogil=True, inline="always")
def _swap32(x):
    x = x & _M32
    return (
        ((x & np.uint64(0xFF)) << _U[24])
        | ((x & np.uint64(0xFF00)) << _U[8])
        | ((x >> _U[8]) & np.uint64(0xFF00))
        | (x >> _U[24])
    )


@njit(cache=True, nogil=True, inline="always")
def _swap64(x):
    return (_swap32(x) << _U[32]) | _swap32(x >> _U[32])


@njit(cache=True, nogil=True, inline="always")
def _fold(a, b):
    """The 128-bit product a * b, its low half xor its high half (XXH3_mul128_fold64)."""
    a_lo, a_hi, b_lo, b_hi = a & _M32, a >> _U[32], b & _M32, b >> _U[32]
    lo_lo, hi_lo, lo_hi = a_lo * b_lo, a_hi * b_lo, a_lo * b_hi
    cross = (lo_lo >> _U[32]) + (hi_lo & _M32) + lo_hi
    upper = (hi_lo >> _U[32]) + (cross >> _U[32]) + a_hi * b_hi
    lower = (cross << _U[32]) | (lo_lo & _M32)
    return lower ^ upper


@njit(cache=True, nogil=True, inline="always")
def _xxh64_avalanche(h):
    h ^= h >> _U[33]
    h *= _P64_2
    h ^= h >> _U[29]
    h *= _P64_3
    return h ^ (h >> _U[32])


@njit(cache=True, nogil=True, inline="always")
def _avalanche(h):
    h ^= h >> _U[37]
    h *= _MX1
    return h ^ (h >> _U[32])


@njit(cache=True, nogil=True, inline="always")
def _mix16(b, i, s, j, seed):
    return _fold(_r64(b, i) ^ (_r64(s, j) + seed), _r64(b, i + 8) ^ (_r64(s, j + 8) - seed))


@njit(cache=True, nogil=True)
def _long(b, start, n, seed, secret):
    """Inputs over 240 bytes: 8 accumulators over 64-byte stripes, scrambled every 1,024 bytes
    (the secret is XXH3's default one shifted by the seed)."""
    acc = np.empty(8, np.uint64)
    acc[0], acc[1], acc[2], acc[3] = _P32_3, _P64_1, _P64_2, _P64_3
    acc[4], acc[5], acc[6], acc[7] = _P64_4, _P32_2, _P64_5, _P32_1
    stripes_per_block = (192 - 64) // 8
    block = 64 * stripes_per_block
    blocks = (n - 1) // block
    for blk in range(blocks + 1):
        stripes = stripes_per_block if blk < blocks else ((n - 1) - block * blocks) // 64
        for st in range(stripes):
            _stripe(acc, b, start + blk * block + st * 64, secret, st * 8)
        if blk < blocks:
            for k in range(8):
                a = acc[k]
                a ^= a >> _U[47]
                a ^= _r64(secret, 192 - 64 + 8 * k)
                acc[k] = a * _P32_1
    _stripe(acc, b, start + n - 64, secret, 192 - 64 - 7)
    h = np.uint64(n) * _P64_1
    for k in range(4):
        h += _fold(
            acc[2 * k] ^ _r64(secret, 11 + 16 * k), acc[2 * k + 1] ^ _r64(secret, 19 + 16 * k)
        )
    return _avalanche(h)


@njit(cache=True, nogil=True, inline="always")
def _stripe(acc, b, i, secret, j):
    for k in range(8):
        value = _r64(b, i + 8 * k)
        key = value ^ _r64(secret, j + 8 * k)
        acc[k ^ 1] += value
        acc[k] += (key & _M32) * (key >> _U[32])


@njit(cache=True, nogil=True)
def _one(b, i, n, seed, s, long_secret):
    """XXH3_64bits_withSeed of b[i:i + n] (``s``: the default secret)."""
    if n == 0:
        return _xxh64_avalanche(seed ^ (_r64(s, 56) ^ _r64(s, 64)))
    if n <= 3:
        combined = (
            (np.uint64(b[i]) << _U[16])
            | (np.uint64(b[i + (n >> 1)]) << _U[24])
            | np.uint64(b[i + n - 1])
            | (np.uint64(n) << _U[8])
        )
        return _xxh64_avalanche(combined ^ ((_r32(s, 0) ^ _r32(s, 4)) + seed))
    if n <= 8:
        seed ^= _swap32(seed) << _U[32]
        keyed = (_r32(b, i + n - 4) + (_r32(b, i) << _U[32])) ^ ((_r64(s, 8) ^ _r64(s, 16)) - seed)
        keyed ^= _rotl(keyed, 49) ^ _rotl(keyed, 24)  # rrmxmx
        keyed *= _MX2
        keyed ^= (keyed >> _U[35]) + np.uint64(n)
        keyed *= _MX2
        return keyed ^ (keyed >> _U[28])
    if n <= 16:
        lo = _r64(b, i) ^ ((_r64(s, 24) ^ _r64(s, 32)) + seed)
        hi = _r64(b, i + n - 8) ^ ((_r64(s, 40) ^ _r64(s, 48)) - seed)
        return _avalanche(np.uint64(n) + _swap64(lo) + hi + _fold(lo, hi))
    if n <= 128:
        acc = np.uint64(n) * _P64_1
        if n > 32:
            if n > 64:
                if n > 96:
                    acc += _mix16(b, i + 48, s, 96, seed) + _mix16(b, i + n - 64, s, 112, seed)
                acc += _mix16(b, i + 32, s, 64, seed) + _mix16(b, i + n - 48, s, 80, seed)
            acc += _mix16(b, i + 16, s, 32, seed) + _mix16(b, i + n - 32, s, 48, seed)
        acc += _mix16(b, i, s, 0, seed) + _mix16(b, i + n - 16, s, 16, seed)
        return _avalanche(acc)
    if n <= 240:
        acc = np.uint64(n) * _P64_1
        for k in range(8):
            acc += _mix16(b, i + 16 * k, s, 16 * k, seed)
        acc = _avalanche(acc)
        for k in range(8, n // 16):
            acc += _mix16(b, i + 16 * k, s, 16 * (k - 8) + 3, seed)
        return _avalanche(acc + _mix16(b, i + n - 16, s, 136 - 17, seed))
    return _long(b, i, n, seed, long_secret)


@njit(cache=True, nogil=True)
def _hash_all(data, offsets, seed, secret, long_secret, out):
    for r in range(len(out)):
        out[r] = _one(data, offsets[r], offsets[r + 1] - offsets[r], seed, secret, long_secret)


def _long_secret(seed: int) -> np.ndarray:
    """XXH3_initCustomSecret: the default secret with the seed added to / taken from its words."""
    if seed == 0:
        return _SECRET
    words = _SECRET.view("<u8").copy()
    with np.errstate(over="ignore"):
        words[0::2] += np.uint64(seed)
        words[1::2] -= np.uint64(seed)
    return words.view(np.uint8)


def xxh3_64(values: pa.Array | pa.ChunkedArray, seed: int = 0) -> np.ndarray:
    """uint64 xxh3-64 of each value's bytes (UTF-8 for strings) with ``seed``; a null hashes
    like the empty value."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    seed64 = np.uint64(seed)
    secret = _long_secret(int(seed64))
    parts = [np.empty(0, np.uint64)]
    for chunk in chunks:
        if chunk.null_count:
            chunk = pc.fill_null(chunk, "" if pa.types.is_string(chunk.type) else b"")
        wide = pa.types.is_large_string(chunk.type) or pa.types.is_large_binary(chunk.type)
        kind = np.dtype(np.int64 if wide else np.int32)
        n = len(chunk)
        bufs = chunk.buffers()
        offsets = np.frombuffer(bufs[1], kind, n + 1, chunk.offset * kind.itemsize) if n else None
        data = (
            np.frombuffer(bufs[2], np.uint8) if n and bufs[2] is not None else np.empty(0, np.uint8)
        )
        out = np.empty(n, np.uint64)
        if n:
            _hash_all(data, offsets.astype(np.int64), seed64, _SECRET, secret, out)
        parts.append(out)
    return np.concatenate(parts)
