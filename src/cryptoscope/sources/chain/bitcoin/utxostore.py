"""btcd's ``utxostore`` test files: the outputs a block spends, so its input values can be resolved.

Format (btcd ``blockchain/common_test.go``): repeated ``<txid 32 bytes><output index u32 LE><length u32 LE>
<serialized utxo>``, the utxo being ``<VLQ header: height << 1 | coinbase><VLQ compressed amount>
<compressed script>`` in Bitcoin Core's compression (``compressor.cpp``): script kinds 0/1 are a P2PKH/P2SH
hash, 2..5 a public key by its x coordinate (4/5: originally uncompressed, recovered on the curve), any
other n a raw script of n - 6 bytes.
"""

from __future__ import annotations

import bz2
import os
from pathlib import Path

import pyarrow as pa

from cryptoscope.sources.chain.bitcoin.block import describe_scripts
from cryptoscope.sources.chain.errors import ChainDataError

_P = 2**256 - 2**32 - 977  # secp256k1 field prime


def read_utxostore(path: str | os.PathLike[str]) -> pa.Table:
    """Columns txid, output_index, value, script_pubkey, script_type, address, height."""
    path = Path(path)
    raw = path.read_bytes()
    label = str(path)
    if raw.startswith(b"BZh"):
        raw, label = bz2.decompress(raw), f"{path} (bzip2-decompressed)"
    rows: dict[str, list] = {"txid": [], "output_index": [], "value": [], "height": []}
    scripts: list[bytes] = []
    pos = 0
    while pos < len(raw):
        if pos + 40 > len(raw):
            raise ChainDataError("truncated utxo entry", file=label, offset=pos, field="outpoint")
        size = int.from_bytes(raw[pos + 36:pos + 40], "little")
        entry = raw[pos + 40:pos + 40 + size]
        if len(entry) != size:
            raise ChainDataError("truncated utxo entry", file=label, offset=pos + 40, field="serialized utxo")
        try:
            height, value, script = _utxo(entry)
        except (IndexError, ValueError) as exc:
            raise ChainDataError(f"bad serialized utxo: {exc}", file=label, offset=pos + 40,
                                 field="serialized utxo") from None
        rows["txid"].append(raw[pos:pos + 32][::-1].hex())
        rows["output_index"].append(int.from_bytes(raw[pos + 32:pos + 36], "little"))
        rows["value"].append(value)
        rows["height"].append(height)
        scripts.append(script)
        pos += 40 + size
    kinds, addresses = describe_scripts(scripts)
    return pa.table({**{k: pa.array(v, pa.string() if k == "txid" else pa.int64()) for k, v in rows.items()},
                     "script_pubkey": pa.array([s.hex() for s in scripts]), "script_type": kinds,
                     "address": addresses})


def _vlq(data: bytes, pos: int) -> tuple[int, int]:
    """Bitcoin Core's VarInt (MSB base-128 with +1 per continuation byte)."""
    n = 0
    while True:
        byte = data[pos]
        pos += 1
        n = (n << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return n, pos
        n += 1


def decompress_amount(x: int) -> int:
    """Core's ``DecompressAmount``: the inverse of its decimal-exponent packing of satoshi values."""
    if x == 0:
        return 0
    x -= 1
    e, x = x % 10, x // 10
    if e < 9:
        d, x = x % 9 + 1, x // 9
        n = x * 10 + d
    else:
        n = x + 1
    return n * 10**e


def _utxo(entry: bytes) -> tuple[int, int, bytes]:
    header, pos = _vlq(entry, 0)
    amount, pos = _vlq(entry, pos)
    kind, pos = _vlq(entry, pos)
    return header >> 1, decompress_amount(amount), _script(kind, entry[pos:])


def _script(kind: int, rest: bytes) -> bytes:
    if kind == 0:
        return b"\x76\xa9\x14" + _take(rest, 20) + b"\x88\xac"
    if kind == 1:
        return b"\xa9\x14" + _take(rest, 20) + b"\x87"
    if kind in (2, 3):
        return b"\x21" + bytes([kind]) + _take(rest, 32) + b"\xac"
    if kind in (4, 5):
        x = int.from_bytes(_take(rest, 32), "big")
        y = pow((pow(x, 3, _P) + 7) % _P, (_P + 1) // 4, _P)
        if y % 2 != kind % 2:
            y = _P - y
        return b"\x41\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big") + b"\xac"
    return _take(rest, kind - 6)


def _take(rest: bytes, n: int) -> bytes:
    if len(rest) < n:
        raise ValueError(f"script needs {n} bytes, {len(rest)} are left")
    return rest[:n]


__all__ = ["decompress_amount", "read_utxostore"]
