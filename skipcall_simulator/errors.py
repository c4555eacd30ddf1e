"""Error answers, in the shapes the API documents."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: status plus body (the documented shape unless given)."""

    def __init__(self, status: int, code: str, message: str, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = (
            body
            if body is not None
            else {"error": {"code": code, "message": message, "status": status}}
        )


def validation_error(*messages: str) -> ApiError:
    """A NestJS ValidationPipe answer: the framework's default shape (REFERENCE §2.5)."""
    return ApiError(
        400,
        "BAD_REQUEST",
        messages[0],
        body={"statusCode": 400, "message": list(messages), "error": "Bad Request"},
    )
