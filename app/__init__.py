"""The composition root: the app factory, the command line, demo seeding, the dev runner and the schema registry.

The only package that imports every domain; `core` and the domains never import it.
"""
