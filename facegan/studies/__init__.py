"""User studies (papers 000 Fig. 7 and 004 Table 6): definitions, stimuli, durable votes, statistics.

``definition`` (the JSON file) -> ``stimuli`` (generated ahead of time, with a manifest) ->
``store`` + ``session`` (SQLite; what participants do) -> ``stats``, ``charts``, ``export``.
The Pairwise comparison tab (``facegan.ui.pairwise``) is the front end.
"""
