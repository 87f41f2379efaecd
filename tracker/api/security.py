"""Bearer-token authentication for the API: token checks against the database, one
problem+json 401 per token problem, and the `login_required` decorator that also documents
the bearer scheme in OpenAPI."""

from __future__ import annotations

from copy import deepcopy
from functools import wraps

from flask import Flask, g, request
from flask_jwt_extended import current_user, jwt_required
from flask_jwt_extended.config import config as jwt_config
from flask_jwt_extended.exceptions import (
    CSRFError, FreshTokenRequired, InvalidHeaderError, InvalidQueryParamError, JWTDecodeError, NoAuthorizationError,
    UserClaimsVerificationError, UserLookupError, WrongTokenError,
)
from jwt.exceptions import (
    DecodeError, ExpiredSignatureError, ImmatureSignatureError, InvalidAlgorithmError, InvalidAudienceError,
    InvalidIssuedAtError, InvalidIssuerError, InvalidJTIError, InvalidSignatureError, InvalidSubjectError,
    InvalidTokenError, MissingRequiredClaimError,
)

from tracker.domain.access import Principal, can_administer
from tracker.errors import Forbidden, problem_response
from tracker.extensions import api, jwt
from tracker.models import AuthSession
from tracker.services import sessions
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
        "description": "Missing, malformed, expired or wrong-type token, an ended session, or a deactivated account",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}

# Problems found by flask-jwt-extended and PyJWT; those found here (missing or malformed claims, an
# ended session) are raised as AuthError with their own codes (tracker.services.sessions).
_TOKEN_PROBLEMS = {
    NoAuthorizationError: ("auth.token_missing", "Thiếu mã truy cập (Authorization: Bearer ...). Missing bearer token."),
    InvalidHeaderError: ("auth.header_malformed", "Tiêu đề Authorization sai dạng; cần `Bearer <mã>`. Malformed Authorization header; send `Bearer <token>`."),
    ExpiredSignatureError: ("auth.token_expired", "Mã truy cập đã hết hạn. The token has expired."),
    ImmatureSignatureError: ("auth.token_not_yet_valid", "Mã truy cập chưa có hiệu lực. The token is not valid yet."),
    InvalidSignatureError: ("auth.token_bad_signature", "Chữ ký mã truy cập không hợp lệ. Bad token signature."),
    InvalidAlgorithmError: ("auth.token_bad_algorithm", "Thuật toán ký không được chấp nhận. Token algorithm not allowed."),
    InvalidIssuerError: ("auth.token_wrong_issuer", "Mã do nơi khác phát hành. The token was issued by someone else."),
    InvalidAudienceError: ("auth.token_wrong_audience", "Mã không dành cho dịch vụ này. The token is meant for another service."),
    MissingRequiredClaimError: ("auth.token_missing_claim", "Mã truy cập thiếu trường bắt buộc. The token lacks a required claim."),
    InvalidSubjectError: ("auth.token_bad_subject", "Chủ thể của mã không hợp lệ. The token's subject is not a user id."),
    InvalidJTIError: ("auth.token_bad_claim", "Mã định danh không hợp lệ. The token's id is invalid."),
    InvalidIssuedAtError: ("auth.token_bad_claim", "Thời điểm phát hành không hợp lệ. The token's issue time is invalid."),
    DecodeError: ("auth.token_malformed", "Mã truy cập sai định dạng. Malformed token."),
    WrongTokenError: ("auth.token_wrong_type", "Sai loại mã (refresh/access). Wrong token type for this operation."),
    UserLookupError: ("auth.user_inactive", "Tài khoản không còn hoạt động. The account is deactivated or gone."),
    CSRFError: ("auth.token_invalid", "Mã truy cập không hợp lệ. Invalid token."),
    FreshTokenRequired: ("auth.token_invalid", "Mã truy cập không hợp lệ. Invalid token."),
    InvalidQueryParamError: ("auth.token_invalid", "Mã truy cập không hợp lệ. Invalid token."),
    UserClaimsVerificationError: ("auth.token_invalid", "Mã truy cập không hợp lệ. Invalid token."),
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
    extra = {"claim": error.claim} if isinstance(error, MissingRequiredClaimError) else {}
    return problem_response(401, code, detail=detail, headers={"WWW-Authenticate": 'Bearer realm="tracker"'}, **extra)


def current_principal() -> Principal:
    """The signed-in user as the access rules see them (memberships loaded with the user)."""
    return principal_of(current_user)


def current_session() -> AuthSession:
    """The session the presented token belongs to (read with the user)."""
    return g.auth_session


def client_address() -> str:
    """The caller's address (from X-Forwarded-For when TRUSTED_PROXIES says to believe it)."""
    return request.remote_addr or "unknown"


def user_agent() -> str | None:
    return request.headers.get("User-Agent") or None


_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def login_required(**jwt_options):
    """jwt_required, documented: the operation shows the bearer scheme and its 401."""

    def decorator(func):
        @wraps(func)
        def checked(*args, **kwargs):
            if request.method not in _READ_METHODS and request.blueprint != "auth" and current_principal().only_closed:
                raise Forbidden("Đơn vị của bạn đã giải thể hoặc sáp nhập: chỉ được xem, không được thay đổi. "
                                "Your organisation is closed: you may read but not change anything.", code="organization.closed")
            return func(*args, **kwargs)

        checked._apidoc = getattr(func, "_apidoc", {})
        protected = jwt_required(**jwt_options)(checked)
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

    @jwt.decode_key_loader
    def _decode_key(_header, unverified_claims):
        # Called by flask-jwt-extended with the claims as sent, before it fills in its defaults.
        sessions.check_claims(unverified_claims)
        return jwt_config.decode_key

    @jwt.user_lookup_loader
    def _load_user(_header, claims):
        # The user and the session together, in one query; an ended session or a deactivated
        # account raises its own 401.
        user, g.auth_session = sessions.signed_in(claims)
        return user

    for error_class in _TOKEN_PROBLEMS:
        app.register_error_handler(error_class, _token_problem)
