"""Public blockchain data: UTXO chains (Bitcoin) and account chains (Ethereum).

Amounts that can exceed 64 bits (wei, token units) are kept as exact decimal strings,
as blockchain-etl exports them, so that nothing is rounded on the way in.
"""

import pyarrow as pa

from cryptoscope.schema._table import Table, col, event_time

S, INT, B = pa.string(), pa.int64(), pa.bool_()

CHAIN_BLOCKS = Table(
    name="chain_blocks",
    domain="public chain data",
    doc="Blocks of a UTXO chain.",
    columns=(
        col("chain", S, "Chain name, e.g. bitcoin."),
        col("block_hash", S, "Block hash, hex, as block explorers show it."),
        col("height", INT, "Block height."),
        event_time("Block timestamp from its header (UTC)."),
        col("prev_block_hash", S, "Hash of the previous block."),
        col("merkle_root", S, "Merkle root of the transactions."),
        col("version", INT, "Block version."),
        col("bits", INT, "Compact difficulty target."),
        col("nonce", INT, "Header nonce."),
        col("tx_count", INT, "Number of transactions."),
        col("size", INT, "Serialized size in bytes."),
    ),
    primary_key=("chain", "block_hash"),
)

CHAIN_TRANSACTIONS = Table(
    name="chain_transactions",
    domain="public chain data",
    doc="Transactions of a UTXO chain.",
    columns=(
        col("chain", S, "Chain name."),
        col("txid", S, "Transaction id, hex."),
        col("block_hash", S, "Block that contains it."),
        col("block_height", INT, "Height of that block."),
        event_time("Timestamp of the block (UTC)."),
        col("tx_index", INT, "Position in the block."),
        col("version", INT, "Transaction version."),
        col("locktime", INT, "nLockTime."),
        col("is_coinbase", B, "Whether it is the block's coinbase."),
        col("is_segwit", B, "Whether it carries witness data."),
        col("input_count", INT, "Number of inputs."),
        col("output_count", INT, "Number of outputs."),
        col("size", INT, "Serialized size in bytes, witness included."),
        col("wtxid", S, "Witness transaction id (BIP-141), hex; equals txid without witness.", nullable=True),
        col("weight", INT, "Weight units (BIP-141): 3 x size without witness + size; vsize = weight / 4.",
            nullable=True),
    ),
    primary_key=("chain", "txid"),
)

CHAIN_INPUTS = Table(
    name="chain_inputs",
    domain="public chain data",
    doc="Inputs of UTXO transactions: which earlier output each one spends.",
    columns=(
        col("chain", S, "Chain name."),
        col("txid", S, "Spending transaction."),
        col("input_index", INT, "Position among the inputs."),
        event_time("Timestamp of the block (UTC)."),
        col("prev_txid", S, "Transaction whose output is spent (zeros for coinbase)."),
        col("prev_output_index", INT, "Index of the spent output."),
        col("script_sig", S, "Unlocking script, hex."),
        col("sequence", INT, "nSequence."),
        col("address", S, "Address of the spent output, when known.", nullable=True),
        col("value", INT, "Value of the spent output in satoshi, when known.", nullable=True),
        col("script_type", S, "Script type of the spent output, when known (as in chain_outputs).", nullable=True),
    ),
    primary_key=("chain", "txid", "input_index"),
)

CHAIN_OUTPUTS = Table(
    name="chain_outputs",
    domain="public chain data",
    doc="Outputs of UTXO transactions.",
    columns=(
        col("chain", S, "Chain name."),
        col("txid", S, "Creating transaction."),
        col("output_index", INT, "Output index."),
        event_time("Timestamp of the block (UTC)."),
        col("value", INT, "Value in satoshi."),
        col("script_pubkey", S, "Locking script, hex."),
        col("script_type", S, "p2pkh, p2sh, p2wpkh, p2wsh, p2tr, p2pk, nulldata, witness_unknown "
                              "(a future witness version) or nonstandard."),
        col("address", S, "Address the script pays, if it has one.", nullable=True),
    ),
    primary_key=("chain", "txid", "output_index"),
    non_negative=("value",),
)

ETH_TRANSACTIONS = Table(
    name="eth_transactions",
    domain="public chain data",
    doc="Transactions of an account chain (Ethereum and its kin), as ethereum-etl exports them.",
    columns=(
        col("chain", S, "Chain name, e.g. ethereum."),
        col("tx_hash", S, "Transaction hash, 0x-hex."),
        col("block_number", INT, "Block number."),
        col("block_hash", S, "Block hash."),
        event_time("Block timestamp (UTC)."),
        col("transaction_index", INT, "Position in the block."),
        col("nonce", INT, "Sender nonce."),
        col("from_address", S, "Sender, lower-case 0x-hex."),
        col("to_address", S, "Receiver; null for contract creation.", nullable=True),
        col("value", S, "Value in wei, exact decimal string."),
        col("gas", INT, "Gas limit."),
        col("gas_price", S, "Gas price in wei, exact decimal string.", nullable=True),
        col("input", S, "Call data, 0x-hex."),
        col("receipt_status", INT, "1 success, 0 failure; null before Byzantium.", nullable=True),
    ),
    primary_key=("chain", "tx_hash"),
)

ETH_TOKEN_TRANSFERS = Table(
    name="eth_token_transfers",
    domain="public chain data",
    doc="ERC-20 Transfer events decoded from logs.",
    columns=(
        col("chain", S, "Chain name."),
        col("token_address", S, "Token contract, lower-case 0x-hex."),
        col("from_address", S, "Sender."),
        col("to_address", S, "Receiver."),
        col("value", S, "Amount in the token's smallest unit, exact decimal string."),
        col("tx_hash", S, "Transaction that emitted the event."),
        col("log_index", INT, "Log index in the block."),
        col("block_number", INT, "Block number."),
        event_time("Block timestamp (UTC)."),
    ),
    primary_key=("chain", "tx_hash", "log_index"),
)

TABLES = (CHAIN_BLOCKS, CHAIN_TRANSACTIONS, CHAIN_INPUTS, CHAIN_OUTPUTS, ETH_TRANSACTIONS,
          ETH_TOKEN_TRANSFERS)
