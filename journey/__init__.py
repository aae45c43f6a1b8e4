"""The pure domain of the CRLM journey tracker: the patient profile, the event vocabulary, the
pathway machine, reminders, guideline recommendations and adherence checks.

Nothing here knows a database, a web framework or a command line; it takes plain values and
dates and returns plain values. See docs/architecture.md.
"""
