"""Entity graphs: users linked through shared devices, IPs, instruments, addresses, documents, referrers.

>>> from cryptoscope.graph import build_graph
>>> result = build_graph("demo-lake")                     # doctest: +SKIP
>>> result.features.rings.sort_values("size").tail(3)     # doctest: +SKIP
"""

from cryptoscope.graph.build import KIND_WEIGHTS, EntityGraph
from cryptoscope.graph.communities import RING_FEATURES, USER_FEATURES, GraphFeatures, graph_features
from cryptoscope.graph.links import LINK_KINDS, known_bad_users, link_table, read_links, signup_times
from cryptoscope.graph.pipeline import GraphResult, build_graph, load_graph, save_graph

__all__ = ["KIND_WEIGHTS", "LINK_KINDS", "RING_FEATURES", "USER_FEATURES", "EntityGraph", "GraphFeatures",
           "GraphResult", "build_graph", "graph_features", "known_bad_users", "link_table", "load_graph",
           "read_links", "save_graph", "signup_times"]
