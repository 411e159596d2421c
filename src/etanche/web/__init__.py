"""The lab's web application (French pages) and FHIR R4 API, over the service room."""

from etanche.web._app import PUBLIC_PATHS, create_app
from etanche.web._config import WebConfig

__all__ = ["PUBLIC_PATHS", "WebConfig", "create_app"]
