"""Work that releases the GIL, so that threads run it in parallel.

    parlab python examples/python/releases_gil.py:digest_blocks --range 0..64
    parlab python examples/python/releases_gil.py:wait_io --range 0..200 --workers 1,2,4,8

digest_blocks: hashlib hashes buffers over 2047 bytes without holding the GIL. Each index
hashes a 4 MiB block (made once per interpreter); the answer adds the first eight bytes of
every block's SHA-256, so it checks that every block was hashed. It needs free cores to gain.

wait_io: each index waits 5 ms in time.sleep, as a call to a slow service would; the GIL is
released while it waits, so N threads wait N at a time, on any machine, busy or not.
"""

import hashlib
import time

BLOCK = bytes(range(256)) * (16 * 1024)  # 4 MiB


def digest_blocks(start, end):
    total = 0
    for i in range(start, end):
        h = hashlib.sha256(i.to_bytes(8, "little"))
        h.update(BLOCK)
        total += int.from_bytes(h.digest()[:8], "little")
    return total


def wait_io(start, end):
    for _ in range(start, end):
        time.sleep(0.005)
    return end - start
