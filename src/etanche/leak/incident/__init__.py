"""Breach incidents: ENISA severity, the 72-hour deadline, the CNIL draft, letters.

GDPR art. 33 (notification to the supervisory authority within 72 hours of
discovery) and art. 34 (communication to the persons when the risk is high).
The operations people run (decided by the policy, audited) are the service's
``etanche.service.IncidentService``; this package holds the model, the severity
(pure functions), the draft and the letters.
"""

from etanche.leak.incident._french import fr_datetime
from etanche.leak.incident._letters import INDEX, LetterRun, LetterText, letter_text, write_letters
from etanche.leak.incident._model import (
    DEADLINE,
    FOUND_ON,
    KIND,
    Countdown,
    Entry,
    Incident,
    countdown,
    notification_deadline,
)
from etanche.leak.incident._notification import (
    HEADINGS,
    Notification,
    Section,
    build_notification,
    likely_consequences,
)
from etanche.leak.incident._pdf import font_files, sections_markdown, sections_pdf
from etanche.leak.incident._severity import (
    CATEGORY_LABELS,
    CIRCUMSTANCES,
    Circumstances,
    Factor,
    Level,
    Severity,
    assess,
    circumstances_of_breach,
    data_processing_context,
    ease_of_identification,
    found_categories,
    level_of,
    parse_circumstances,
)

__all__ = [
    "CATEGORY_LABELS",
    "CIRCUMSTANCES",
    "DEADLINE",
    "FOUND_ON",
    "HEADINGS",
    "INDEX",
    "KIND",
    "Circumstances",
    "Countdown",
    "Entry",
    "Factor",
    "Incident",
    "LetterRun",
    "LetterText",
    "Level",
    "Notification",
    "Section",
    "Severity",
    "assess",
    "build_notification",
    "circumstances_of_breach",
    "countdown",
    "data_processing_context",
    "ease_of_identification",
    "font_files",
    "found_categories",
    "fr_datetime",
    "letter_text",
    "level_of",
    "likely_consequences",
    "notification_deadline",
    "parse_circumstances",
    "sections_markdown",
    "sections_pdf",
    "write_letters",
]
