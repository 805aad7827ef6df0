"""Errors the plane answers with; each maps to one gRPC status code in the servicers."""
from __future__ import annotations

import grpc


class PlaneError(Exception):
    code = grpc.StatusCode.INTERNAL


class InvalidArgument(PlaneError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(PlaneError):
    code = grpc.StatusCode.NOT_FOUND


class Unavailable(PlaneError):
    code = grpc.StatusCode.UNAVAILABLE


class FailedPrecondition(PlaneError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class ProtocolError(PlaneError):
    """An agent broke the session protocol (garbage, no Hello first, a second Hello)."""
    code = grpc.StatusCode.INVALID_ARGUMENT


class Aborted(PlaneError):
    """Ended midway for a reason the caller cannot retry blindly (a node lost while it ran a command)."""
    code = grpc.StatusCode.ABORTED


class ResourceExhausted(PlaneError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
