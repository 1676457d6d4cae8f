from serve.fixtures import client, live, serve_world

__all__ = ["client", "live", "serve_world"]
