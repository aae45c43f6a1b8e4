"""Reports and exports for people and other tools, written from domain values (no database):
the cohort audit as a self-contained HTML file (audit_html), deviations as CSV and the event log
as IEEE 1849 XES (exports), and the keyed pseudonyms both use."""
