"""Customer feedback: what users write (sentiment, topics, categories) and what drives their satisfaction.

Modules: `embeddings` (packaged sentence model, cache by text hash), `classify` / `sentiment` /
`categories` (classifiers and their baselines), `topics` and `trends` (clusters, week-over-week growth),
`experience` and `drivers` (the lake's record of what users went through, and its effect on CSAT/NPS),
`analyze` (scores into ``feedback_scores``), `report` (the HTML page), `airline` (the public benchmark).

>>> from cryptoscope.feedback.report import write_report
>>> write_report("demo-lake", "reports")     # doctest: +SKIP
PosixPath('reports/feedback.html')
"""
