"""/docs served whole by the app: Swagger UI's own files from the copy `make setup` puts in tools/.

FastAPI's /docs page loads Swagger UI's script and stylesheet from a CDN, so without internet it
is blank. With the npm package swagger-ui-dist installed at set-up time, the page names this
server's copy instead; without it (set-up skipped) FastAPI's CDN page stays.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI = Path(__file__).resolve().parents[2] / "tools" / "node_modules" / "swagger-ui-dist"
ASSETS = "/docs-assets"


def have_local_swagger_ui() -> bool:
    return (SWAGGER_UI / "swagger-ui-bundle.js").is_file()


def serve_local_swagger_ui(api: FastAPI) -> None:
    """GET /docs with Swagger UI's files from ASSETS; `api` must have been built with docs_url=None."""
    api.mount(ASSETS, StaticFiles(directory=SWAGGER_UI), name="docs-assets")

    @api.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=api.openapi_url or "/openapi.json",
            title=f"{api.title} - Swagger UI",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
