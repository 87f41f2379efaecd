"""The change feed: what changed in the caller's scope since a cursor, for clients that sync."""

from tracker.api.security import current_principal, login_required
from tracker.schemas.change import ChangeQuerySchema, ChangesSchema
from tracker.services import clock, feed
from tracker.web import Blueprint

URL_PREFIX = "/changes"
blp = Blueprint("changes", __name__, description="Thay đổi: the change feed, for clients that keep a copy in sync")


@blp.route("", methods=["GET"])
@login_required()
@blp.arguments(ChangeQuerySchema, location="query")
@blp.response(200, ChangesSchema)
@blp.alt_response(400, description="A malformed or altered cursor (`changes.invalid_cursor`)")
@blp.alt_response(410, description="The cursor is another user's, or the caller's scope changed since it was made "
                                   "(`changes.resync_required`): sync again from the start, without `since`")
def list_changes(args):
    """Assignments, evidence and the caller's notifications changed since `since`, and the next cursor

    A client syncs by calling without `since` (everything in its scope, page by page), then
    following `next_cursor` for ever: each change comes exactly once, in the order the changes
    were committed. An item is an object's current state, or a tombstone (`deleted: true`) when
    the caller no longer sees it (its work passed to a unit outside the caller's scope). Withdrawn
    evidence is no tombstone: it stays, with its withdrawal. Nothing changes by the passing of
    days alone: the classification in an assignment is as of the day it was read."""
    return feed.read(current_principal(), args.get("since"), args["limit"], today=clock.today())
