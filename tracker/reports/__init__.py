"""Reports for people: the cohort audit as a self-contained HTML file."""
