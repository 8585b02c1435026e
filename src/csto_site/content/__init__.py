"""What the press office writes, read and checked: files -> front matter -> config, registries, items.

Holds the sources, front matter, site.yaml, the registries, the labels, Markdown, item parsing and the
content model (Item, Official, Organization, Section), and `new`'s scaffold. Imports: util.
"""
