"""Decoding of request bodies by their Content-Encoding, for the receivers of
the --compress tests: gzip with Python's own module, zstd with the system's
libzstd through ctypes (libzstd1 comes with libzstd-dev, which the build
needs; Python 3.11 has no zstd module). A decoder that keeps to RFC 9659's
8 MiB zstd window, as a careful HTTP receiver does."""

import ctypes
import ctypes.util
import gzip

_ZSTD_D_WINDOW_LOG_MAX = 100  # ZSTD_d_windowLogMax in zstd.h


class _Buffer(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("size", ctypes.c_size_t), ("pos", ctypes.c_size_t)]


_zstd = None


def _lib():
    global _zstd
    if _zstd is None:
        lib = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
        lib.ZSTD_createDCtx.restype = ctypes.c_void_p
        lib.ZSTD_freeDCtx.argtypes = [ctypes.c_void_p]
        lib.ZSTD_DCtx_setParameter.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        lib.ZSTD_DCtx_setParameter.restype = ctypes.c_size_t
        lib.ZSTD_decompressStream.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Buffer), ctypes.POINTER(_Buffer)]
        lib.ZSTD_decompressStream.restype = ctypes.c_size_t
        lib.ZSTD_isError.argtypes = [ctypes.c_size_t]
        lib.ZSTD_isError.restype = ctypes.c_uint
        lib.ZSTD_getErrorName.argtypes = [ctypes.c_size_t]
        lib.ZSTD_getErrorName.restype = ctypes.c_char_p
        _zstd = lib
    return _zstd


def unzstd(data: bytes, window_log_max: int = 23) -> bytes:
    """The content of one or more zstd frames; ValueError if corrupt,
    truncated, or if a frame's window is over 2^window_log_max bytes."""
    lib = _lib()
    dctx = lib.ZSTD_createDCtx()
    if not dctx:
        raise MemoryError("ZSTD_createDCtx")
    try:
        rc = lib.ZSTD_DCtx_setParameter(dctx, _ZSTD_D_WINDOW_LOG_MAX, window_log_max)
        if lib.ZSTD_isError(rc):
            raise ValueError(lib.ZSTD_getErrorName(rc).decode())
        src = ctypes.create_string_buffer(data, len(data))
        inb = _Buffer(ctypes.cast(src, ctypes.c_void_p), len(data), 0)
        chunk = ctypes.create_string_buffer(1 << 20)
        out = bytearray()
        left = 1
        while True:
            outb = _Buffer(ctypes.cast(chunk, ctypes.c_void_p), len(chunk), 0)
            left = lib.ZSTD_decompressStream(dctx, ctypes.byref(outb), ctypes.byref(inb))
            if lib.ZSTD_isError(left):
                raise ValueError("zstd: " + lib.ZSTD_getErrorName(left).decode())
            out += chunk.raw[: outb.pos]
            if inb.pos == inb.size and outb.pos < outb.size:
                break  # all read, and nothing more held back
        if left != 0:
            raise ValueError("zstd: the frame ends early")
        return bytes(out)
    finally:
        lib.ZSTD_freeDCtx(dctx)


def decode(encoding, body: bytes) -> bytes:
    """`body` as sent with Content-Encoding `encoding` (None: as it is)."""
    if encoding is None or encoding == "identity":
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "zstd":
        return unzstd(body)
    raise ValueError(f"unknown Content-Encoding {encoding!r}")


def request_body(request) -> bytes:
    """An http_server.Request's body, decoded as its Content-Encoding says."""
    return decode(request.header("Content-Encoding"), request.body)
