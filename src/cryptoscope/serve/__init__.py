"""Production serving: the scoring API (FastAPI), online scoring, auth, monitoring; see docs/serve.md.

>>> from cryptoscope.serve.app import create_app            # doctest: +SKIP
>>> from cryptoscope.serve.demo import prepare              # doctest: +SKIP
"""
