"""Bearer-token authentication for the API: token checks against the database, one
problem+json 401 per token problem, and the `login_required` decorator that also documents
the bearer scheme in OpenAPI."""

from __future__ import annotations

from copy import deepcopy
from functools import wraps

from flask import Flask
from flask_jwt_extended import current_user, jwt_required
from flask_jwt_extended.exceptions import (
    JWTDecodeError, NoAuthorizationError, RevokedTokenError, UserLookupError, WrongTokenError,
)
from jwt.exceptions import (
    DecodeError, ExpiredSignatureError, InvalidAlgorithmError, InvalidSignatureError, InvalidTokenError,
)

from tracker.domain.access import Principal, can_administer
from tracker.errors import Forbidden, problem_response
from tracker.extensions import api, jwt
from tracker.services import auth
from tracker.services.access import principal_of

BEARER = [{"bearerAuth": []}]
_FORBIDDEN_DOC = {
    "403": {
        "description": "Signed in, but not an administrator",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}
_UNAUTHORIZED_DOC = {
    "401": {
        "description": "Missing, malformed, expired, revoked or wrong-type token, or a deactivated account",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}

_TOKEN_PROBLEMS = {
    NoAuthorizationError: ("auth.token_missing", "Thiếu mã truy cập (Authorization: Bearer ...). Missing bearer token."),
    ExpiredSignatureError: ("auth.token_expired", "Mã truy cập đã hết hạn. The token has expired."),
    InvalidSignatureError: ("auth.token_bad_signature", "Chữ ký mã truy cập không hợp lệ. Bad token signature."),
    InvalidAlgorithmError: ("auth.token_bad_algorithm", "Thuật toán ký không được chấp nhận. Token algorithm not allowed."),
    DecodeError: ("auth.token_malformed", "Mã truy cập sai định dạng. Malformed token."),
    WrongTokenError: ("auth.token_wrong_type", "Sai loại mã (refresh/access). Wrong token type for this operation."),
    RevokedTokenError: ("auth.token_revoked", "Mã truy cập đã bị thu hồi. The token has been revoked."),
    UserLookupError: ("auth.user_inactive", "Tài khoản không còn hoạt động. The account is deactivated or gone."),
    JWTDecodeError: ("auth.token_invalid", "Mã truy cập không hợp lệ. Invalid token."),
    InvalidTokenError: ("auth.token_invalid", "Mã truy cập không hợp lệ. Invalid token."),
}


def _token_problem(error: Exception):
    for cls in type(error).__mro__:
        if cls in _TOKEN_PROBLEMS:
            code, detail = _TOKEN_PROBLEMS[cls]
            break
    else:
        code, detail = _TOKEN_PROBLEMS[InvalidTokenError]
    return problem_response(401, code, detail=detail, headers={"WWW-Authenticate": 'Bearer realm="tracker"'})


def current_principal() -> Principal:
    """The signed-in user as the access rules see them (memberships loaded with the user)."""
    return principal_of(current_user)


def login_required(**jwt_options):
    """jwt_required, documented: the operation shows the bearer scheme and its 401."""

    def decorator(func):
        protected = jwt_required(**jwt_options)(func)
        docs = getattr(protected, "_apidoc", {})
        manual = docs.setdefault("manual_doc", {})
        manual.setdefault("security", BEARER)
        manual.setdefault("responses", {}).update(_UNAUTHORIZED_DOC)
        protected._apidoc = docs
        return protected

    return decorator


def admin_required(func):
    """Only admins; everyone else gets 403 (the endpoint itself is no secret)."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        if not can_administer(current_principal()):
            raise Forbidden("Chỉ quản trị viên được thực hiện. Administrators only.", code="auth.admin_only")
        return func(*args, **kwargs)

    wrapper._apidoc = deepcopy(getattr(func, "_apidoc", {}))
    wrapper._apidoc.setdefault("manual_doc", {}).setdefault("responses", {}).update(_FORBIDDEN_DOC)
    return login_required()(wrapper)


def init_app(app: Flask) -> None:
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})

    @jwt.user_lookup_loader
    def _load_user(_header, claims):
        user = auth.load_user(int(claims["sub"]))
        return user if user is not None and user.is_active else None

    @jwt.token_in_blocklist_loader
    def _is_revoked(_header, claims):
        return auth.is_revoked(claims["jti"])

    for error_class in _TOKEN_PROBLEMS:
        app.register_error_handler(error_class, _token_problem)
