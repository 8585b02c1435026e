"""The site as readers see it, derived from the content: listings, URLs, and recorded queries.

Holds the site model (editions, archives, neighbours, translations; pure, `now` passed in), every URL
rule (urls.py), and Queries, the only way producers read the model. Imports: util, content.
"""
