"""FHIR R4 and mCODE STU4 in and out (issue 14, docs/fhir.md): the mapping and its checks, pure.

- ``codes``: the code systems, codes, profiles and extensions, declared once as data;
- ``elements``: helpers over resources as JSON, and the one door to the R4B models;
- ``export``: a journey as mCODE resources (plain values in, JSON out);
- ``imports``: resources back to scenarios in the contract's format;
- ``conformance``: the profile checks of what the tracker emits;
- ``ig``: an offline checker of resources against an IG package's snapshots;
- ``example``: the terms of docs/fhir.md's worked example.

This room imports only ``journey`` and ``fhir.resources.R4B`` (tests/unit/test_layering.py,
tests/fhir/test_purity.py). The use cases that read and write the database are in
``tracker.application.fhir``; the faces are ``tracker.cli.fhir`` and ``tracker.web.fhir``.
"""
