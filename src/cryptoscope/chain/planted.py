"""The simulator's planted exposure paths, read from `ground_truth` to judge the chain analytics.

Ground truth is for evaluation only: nothing here feeds a score.
"""

from __future__ import annotations

import ibis.expr.types as ir

from cryptoscope.chain.backend import lake_table


def planted_paths() -> ir.Table:
    """user_id, event_time, direction and hops of every transfer the simulator linked to an illicit source.

    Its typologies read ``illicit_deposit_2hop``: the direction is the second word, the hops the digit.
    """
    truth = lake_table("ground_truth")
    planted = truth.filter(truth.typology.like("illicit_%hop"))
    return planted.select("user_id", "event_time", direction=planted.typology.split("_")[1],
                          hops=planted.typology.re_extract(r"_(\d)hop", 1).try_cast("int32"))
