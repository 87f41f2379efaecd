"""`Idempotency-Key` on POST and PATCH: a retry with the same key returns the first outcome and
changes nothing more.

While such a request runs, the view's commit only flushes; after the answer is built, the answer
is stored with the change and both are committed at once. So either the change and its recorded
outcome are both saved (a retry replays the outcome) or neither is (a retry applies the change
once). Answers of 5xx are not stored: retrying them is what the key is for.
"""

from __future__ import annotations

import hashlib
import logging
import re

from flask import Flask, Response, g, request
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from sqlalchemy.exc import IntegrityError

from tracker.errors import AppError, handle_database_unavailable, is_database_unavailable, problem_response
from tracker.extensions import db
from tracker.services import idempotency

log = logging.getLogger("tracker.idempotency")

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}\Z")
_METHODS = {"POST", "PATCH"}


def _applies() -> bool:
    return (request.method in _METHODS and HEADER in request.headers and request.path.startswith("/api/v1/")
            and not request.path.startswith("/api/v1/auth/"))


def _request_hash() -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}?{request.query_string.decode('latin-1')}\n".encode())
    if request.mimetype == "multipart/form-data":
        # An upload is streamed to disk, never read twice: its size stands for its body.
        digest.update(f"multipart:{request.content_length}".encode())
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(record) -> Response:
    response = Response(record.response_body, status=record.status_code)
    for name, value in record.response_headers.items():
        response.headers[name] = value
    response.headers["Idempotency-Replayed"] = "true"
    return response


def _begin():
    if not _applies():
        return None
    key = request.headers[HEADER]
    if not _KEY.match(key):
        raise AppError("Idempotency-Key phải gồm 1–255 ký tự ASCII in được. Idempotency-Key must be 1–255 visible ASCII characters.",
                       code="idempotency.invalid_key", status=400)
    try:
        verify_jwt_in_request()
    except Exception as error:
        if is_database_unavailable(error):
            raise
        db.session.rollback()  # the view checks the token again and answers its problem itself
        return None
    user_id = int(get_jwt_identity())
    request_hash = _request_hash()
    record = idempotency.find(user_id, key)
    if record is not None:
        if record.request_hash != request_hash:
            raise AppError("Idempotency-Key này đã dùng cho một yêu cầu khác. This Idempotency-Key was used for another request.",
                           code="idempotency.key_reused", status=422)
        return _replay(record)
    g.idempotency = (user_id, key, request_hash)
    session = db.session()
    session.commit = session.flush  # the real commit happens with the stored outcome, in _finish
    g.idempotency_session = session
    return None


def _finish(response: Response) -> Response:
    pending = g.pop("idempotency", None)
    session = g.pop("idempotency_session", None)
    if pending is None:
        return response
    session.__dict__.pop("commit", None)
    user_id, key, request_hash = pending
    if response.status_code >= 500 or response.is_streamed:
        session.rollback()
        return response
    if response.status_code >= 400:
        session.rollback()  # an error changed nothing; its answer is still the outcome to replay
    headers = {name: response.headers[name] for name in idempotency.REPLAYED_HEADERS if name in response.headers}
    try:
        idempotency.remember(user_id, key, method=request.method, path=request.path, request_hash=request_hash,
                             status_code=response.status_code, headers=headers, body=response.get_data())
        session.commit()
    except IntegrityError:
        # The same key raced in another request, which won: its outcome is the one, ours is undone.
        session.rollback()
        record = idempotency.find(user_id, key)
        if record is not None and record.request_hash == request_hash:
            return _replay(record)
        return problem_response(409, "idempotency.in_progress",
                                detail="Một yêu cầu khác cùng Idempotency-Key đang được xử lý. Another request with this key is in progress.")
    except Exception as error:
        session.rollback()
        if is_database_unavailable(error):
            return handle_database_unavailable(error)
        raise
    return response


def init_app(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_finish)
