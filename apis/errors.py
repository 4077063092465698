"""Errors raised by control-plane services, carrying AWS's status code and error type."""

from __future__ import annotations


class ApiError(Exception):
    status = 400
    error_type = "BadRequestException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    status = 400
    error_type = "BadRequestException"


class NotFound(ApiError):
    status = 404
    error_type = "NotFoundException"


class Conflict(ApiError):
    status = 409
    error_type = "ConflictException"


class LimitExceeded(ApiError):
    status = 429
    error_type = "LimitExceededException"


class TooManyRequests(ApiError):
    status = 429
    error_type = "TooManyRequestsException"


class Unauthorized(ApiError):
    status = 401
    error_type = "UnauthorizedException"


class AccessDenied(ApiError):
    status = 403
    error_type = "AccessDeniedException"


class ServiceUnavailable(ApiError):
    status = 503
    error_type = "ServiceUnavailableException"
