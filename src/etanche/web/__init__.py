"""The lab's web application (French pages) and FHIR R4 API, over the service room."""

from etanche.web._app import PUBLIC_PATHS, create_app
from etanche.web._config import WebConfig
from etanche.web._serving import Background, bind_tcp, bind_unix, run_workers, server_for

__all__ = [
    "PUBLIC_PATHS",
    "Background",
    "WebConfig",
    "bind_tcp",
    "bind_unix",
    "create_app",
    "run_workers",
    "server_for",
]
