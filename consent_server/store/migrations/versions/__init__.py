"""The schema's revisions, oldest first: ``<date>_<revision>_<what>.py``."""
