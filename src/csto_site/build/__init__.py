"""A build: read what changed, plan from the catalogue, draw what changed on every core.

Holds the options, the input listing and quick answer, the build cache and outputs state, parsing,
the planning engine, drawing, the search step, the pipeline and `check`. It hands drawn files to an Outbox (the
publisher) and never imports the publisher. Imports: util, content, site, output.
"""
