"""ERC-20 ``Transfer(address,address,uint256)`` events decoded from logs, by ethereum-etl's rule.

The event's topic 0 is keccak256 of its signature. ethereum-etl (``extract_token_transfers``) joins the
topics and the 32-byte words of ``data`` and keeps the log only when they make exactly four words
(signature, from, to, value), whether ``from``/``to`` are indexed or not; we follow it so that our
token transfers are row for row the ones its exports hold (which includes ERC-721 transfers, whose
token id stands in the value word).
"""

from __future__ import annotations

from dataclasses import dataclass

TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"


@dataclass(frozen=True)
class Transfer:
    token_address: str
    from_address: str
    to_address: str
    value: str  # exact decimal
    tx_hash: str
    log_index: int
    block_number: int


def decode_transfer(address: str, topics: list[str], data: str, tx_hash: str, log_index: int,
                    block_number: int) -> Transfer | None:
    """The transfer a log records, or None when it is not a four-word Transfer event."""
    if not topics or topics[0].lower() != TRANSFER_TOPIC:
        return None
    words = list(topics)
    if data and len(data) > 2:
        body = data[2:]
        words += ["0x" + body[i:i + 64] for i in range(0, len(body), 64)]
    if len(words) != 4:
        return None
    try:
        value = str(int(words[3], 16))
    except ValueError:
        return None
    return Transfer(token_address=address.lower(), from_address=_address(words[1]), to_address=_address(words[2]),
                    value=value, tx_hash=tx_hash.lower(), log_index=log_index, block_number=block_number)


def _address(word: str) -> str:
    return ("0x" + word[-40:]).lower() if len(word) >= 40 else word.lower()
