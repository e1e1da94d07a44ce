"""CPU-bound demo function: a chain of SHA-256 digests over a 64 KiB buffer.

Event: {"mb": 20} hashes 20 MiB (320 rounds of 64 KiB). Each round hashes the previous digest
plus the buffer, so the work is strictly sequential: one thread, no caching, no shortcut.
On a CPU that hashes ~400 MB/s that is ~50 ms at 1,769 MB (one full vCPU) and ~13.8x longer at
128 MB, where Lambda's CPU quota is 128/1769 of a vCPU. Above 1,769 MB it gets no faster: a single
thread cannot use more than one vCPU, which is exactly what a memory sweep should reveal.
"""

import hashlib

_BLOCK = bytes(range(256)) * 256  # 64 KiB, built once per execution environment (INIT)
_ROUNDS_PER_MB = (1024 * 1024) // len(_BLOCK)
_MAX_MB = 1024  # refuse absurd events instead of running into the timeout


def handler(event, context):
    mb = (event or {}).get("mb", 20)
    if isinstance(mb, bool) or not isinstance(mb, int) or not 0 < mb <= _MAX_MB:
        raise ValueError(f"'mb' must be a whole number from 1 to {_MAX_MB}, got {mb!r}")
    digest = b""
    for _ in range(mb * _ROUNDS_PER_MB):
        digest = hashlib.sha256(digest + _BLOCK).digest()
    return {"mb": mb, "digest": digest.hex()}
