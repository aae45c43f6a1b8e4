"""The codes of the FHIR mapping, declared once as data: the export writes them, the import reads
them back, the profile checks and docs/fhir.md name them.

Where mCODE STU4 binds a standard terminology, the codes here are ones the mCODE 4.0.0 package
itself lists (its value sets and examples), or the HGNC and LOINC identifiers cross-checked
against other public sources (named in docs/fhir.md). Nothing was looked up in a terminology
server, so no code is emitted that could not be checked: where none could be, or none exists
(our regimens, plans, margins, RECIST categories, reminder kinds...), the code is from the
project's own code systems under :data:`LOCAL_CS`, with its words in ``display`` and ``text``.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- code systems -------------------------------------------------------------------------------
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
HGNC = "http://www.genenames.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

#: the project's own namespace: stable URLs under its name, documented in docs/fhir.md
PROJECT = "https://crlm-journey.example.org/fhir"
LOCAL_CS = f"{PROJECT}/CodeSystem"
LOCAL_SD = f"{PROJECT}/StructureDefinition"
#: the identifier system of the tracker's patient reference, and of its keyed pseudonym
REF_SYSTEM = f"{PROJECT}/sid/patient-ref"
PSEUDONYM_SYSTEM = f"{PROJECT}/sid/patient-pseudonym"

# -- profiles -----------------------------------------------------------------------------------
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition"
PROFILE = {
    "patient": f"{MCODE}/mcode-cancer-patient",
    "primary": f"{MCODE}/mcode-primary-cancer-condition",
    "secondary": f"{MCODE}/mcode-secondary-cancer-condition",
    "ecog": f"{MCODE}/mcode-ecog-performance-status",
    "tumor_size": f"{MCODE}/mcode-tumor-size",
    "variant": f"{MCODE}/mcode-genomic-variant",
    "msi": "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/msi",
    "disease_status": f"{MCODE}/mcode-cancer-disease-status",
    "surgery": f"{MCODE}/mcode-cancer-related-surgical-procedure",
    "medication": f"{MCODE}/mcode-cancer-related-medication-request",
    "bundle": f"{MCODE}/mcode-patient-bundle",
}

# -- extensions ---------------------------------------------------------------------------------
EXT = {
    # mCODE's and FHIR core's own
    "intent": f"{MCODE}/mcode-procedure-intent",
    "evidence": f"{MCODE}/mcode-cancer-disease-status-evidence-type",
    "related": "http://hl7.org/fhir/StructureDefinition/condition-related",
    "absent": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
    # the project's (docs/fhir.md, "What is local and why")
    "entry": f"{LOCAL_SD}/journey-entry",
    "biologic": f"{LOCAL_SD}/biologic",
    "resectable": f"{LOCAL_SD}/liver-resectable",
    "simultaneous": f"{LOCAL_SD}/simultaneous-resection-feasible",
    "pelvic_rt": f"{LOCAL_SD}/pelvic-radiotherapy-indicated",
    "stage": f"{LOCAL_SD}/surgery-stage",
    "recurrence_site": f"{LOCAL_SD}/recurrence-site",
    "symptom": f"{LOCAL_SD}/primary-symptom",
    "t_stage": f"{LOCAL_SD}/t-category",
    "n_stage": f"{LOCAL_SD}/n-category",
    "count": f"{LOCAL_SD}/metastasis-count",
    "prior_oxaliplatin": f"{LOCAL_SD}/prior-oxaliplatin",
    "snoozed_until": f"{LOCAL_SD}/snoozed-until",
}


@dataclass(frozen=True)
class Code:
    system: str
    code: str
    display: str

    def coding(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}


def local(system: str, code: str, display: str) -> Code:
    return Code(f"{LOCAL_CS}/{system}", code, display)


def local_codes(system: str, words: dict[str, str]) -> dict[str, Code]:
    return {code: local(system, code, display) for code, display in words.items()}


# -- the primary tumour and the liver ------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A primary site: the ICD-10-CM disorder (mcode-primary-cancer-disorder-vs lists it), the
    ICD-O-3 topography (mcode-cancer-body-location-vs includes ICD-O-3) and, where the mCODE
    package itself uses it, the SNOMED CT body structure."""

    disorder: Code
    topography: Code
    structure: Code | None = None


