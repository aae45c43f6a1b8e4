"""The web entry point: server-rendered pages for the nurse navigators and the REST API.

``create_app(tracker)`` builds the FastAPI application; ``journey serve`` runs it with uvicorn.
"""

from tracker.web.app import create_app

__all__ = ["create_app"]
