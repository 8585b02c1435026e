"""Publishing, the last step: the drawn site becomes public/ (twin folder, swap, manifest, lock).

Imports: util, content, site, output, build.
"""
