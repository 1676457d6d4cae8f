"""Real time from an event stream: NATS JetStream in, online features, scores and alerts out, exactly once.

``publish.py`` sends the lake's events as a live feed; ``consumer.py`` consumes them (``work.py`` holds what
it does with each event, ``serve/snapshot.py`` its snapshots, ``partition.py`` how N consumers share the load);
``subjects.py`` says what goes where on the broker; ``codec.py`` checks every message against its table.
See docs/stream.md.
"""