def _site(icd10: str, disorder: str, icdo3: str, topography: str, sct: str | None = None,
          structure: str | None = None) -> Site:
    return Site(Code(ICD10CM, icd10, disorder), Code(ICDO3, icdo3, topography),
                Code(SNOMED, sct, structure) if sct and structure else None)


SITES: dict[str, Site] = {
    "cecum": _site("C18.0", "Malignant neoplasm of cecum", "C18.0", "Cecum",
                   "32713005", "Cecum structure (body structure)"),
    "ascending": _site("C18.2", "Malignant neoplasm of ascending colon", "C18.2", "Ascending colon",
                       "9040008", "Ascending colon structure (body structure)"),
    "hepatic_flexure": _site("C18.3", "Malignant neoplasm of hepatic flexure", "C18.3",
                             "Hepatic flexure of colon"),
    "transverse": _site("C18.4", "Malignant neoplasm of transverse colon", "C18.4", "Transverse colon",
                        "485005", "Transverse colon structure (body structure)"),
    "splenic_flexure": _site("C18.5", "Malignant neoplasm of splenic flexure", "C18.5",
                             "Splenic flexure of colon"),
    "descending": _site("C18.6", "Malignant neoplasm of descending colon", "C18.6", "Descending colon",
                        "32622004", "Descending colon structure (body structure)"),
    "sigmoid": _site("C18.7", "Malignant neoplasm of sigmoid colon", "C18.7", "Sigmoid colon",
                     "60184004", "Sigmoid colon structure (body structure)"),
    "rectosigmoid": _site("C19", "Malignant neoplasm of rectosigmoid junction", "C19.9",
                          "Rectosigmoid junction"),
    "rectum": _site("C20", "Malignant neoplasm of rectum", "C20.9", "Rectum, NOS",
                    "34402009", "Rectum structure (body structure)"),
}
#: colorectal ICD-10-CM codes that do not say where: the tracker needs the site (sidedness)
COLORECTAL_UNSITED = {"C18.8": "overlapping sites of the colon", "C18.9": "an unspecified part of the colon"}
APPENDIX = "C18.1"

LIVER_METASTASES = Code(ICD10CM, "C78.7", "Secondary malignant neoplasm of liver and intrahepatic bile duct")
OTHER_METASTASES = Code(ICD10CM, "C79.9", "Secondary malignant neoplasm of unspecified site")
LIVER_STRUCTURE = Code(SNOMED, "10200004", "Liver structure (body structure)")
LIVER_TOPOGRAPHY = Code(ICDO3, "C22.0", "Liver")
PELVIS_TOPOGRAPHY = Code(ICDO3, "C76.3", "Pelvis, NOS")

