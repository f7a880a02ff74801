"""Every error leaves the server as one JSON shape: {"error": {"code", "message", "details"?}}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.store import StoreUnavailable, not_stored, refusal

log = logging.getLogger("wargame.api")


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers, self.details = status, code, message, headers, details


def _body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return ErrorResponse(error=ErrorBody(code=code, message=message, details=details)).model_dump(exclude_none=True)


def readable_errors(errors: list[Any]) -> list[dict[str, Any]]:
    return [{"at": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")} for e in errors]


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(_body(exc.code, exc.message, exc.details), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = readable_errors(list(exc.errors()))
        summary = "; ".join(f"{d['at']}: {d['problem']}" for d in details)
        return JSONResponse(_body("invalid_request", summary or "invalid request", details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)

    async def _refused(_: Request, exc: Exception) -> JSONResponse:
        if (refused := refusal(exc)) is None:
            raise exc  # not a refusal: the 500 below, logged with its traceback
        log.error("a request was not stored: %s", refused)
        return JSONResponse(
            _body("store_unavailable", not_stored(refused)), status_code=503, headers={"Retry-After": "5"}
        )

    # The store names the refusals of what it writes; the lobby's other statements arrive as the driver's errors.
    app.add_exception_handler(StoreUnavailable, _refused)
    app.add_exception_handler(DBAPIError, _refused)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(_body("internal_error", "The server failed on this request."), status_code=500)
