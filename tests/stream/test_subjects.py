"""Where things go on the broker, and what a delivered message says about its place in the stream."""

from __future__ import annotations

import pytest
from nats.aio.msg import Msg

from cryptoscope.stream import subjects


@pytest.mark.parametrize("reply", [
    "$JS.ACK.CRYPTOSCOPE_EVENTS.cryptoscope-all.1.4711.4700.1796606544277107500.12",  # v1
    "$JS.ACK._.ACCHASH.CRYPTOSCOPE_EVENTS.cryptoscope-all.2.4711.4700.1796606544277107500.12.rnd",  # v2
    "$JS.ACK.hub.ACCHASH.CRYPTOSCOPE_EVENTS.cryptoscope-all.2.4711.4700.1796606544277107500.12",  # v2, a domain
])
def test_position_reads_what_nats_metadata_reads(reply: str) -> None:
    msg = Msg(None, subject="events.payments", reply=reply, data=b"{}")  # type: ignore[arg-type]
    seq, at_ns = subjects.position(msg)
    assert seq == msg.metadata.sequence.stream == 4711
    assert subjects.broker_time(at_ns) == msg.metadata.timestamp


def test_a_core_nats_message_has_no_position() -> None:
    with pytest.raises(ValueError, match="not a JetStream message"):
        subjects.position(Msg(None, subject="events.payments", reply="_INBOX.abc", data=b"{}"))  # type: ignore[arg-type]


def test_subjects_and_tables() -> None:
    assert subjects.events("payments") == "events.payments"
    assert subjects.table_of("events.order_cancels") == "order_cancels"
    assert subjects.scores("withdrawal") == "scores.withdrawal"
