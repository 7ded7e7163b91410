"""An independent, slow AES-MMO (ZigBee 05-3474, B.6) over OpenSSL AES-ECB, written from the standard, for
checking the package's hash. Vectors: ZigBee 05-3474 Annex C.5 (see /work/shared/VECTORS.md)."""

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def aes_mmo_reference(message: bytes) -> bytes:
    n = len(message)
    if n * 8 < 2 ** 16:
        length_field = (n * 8).to_bytes(2, "big")
    else:
        length_field = (n * 8).to_bytes(4, "big") + bytes(2)
    padded = message + b"\x80"
    while (len(padded) + len(length_field)) % 16:
        padded += b"\x00"
    padded += length_field
    state = bytes(16)
    for i in range(0, len(padded), 16):
        block = padded[i:i + 16]
        cipher = Cipher(algorithms.AES(state), modes.ECB()).encryptor()
        state = bytes(x ^ y for x, y in zip(cipher.update(block) + cipher.finalize(), block))
    return state


VECTORS = [  # (message, hash)
    (bytes([0xC0]), "ae3a102a28d43ee0d4a09e22788b206c"),
    (bytes(range(0xC0, 0xD0)), "a7977e88bc0b61e8210827109a228f2d"),
    (bytes(i & 0xFF for i in range(8191)), "24ec2fe75bbffcb34789bc0610e7f165"),
    (bytes(i & 0xFF for i in range(8192)), "dc6b0687f09f8607131c170b3bd31591"),
    (bytes(i & 0xFF for i in range(8201)), "72c9b15e178aa843e4a16c58e33643a3"),
    (bytes(i & 0xFF for i in range(8202)), "bc9828d59b2aa323daf20be5f2e66511"),
    (bytes.fromhex("11223344556677884AF7"), "41618fc0c83b0e14a589954b16e31466"),
    (bytes.fromhex("83FED3407A939723A5C639B26916D505C3B5"), "66b6900981e1ee3ca4206b6b861c02bb"),
]
