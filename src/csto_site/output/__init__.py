"""Everything the site publishes: the catalogue of producers, and how each output is described and drawn.

Holds the catalogue and its specs, the views and templates' renderer, the pages, feeds, sitemaps,
redirects, static files, compressed copies and the search index. Imports: util, content, site.
"""
