"""FHIR R4 and mCODE STU4 in and out (issue 14, docs/fhir.md).

- ``codes``: the code systems, codes, profiles and extensions, declared once as data;
- ``elements``: helpers over resources as JSON, and the one door to the R4B models;
- ``export``: a journey as mCODE resources (pure);
- ``imports``: resources back to scenarios in the contract's format (pure);
- ``conformance``: the profile checks of what the tracker emits;
- ``service``: the use cases over the Tracker (export a patient or the cohort, import files);
- ``cli`` and ``api``: the ``journey fhir`` commands and the ``/api/v1`` routes.

The pure modules import only ``journey`` and ``fhir.resources.R4B``.
"""
