"""A trail that also counts the search matches the policy hid from the person.

``PatientService`` logs how many matches the policy hid (``hidden``) but
returns only the visible ones. An intake form must warn that the person exists
in another lab without showing which record: it reads the count here, from
the very event the service wrote.
"""

from __future__ import annotations

from typing import Any

from etanche.names import Action
from etanche.service._trail import Trail


class SearchTally(Trail):
    """The server's trail, counting hidden search matches; all else is delegated."""

    def __init__(self, inner: Trail) -> None:  # shares inner's log and alerts
        self._inner = inner
        self.hidden = 0

    def record(self, *args: Any, **kwargs: Any) -> Any:
        details = kwargs.get("details") or {}
        action = args[1] if len(args) > 1 else kwargs.get("action")
        if action == Action.PATIENT_SEARCH:
            count = details.get("hidden")
            self.hidden += count if isinstance(count, int) else 0
        return self._inner.record(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
