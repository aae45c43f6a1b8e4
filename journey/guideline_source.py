"""The seed guideline's own words, bundled with the domain so that a citation can quote them: the
tracker never reads ``../shared`` at run time. ``SEED_LINES`` is the text of
``../shared/seed/guideline-summary.txt``, line by line (``seed:N`` is ``SEED_LINES[N - 1]``);
tests/unit/test_guideline_source.py proves it equal to the file whenever the file is beside the
project.

A citation is written as a reader writes one: the guideline's name (its first line), the section
the statement stands under (the nearest heading above it, read from the text's own structure: a
line that is neither a bullet nor prose ending in reference numbers), and the statement quoted
without its reference numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SEED_LINES: tuple[str, ...] = (
    'Treatment Approach for Synchronous vs Metachronous Liver Metastases',
    'The fundamental treatment strategy does not differ between synchronous and metachronous colorectal liver metastases—both require the same resectability assessment, perioperative chemotherapy protocols, and surgical approach when resectable, though synchronous disease requires additional consideration of primary tumor management timing. 1',
    'Core Treatment Principles (Apply to Both)',
    'Resectable Disease',
    '- Administer perioperative FOLFOX chemotherapy for 3 months preoperatively, followed by surgical resection, then 3 months postoperatively (total 6 months) for patients with up to 4 liver metastases, no extrahepatic disease, and no prior oxaliplatin failure 1',
    '- For pMMR/MSS tumors, use chemotherapy followed by surgery/ablation as the preferred treatment 1',
    '- For dMMR/MSI-H tumors, use immunotherapy followed by surgery/ablation 1',
    '- Exception: Single metastasis <2 cm may proceed directly to upfront surgery followed by 6 months of postoperative FOLFOX, as these lesions may disappear during chemotherapy and become undetectable intraoperatively 1',
    'Unresectable Disease (Conversion Strategy)',
    '- For pMMR/MSS, RAS/BRAF wild-type, LEFT-sided tumors: chemotherapy plus anti-EGFR monoclonal antibody (doublet chemotherapy preferred over triplet) 1',
    '- For pMMR/MSS, RAS/BRAF wild-type, RIGHT-sided tumors: triplet chemotherapy (FOLFOXIRI or FOLFIRINOX), with bevacizumab preferred over anti-EGFR 1',
    '- For pMMR/MSS, RAS/BRAF mutant tumors: triplet chemotherapy plus bevacizumab 1',
    '- Reassess resectability every 2 months during chemotherapy 1',
    '- Once resectable, proceed to surgery and continue the same chemotherapy postoperatively to complete 6 months total perioperative treatment 1',
    'Key Differences: Synchronous-Specific Considerations',
    'Primary Tumor Management in Synchronous Disease',
    '- If the primary tumor is asymptomatic and metastases are resectable but simultaneous resection is not feasible (due to poor performance status or requiring major surgery): resect liver metastases first, followed by resection of the primary tumor 1',
    '- Simultaneous resection of primary and liver metastases can be considered only for small, accessible metastases in patients with good performance status 1',
    '- For symptomatic primary tumors (bleeding, obstruction, perforation): resect the primary tumor first before addressing liver metastases 1',
    '- For synchronous rectal cancer with liver metastases: administer pelvic radiotherapy if indicated by primary tumor stage to reduce local recurrence risk 1',
    'Surgical Timing Options for Synchronous Disease',
    '- Three approaches exist: conventional (primary first), liver-first, or simultaneous resection 2',
    '- Liver-first approach is increasingly used for rectal primaries with high metastatic burden, particularly after preoperative chemotherapy 1',
    '- Simultaneous resection shows comparable morbidity/mortality to staged approaches but offers shorter hospital stays and earlier chemotherapy initiation 3',
    '- Delayed liver resection (after primary tumor resection) shows no survival difference compared to immediate combined resection 4',
    'Prognostic Considerations',
    'Biological Differences',
    '- Synchronous metastases indicate more aggressive tumor biology with higher rates of advanced primary tumors (T3/T4, node-positive), multiple metastases, and bilobar distribution 5',
    '- Synchronous disease shows significantly shorter disease-free intervals (median 6 months vs 10 months for metachronous) and higher rates of disseminated recurrence (95% vs 42%) 6',
    '- Despite worse biological features, 5-year overall survival rates are comparable between synchronous and metachronous disease (approximately 20-38%) when both undergo curative resection, likely because synchronous patients receive more neoadjuvant chemotherapy 5, 3',
    'Critical Warnings',
    '- Avoid complete radiological response before surgery—lesions may become undetectable intraoperatively; perform resection before complete disappearance 1',
    '- Patients progressing during neoadjuvant chemotherapy have aggressive tumor biology; consider best salvage treatment rather than proceeding directly to resection 1',
    '- Do not use perioperative FOLFOX in patients who failed adjuvant oxaliplatin within 12 months; use FOLFIRI instead 1',
    '- For R1 resection (positive margins), continue postoperative systemic chemotherapy as planned 1',
    'Recurrent Disease After Prior Liver Resection',
    '- For recurrent liver metastases after prior curative-intent liver surgery: no single treatment of choice exists—decide based on individual patient characteristics, local expertise, and multidisciplinary team input 1',
    '- Approximately 60% of patients develop recurrence after hepatic resection, with 20% having liver-only recurrence amenable to re-resection 7',
    '- Re-resection of recurrent liver metastases significantly improves survival compared to no re-resection 4',
)

#: the guideline's name, as its first line gives it
GUIDELINE_NAME = SEED_LINES[0]
#: the reference numbers a seed line ends with (" 1", " 5, 3"): the sources, not the statement
_REFERENCES = re.compile(r"\s+\d+(?:,\s*\d+)*$")


def is_heading(number: int) -> bool:
    """Line ``number`` is a section heading: not the title, not a bullet, not prose (prose ends
    with the numbers of its references)."""
    text = SEED_LINES[number - 1]
    return number > 1 and bool(text) and not text.startswith("- ") and not _REFERENCES.search(text)


def section_of(number: int) -> str | None:
    """The heading line ``number`` stands under (None for the title and the introduction)."""
    return next((SEED_LINES[n - 1] for n in range(number, 1, -1) if is_heading(n)), None)


def statement(number: int) -> str:
    """Line ``number`` as a quotation: without its bullet and its reference numbers."""
    return _REFERENCES.sub("", SEED_LINES[number - 1].removeprefix("- ")).strip()


@dataclass(frozen=True)
class Quote:
    line: int
    section: str | None
    text: str


@dataclass(frozen=True)
class Citation:
    """Where a statement stands in the guideline, and its words."""

    guideline: str
    quotes: tuple[Quote, ...]

    @property
    def sections(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.section for q in self.quotes if q.section))

    @property
    def lines(self) -> tuple[int, ...]:
        return tuple(q.line for q in self.quotes)

    @property
    def reference(self) -> str:
        """"Treatment Approach ... Liver Metastases, section Critical Warnings (line 33)"."""
        where = "; ".join(self.sections)
        numbers = ", ".join(str(n) for n in self.lines)
        word = "line" if len(self.lines) == 1 else "lines"
        return f"{self.guideline}, section {where} ({word} {numbers})" if where else \
            f"{self.guideline} ({word} {numbers})"


def cite(lines: tuple[int, ...]) -> Citation | None:
    """The citation of seed lines (None when there are none, or a line is not in the text)."""
    if not lines or any(not 1 <= n <= len(SEED_LINES) for n in lines):
        return None
    return Citation(GUIDELINE_NAME, tuple(Quote(n, section_of(n), statement(n)) for n in lines))


__all__ = ["GUIDELINE_NAME", "SEED_LINES", "Citation", "Quote", "cite", "section_of", "statement"]
