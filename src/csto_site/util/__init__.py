"""Small tools with no knowledge of the project: digests, SQLite stores, worker processes, problems.

Imports: nothing of csto_site.
"""
