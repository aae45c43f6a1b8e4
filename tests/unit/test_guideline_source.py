"""The seed guideline's words are bundled with the domain (the tracker never reads ../shared at run
time): they are the seed file's, line for line, and a citation reads as a reader writes one."""

from __future__ import annotations

import re

from journey.guideline import RULES
from journey.guideline_source import GUIDELINE_NAME, SEED_LINES, cite, section_of, statement
from tests.conftest import SEED_FILE


def test_the_bundled_lines_are_the_seed_file_line_for_line():
    assert "\n".join(SEED_LINES) == SEED_FILE.read_text(encoding="utf-8")


def test_a_citation_names_the_guideline_the_section_and_quotes_the_statement():
    citation = cite((13,))
    assert citation is not None
    assert citation.guideline == GUIDELINE_NAME == "Treatment Approach for Synchronous vs Metachronous " \
                                                   "Liver Metastases"
    assert citation.sections == ("Unresectable Disease (Conversion Strategy)",)
    assert citation.quotes[0].text == "Reassess resectability every 2 months during chemotherapy"
    assert citation.reference == (f"{GUIDELINE_NAME}, section Unresectable Disease (Conversion Strategy) "
                                  "(line 13)")


def test_the_section_is_the_nearest_heading_above_the_statement():
    assert section_of(5) == "Resectable Disease"
    assert section_of(33) == "Critical Warnings"
    assert section_of(39) == "Recurrent Disease After Prior Liver Resection"
    assert section_of(2) is None  # the introduction stands under the title, no section


def test_a_quotation_leaves_out_the_bullet_and_the_reference_numbers():
    assert statement(30).endswith("likely because synchronous patients receive more neoadjuvant "
                                  "chemotherapy")
    assert not statement(22).startswith("- ")


def test_every_rule_with_seed_lines_can_be_cited():
    for rule in RULES:
        if rule.seed_lines:
            citation = cite(rule.seed_lines)
            assert citation is not None and citation.sections, rule.id
            assert all(q.text and not re.search(r"\s\d+$", q.text) for q in citation.quotes), rule.id


def test_no_citation_for_no_lines_or_a_line_beyond_the_text():
    assert cite(()) is None
    assert cite((len(SEED_LINES) + 1,)) is None
