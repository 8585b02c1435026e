"""csto_site: the static news-archive generator of the CSTO press office."""

__version__ = "0.1.0"
