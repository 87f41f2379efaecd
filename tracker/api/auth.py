from flask import request
from flask_jwt_extended import current_user, get_jwt

from tracker.api.security import current_principal, login_required
from tracker.extensions import db
from tracker.schemas.auth import AccessTokenSchema, LoginSchema, TokenPairSchema
from tracker.schemas.user import MeSchema
from tracker.services import auth
from tracker.web import Blueprint

URL_PREFIX = "/auth"
blp = Blueprint("auth", __name__, description="Đăng nhập: sign-in with bearer JWTs")


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
@blp.alt_response(401, description="Wrong username or password (the same for an unknown user)")
@blp.alt_response(429, description="Too many failed sign-ins; see Retry-After")
def login(credentials):
    """Sign in: an access token (short-lived) and a refresh token"""
    outcome = auth.login(credentials["username"], credentials["password"], request.remote_addr or "unknown")
    db.session.commit()  # failures are recorded even though the answer is an error
    if isinstance(outcome, auth.AuthError):
        raise outcome
    return outcome


@blp.route("/refresh", methods=["POST"])
@login_required(refresh=True)
@blp.response(200, AccessTokenSchema)
def refresh():
    """A new access token, for the refresh token presented"""
    return {"access_token": auth.refresh(current_user)}


@blp.route("/logout", methods=["POST"])
@login_required(verify_type=False)
@blp.response(204)
def logout():
    """Revoke the presented token (access or refresh), in every process"""
    auth.revoke(get_jwt())
    db.session.commit()


@blp.route("/me", methods=["GET"])
@login_required()
@blp.response(200, MeSchema)
def me():
    """The signed-in user, their memberships and their scope"""
    principal = current_principal()
    return {
        "user": current_user,
        "scope": {
            "all": principal.is_admin,
            "subtree_roots": sorted(principal.subtree_roots),
            "own_organizations": sorted(principal.own_organizations),
        },
    }
