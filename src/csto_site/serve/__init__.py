"""The preview server: builds as the command line does, serves public/ on 127.0.0.1, reloads open tabs.

Holds no state of the site. Imports: every package below it and the reporter.
"""