PROBLEM_LIST_ITEM = Code(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")
ACTIVE = Code(CONDITION_CLINICAL, "active", "Active")
RECURRENCE = Code(CONDITION_CLINICAL, "recurrence", "Recurrence")
CONFIRMED = Code(CONDITION_VERIFICATION, "confirmed", "Confirmed")

# -- observations -------------------------------------------------------------------------------
ECOG = Code(LOINC, "89247-1", "ECOG Performance Status score")
TUMOR_SIZE = Code(LOINC, "21889-1", "Size Tumor")
LONGEST_DIMENSION = Code(LOINC, "33728-7", "Size.maximum dimension in Tumor")
VARIANT = Code(LOINC, "69548-6", "Genetic variant assessment")
GENE_STUDIED = Code(LOINC, "48018-6", "Gene studied [ID]")
PRESENT = Code(LOINC, "LA9633-4", "Present")
ABSENT = Code(LOINC, "LA9634-2", "Absent")
#: HGNC identifiers (the mCODE example "pertinent negative NRAS KIT BRAF" shows HGNC:7989 with
#: the display KIT and HGNC:6342 with NRAS: its displays are swapped; HGNC:7989 is NRAS)
GENES = {"KRAS": Code(HGNC, "HGNC:6407", "KRAS"), "NRAS": Code(HGNC, "HGNC:7989", "NRAS"),
         "BRAF": Code(HGNC, "HGNC:1097", "BRAF")}
RAS_GENES = ("KRAS", "NRAS")
MSI = Code(LOINC, "81695-9", "Microsatellite instability [Interpretation] in Cancer specimen Qualitative")
MSI_HIGH = Code(LOINC, "LA26203-2", "MSI-H")
MSI_LOW = Code(LOINC, "LA26202-4", "MSI-L")
MSI_STABLE = Code(LOINC, "LA14122-8", "Stable")
LABORATORY = Code(OBSERVATION_CATEGORY, "laboratory", "Laboratory")
SURVEY = Code(OBSERVATION_CATEGORY, "survey", "Survey")

DISEASE_STATUS = Code(LOINC, "97509-4", "Cancer disease status")
IMAGING = Code(SNOMED, "363679005", "Imaging (procedure)")
#: mcode-condition-status-trend-vs: what a RECIST response says about the disease's course
IMPROVED = Code(SNOMED, "268910001", "Patient's condition improved (finding)")
STABLE = Code(SNOMED, "359746009", "Patient's condition stable (finding)")
WORSENED = Code(SNOMED, "271299001", "Patient's condition worsened (finding)")
UNDETERMINED = Code(SNOMED, "709137006", "Patient condition undetermined (finding)")
TREND_OF_RESPONSE = {"CR": IMPROVED, "PR": IMPROVED, "SD": STABLE, "PD": WORSENED}

CURATIVE = Code(SNOMED, "373808002", "Curative - procedure intent")
PALLIATIVE = Code(SNOMED, "363676003", "Palliative - procedure intent")

# -- medication ---------------------------------------------------------------------------------
OXALIPLATIN = Code(RXNORM, "32592", "oxaliplatin")
#: mcode-treatment-termination-reason-vs codes for the stop reasons that have one; the others are
#: told in words (statusReason.text) and exactly in the journey-entry extension
TERMINATION = {
    "progression": Code(SNOMED, "266721009", "No response to treatment (situation)"),
    "toxicity": Code(SNOMED, "407563006", "Treatment not tolerated (situation)"),
    "patient_choice": Code(SNOMED, "105480006", "Refusal of treatment by patient (situation)"),
}
#: mcode-treatment-termination-reason-vs codes for what ended a line without a recorded stop
#: (journey.treatment.LineEnd's value, or the closing entry's type); the rest is told in words
LINE_END_TERMINATION = {
    "progression": TERMINATION["progression"],
    "death": Code(SNOMED, "419620001", "Death (event)"),
    "lost_to_follow_up": Code(SNOMED, "399307001", "Lost to follow-up (finding)"),
}

# -- the project's own code systems ------------------------------------------------------------
REGIMENS = local_codes("regimen", {
    "FOLFOX": "FOLFOX (folinic acid, fluorouracil, oxaliplatin)",
    "CAPOX": "CAPOX (capecitabine, oxaliplatin)",
    "FOLFIRI": "FOLFIRI (folinic acid, fluorouracil, irinotecan)",
    "FOLFOXIRI": "FOLFOXIRI (folinic acid, fluorouracil, oxaliplatin, irinotecan)",
    "FOLFIRINOX": "FOLFIRINOX (folinic acid, fluorouracil, irinotecan, oxaliplatin)",
    "IMMUNOTHERAPY": "Immune checkpoint inhibitor therapy",
    "OTHER": "Another systemic regimen",
})
BIOLOGICS = local_codes("biologic", {
    "anti_egfr": "Anti-EGFR antibody (cetuximab or panitumumab)",
    "bevacizumab": "Bevacizumab", "none": "No biologic"})
STOP_REASONS = local_codes("stop-reason", {
    "completed": "Completed as planned", "surgery": "Stopped for the operation",
    "progression": "Stopped for progression", "toxicity": "Stopped for toxicity",
    "patient_choice": "Stopped at the patient's choice", "other": "Stopped for another reason"})
PAUSE_REASONS = local_codes("pause-reason", {
    "toxicity": "Held for toxicity", "patient_choice": "Held at the patient's choice",
    "intercurrent_illness": "Held for an intercurrent illness", "other": "Held for another reason"})
PLANS = local_codes("mdt-plan", {
    "perioperative": "Perioperative chemotherapy", "upfront_surgery": "Upfront surgery",
    "conversion": "Conversion therapy", "immunotherapy": "Immunotherapy",
    "primary_first": "Primary tumour first", "liver_first": "Liver first",
    "simultaneous": "Simultaneous resection", "salvage": "Salvage (palliative) therapy",
    "surveillance": "Surveillance"})
PROCEDURES = local_codes("procedure", {
    "liver_resection": "Liver resection", "ablation": "Ablation of liver metastases",
    "primary_resection": "Resection of the primary tumour",
    "simultaneous_resection": "Simultaneous resection of the primary and the liver metastases",
    "portal_vein_embolisation": "Portal vein embolisation",
    "pelvic_radiotherapy": "Pelvic radiotherapy"})
MARGINS = local_codes("resection-margin", {
    "R0": "R0: no residual tumour", "R1": "R1: microscopic residual tumour",
    "R2": "R2: macroscopic residual tumour"})
RECIST = local_codes("recist-response", {
    "CR": "Complete response (RECIST)", "PR": "Partial response (RECIST)",
    "SD": "Stable disease (RECIST)", "PD": "Progressive disease (RECIST)"})
RECURRENCE_SITES = local_codes("recurrence-site", {
    "liver_only": "Liver only", "extrahepatic": "Extrahepatic only", "both": "Liver and extrahepatic"})
SYMPTOMS = local_codes("primary-symptom", {
    "bleeding": "Bleeding", "obstruction": "Obstruction", "perforation": "Perforation"})
OBSERVATIONS = local_codes("observation", {
    "recist-response": "Response of the liver metastases (RECIST)",
    "liver-resectable": "Liver metastases judged resectable",
    "resection-margin": "Resection margin (R classification)"})
ENTRY_TYPES = local_codes("entry-type", {
    "mdt_review": "MDT review", "systemic_started": "Systemic therapy started",
    "systemic_stopped": "Systemic therapy stopped", "systemic_paused": "Systemic therapy held",
    "systemic_resumed": "Systemic therapy resumed", "reassessment": "Resectability reassessment",
    "radiotherapy": "Pelvic radiotherapy", "surgery": "Operation", "recurrence": "Recurrence",
    "progression": "Progression", "death": "Death", "transfer": "Transfer to another centre",
    "lost_to_follow_up": "Lost to follow-up", "returned": "Returned to this centre's care"})
REMINDER_STATUSES = local_codes("reminder-status", {
    "scheduled": "Scheduled: not yet due", "due": "Due (within the grace period)",
    "overdue": "Overdue (past due and the grace period)"})
SNOOZE_REASONS = local_codes("snooze-reason", {
    "awaiting_scan": "Awaiting a scan", "awaiting_results": "Awaiting results",
    "treatment_delayed": "Treatment delayed", "patient_request": "At the patient's request",
    "other": "Another reason"})
DISMISS_REASONS = local_codes("dismiss-reason", {
    "patient_choice": "The patient's choice", "toxicity": "Toxicity", "mdt_decision": "An MDT decision",
    "progression": "Progression", "other": "Another reason"})


def reminder_kind(kind: str, meaning: str | None = None) -> Code:
    """A reminder kind: the domain's own name, in the project's reminder-kind code system."""
    return local("reminder-kind", kind, meaning or kind.replace("_", " "))


#: every project code system and its concepts (docs/fhir.md lists them; the import reads them)
LOCAL_CODE_SYSTEMS: dict[str, dict[str, Code]] = {
    next(iter(table.values())).system: table for table in (
        REGIMENS, BIOLOGICS, STOP_REASONS, PAUSE_REASONS, PLANS, PROCEDURES, MARGINS, RECIST,
        RECURRENCE_SITES, SYMPTOMS, OBSERVATIONS, ENTRY_TYPES, REMINDER_STATUSES, SNOOZE_REASONS,
        DISMISS_REASONS)}
