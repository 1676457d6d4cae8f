"""Raw blocks → Bitcoin Core's decoded ``getblock`` answers (verbosity 1: txids, 2: transactions).

A replay node must answer what bitcoin-etl asks (verbosity 2) as Bitcoin Core would, so that the comparison
moves and parses what it would against a real node: every transaction with its inputs (previous outpoint,
``scriptSig`` asm and hex, witness stack, sequence), its outputs (value in BTC, ``scriptPubKey`` asm, hex,
address, type) and its hex. Core's field names and script type names are used; ``asm`` follows Core's rules for
pushes and opcodes (without its signature-hash decoding), ``desc`` is given without Core's checksum, and
``mediantime`` and ``chainwork`` (which need the whole chain) are stand-ins.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptoscope.sources.chain.bitcoin.block import parse_block
from cryptoscope.sources.chain.bitcoin.getblock import compact_size

#: our script types → Bitcoin Core's names
CORE_TYPES = {"p2pkh": "pubkeyhash", "p2sh": "scripthash", "p2wpkh": "witness_v0_keyhash",
              "p2wsh": "witness_v0_scripthash", "p2tr": "witness_v1_taproot", "p2pk": "pubkey",
              "nulldata": "nulldata", "witness_unknown": "witness_unknown", "nonstandard": "nonstandard"}
_OPS = {0x4F: "-1", 0x50: "OP_RESERVED", 0x61: "OP_NOP", 0x63: "OP_IF", 0x64: "OP_NOTIF", 0x67: "OP_ELSE",
        0x68: "OP_ENDIF", 0x69: "OP_VERIFY", 0x6A: "OP_RETURN", 0x6B: "OP_TOALTSTACK", 0x6C: "OP_FROMALTSTACK",
        0x73: "OP_IFDUP", 0x74: "OP_DEPTH", 0x75: "OP_DROP", 0x76: "OP_DUP", 0x77: "OP_NIP", 0x78: "OP_OVER",
        0x7C: "OP_SWAP", 0x82: "OP_SIZE", 0x87: "OP_EQUAL", 0x88: "OP_EQUALVERIFY", 0x8B: "OP_1ADD",
        0x93: "OP_ADD", 0x94: "OP_SUB", 0xA6: "OP_RIPEMD160", 0xA7: "OP_SHA1", 0xA8: "OP_SHA256",
        0xA9: "OP_HASH160", 0xAA: "OP_HASH256", 0xAB: "OP_CODESEPARATOR", 0xAC: "OP_CHECKSIG",
        0xAD: "OP_CHECKSIGVERIFY", 0xAE: "OP_CHECKMULTISIG", 0xAF: "OP_CHECKMULTISIGVERIFY",
        0xB1: "OP_CHECKLOCKTIMEVERIFY", 0xB2: "OP_CHECKSEQUENCEVERIFY", 0xBA: "OP_CHECKSIGADD"}
_MAX_TARGET = 0xFFFF << 208


def header_fields(raw: bytes) -> dict[str, Any]:
    """The header-level fields of a decoded answer (no height, confirmations or next block: the chain's)."""
    block = parse_block(raw, verify=False)
    header = block.headers[0]
    txs = block.transactions
    n = txs.num_rows
    count_size = len(compact_size(n))
    weights, sizes = sum(txs["weight"].to_pylist()), sum(txs["size"].to_pylist())
    fields: dict[str, Any] = {
        "hash": header.block_hash, "version": header.version, "versionHex": f"{header.version & 0xFFFFFFFF:08x}",
        "merkleroot": header.merkle_root, "time": header.time, "mediantime": header.time, "nonce": header.nonce,
        "bits": f"{header.bits:08x}", "difficulty": _difficulty(header.bits), "chainwork": "00" * 32, "nTx": n,
        "strippedsize": 80 + count_size + (weights - sizes) // 3, "size": len(raw),
        "weight": 4 * (80 + count_size) + weights,
    }
    if header.prev_block_hash != "00" * 32:
        fields["previousblockhash"] = header.prev_block_hash
    return fields


def transactions(raw: bytes, verbosity: int) -> list[Any]:
    """The ``tx`` field: txids (verbosity 1) or decoded transactions (2)."""
    block = parse_block(raw, verify=False)
    txs = block.transactions.to_pylist()
    if verbosity < 2:
        return [t["txid"] for t in txs]
    inputs, outputs = block.inputs.to_pylist(), block.outputs.to_pylist()
    spans = _tx_spans(raw)
    out, i, o = [], 0, 0
    for tx, (start, end, witness) in zip(txs, spans, strict=True):
        vin = [_vin(row, witness[k] if witness else [], tx["is_coinbase"])
               for k, row in enumerate(inputs[i:i + tx["input_count"]])]
        vout = [_vout(row) for row in outputs[o:o + tx["output_count"]]]
        i, o = i + tx["input_count"], o + tx["output_count"]
        out.append({"txid": tx["txid"], "hash": tx["wtxid"], "version": tx["version"], "size": tx["size"],
                    "vsize": (tx["weight"] + 3) // 4, "weight": tx["weight"], "locktime": tx["locktime"],
                    "vin": vin, "vout": vout, "hex": raw[start:end].hex()})
    return out


def _vin(row: dict[str, Any], witness: list[bytes], coinbase: bool) -> dict[str, Any]:
    item: dict[str, Any] = ({"coinbase": row["script_sig"]} if coinbase else
                            {"txid": row["prev_txid"], "vout": row["prev_output_index"],
                             "scriptSig": {"asm": script_asm(bytes.fromhex(row["script_sig"])),
                                           "hex": row["script_sig"]}})
    if witness:
        item["txinwitness"] = [w.hex() for w in witness]
    item["sequence"] = row["sequence"]
    return item


def _vout(row: dict[str, Any]) -> dict[str, Any]:
    script = row["script_pubkey"]
    kind = CORE_TYPES.get(row["script_type"], "nonstandard")
    key: dict[str, Any] = {"asm": script_asm(bytes.fromhex(script))}
    address = row["address"] if kind != "pubkey" else None  # Core shows no address for a bare public key
    key["desc"] = f"addr({address})" if address else f"raw({script})"
    key["hex"] = script
    if address:
        key["address"] = address
    key["type"] = kind
    return {"value": row["value"] / 1e8, "n": row["output_index"], "scriptPubKey": key}


def script_asm(script: bytes) -> str:
    """Bitcoin Core's asm: pushes of up to 4 bytes as numbers, longer ones as hex, opcodes by name."""
    parts, pos = [], 0
    while pos < len(script):
        op = script[pos]
        pos += 1
        if op <= 0x4E:
            size, pos = _push_size(script, op, pos)
            data = script[pos:pos + size]
            pos += size
            if len(data) < size:
                parts.append("[error]")
                break
            parts.append(str(_script_num(data)) if len(data) <= 4 else data.hex())
        elif 0x51 <= op <= 0x60:
            parts.append(str(op - 0x50))
        else:
            parts.append(_OPS.get(op, "OP_UNKNOWN"))
    return " ".join(parts)


def _push_size(script: bytes, op: int, pos: int) -> tuple[int, int]:
    if op < 0x4C:
        return op, pos
    width = {0x4C: 1, 0x4D: 2, 0x4E: 4}[op]
    return int.from_bytes(script[pos:pos + width], "little"), pos + width


def _script_num(data: bytes) -> int:
    if not data:
        return 0
    value = int.from_bytes(data, "little")
    if data[-1] & 0x80:
        return -(value & ~(0x80 << (8 * (len(data) - 1))))
    return value


def _tx_spans(raw: bytes) -> list[tuple[int, int, list[list[bytes]]]]:
    """(start, end, witness stack of each input) of every transaction, read in Python (only for the decoded view)."""
    count, pos = _varint(raw, 80)
    out = []
    for _ in range(count):
        start = pos
        pos += 4
        segwit = raw[pos] == 0 and raw[pos + 1] == 1
        pos += 2 if segwit else 0
        n_in, pos = _varint(raw, pos)
        for _ in range(n_in):
            size, pos = _varint(raw, pos + 36)
            pos += size + 4
        n_out, pos = _varint(raw, pos)
        for _ in range(n_out):
            size, pos = _varint(raw, pos + 8)
            pos += size
        stacks: list[list[bytes]] = []
        for _ in range(n_in if segwit else 0):
            items, pos = _varint(raw, pos)
            stack = []
            for _ in range(items):
                size, pos = _varint(raw, pos)
                stack.append(raw[pos:pos + size])
                pos += size
            stacks.append(stack)
        pos += 4
        out.append((start, pos, stacks))
    return out


def _varint(raw: bytes, pos: int) -> tuple[int, int]:
    first = raw[pos]
    if first < 0xFD:
        return first, pos + 1
    width = {0xFD: 2, 0xFE: 4, 0xFF: 8}[first]
    return int.from_bytes(raw[pos + 1:pos + 1 + width], "little"), pos + 1 + width


def _difficulty(bits: int) -> float:
    exponent, mantissa = bits >> 24, bits & 0x007FFFFF
    target = mantissa << (8 * (exponent - 3)) if exponent > 3 else mantissa >> (8 * (3 - exponent))
    return _MAX_TARGET / target if target else 0.0


def block_hash(raw: bytes) -> str:
    return hashlib.sha256(hashlib.sha256(raw[:80]).digest()).digest()[::-1].hex()
