"""Work that releases the GIL: hashlib hashes buffers over 2047 bytes without holding it.

    parlab python examples/python/digest.py:digest_blocks --range 0..64

Each index hashes a 4 MiB block (made once per interpreter); the answer adds the first eight
bytes of every block's SHA-256, so it checks that every block was hashed. Threads run the
hashing in parallel at no start-up cost beyond the interpreter's.
"""

import hashlib

BLOCK = bytes(range(256)) * (16 * 1024)  # 4 MiB


def digest_blocks(start, end):
    total = 0
    for i in range(start, end):
        h = hashlib.sha256(i.to_bytes(8, "little"))
        h.update(BLOCK)
        total += int.from_bytes(h.digest()[:8], "little")
    return total
