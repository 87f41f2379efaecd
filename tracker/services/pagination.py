"""Paging of SQL statements in the database, for flask-smorest's `@blp.paginate`.

Two ways through a list, over the same statement, in the same order, with the same exact total:

- by page number (`page`, `page_size`): LIMIT/OFFSET, any page directly, but the database walks
  every row before the page, so that the deep pages of a big list are slow;
- by cursor (`cursor`, `page_size`): keyset paging, "the `page_size` rows after this one", one
  index range whatever the depth. Every page of a list paged with an `ordering` gives the cursor
  of the next page, when there is one (`X-Next-Cursor`; `next_cursor` in `X-Pagination`).

A cursor is URL-safe base64 of a small JSON, {"s": ordering, "k": [the last row's sort key]},
a dot, and an HMAC-SHA256 of it under SECRET_KEY (so it is opaque and cannot be forged). It is
checked entirely before the list is counted or read: a malformed or altered cursor, or one made for another
ordering, is a 400 `pagination.invalid_cursor`. The keyset condition is derived from the
statement's own ORDER BY (each term's direction and the place of its NULLs: NULLS FIRST/LAST or
the database's default), so that it cannot drift from the order of the page-number pages.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import cached_property, wraps
from urllib.parse import urlencode

from flask import Response, current_app, request
from flask_smorest import Page
from sqlalchemy import and_, false, func, literal, or_, select, text, union_all
from sqlalchemy.sql import Select, operators, sqltypes
from sqlalchemy.sql.elements import BinaryExpression, BooleanClauseList, ColumnElement, Label, Null, UnaryExpression
from sqlalchemy.types import TypeDecorator

from tracker.errors import BadRequest
from tracker.extensions import db


MAX_OFFSET = 2**31 - 1  # beyond any table here; larger offsets would overflow the database's integers

CURSOR_PARAMETER = "cursor"
NEXT_CURSOR_HEADER = "X-Next-Cursor"
PAGINATION_HEADER = "X-Pagination"  # flask-smorest's PAGINATION_HEADER_NAME
INVALID_CURSOR = "pagination.invalid_cursor"
CURSOR_WITH_PAGE = "pagination.cursor_with_page"
MAX_CURSOR_LENGTH = 1024  # a few times the longest cursor made here
# The documentation of NEXT_CURSOR_HEADER, for `@blp.response(..., headers=CURSOR_HEADERS)`.
CURSOR_HEADERS = {NEXT_CURSOR_HEADER: {
    "schema": {"type": "string"},
    "description": "The cursor of the next page (also `next_cursor` in X-Pagination); absent on the last page",
}}
_CURSOR_CONTEXT = b"tracker.pagination.cursor\x00"  # the HMAC of a cursor is good for nothing else

# Where NULL sorts, when the ORDER BY does not say: after every value in PostgreSQL (ASC NULLS
# LAST, DESC NULLS FIRST), before every value in SQLite.
_NULLS_LARGEST = frozenset({"postgresql", "oracle"})


# --- cursors -----------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _mac(body: bytes) -> bytes:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, _CURSOR_CONTEXT + body, hashlib.sha256).digest()[:16]


def invalid_cursor() -> BadRequest:
    return BadRequest(
        "Con trỏ phân trang (cursor) không hợp lệ: bị hỏng, bị sửa hoặc của cách sắp xếp khác; hãy đọc lại từ trang đầu. "
        "The cursor is malformed, altered or made for another sort; start again from the first page.",
        code=INVALID_CURSOR,
    )


def encode_cursor(ordering: str, values: tuple) -> str:
    """The opaque cursor of the rows after a row whose sort key is `values`."""
    body = json.dumps({"s": ordering, "k": [_json_value(value) for value in values]}, separators=(",", ":")).encode()
    return f"{_b64(body)}.{_b64(_mac(body))}"


def decode_cursor(cursor: str, ordering: str, keys: tuple[SortKey, ...]) -> tuple:
    """The sort key a cursor holds, as values of the keys' types; 400 `pagination.invalid_cursor`
    unless it was made here, for this ordering, and every value is of its key's type."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
            raise ValueError("not a cursor")
        body_text, mac_text = cursor.split(".")
        body = _unb64(body_text)
        if not hmac.compare_digest(_unb64(mac_text), _mac(body)):
            raise ValueError("not signed here")
        payload = json.loads(body)
        if (not isinstance(payload, dict) or payload.keys() != {"s", "k"} or payload["s"] != ordering
                or not isinstance(payload["k"], list) or len(payload["k"]) != len(keys)):
            raise ValueError("not a cursor of this ordering")
        return tuple(key.from_json(value) for key, value in zip(keys, payload["k"]))
    except (ValueError, TypeError, UnicodeError) as error:  # JSONDecodeError and binascii.Error are ValueErrors
        raise invalid_cursor() from error


def _json_value(value):
    if isinstance(value, dt.date):  # datetimes too: ISO 8601, with their offset
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise TypeError(f"no cursor for a sort key value of type {type(value).__name__}")


# --- keyset conditions -------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # no __eq__: == between SQL expressions builds SQL
class SortKey:
    """One term of an ORDER BY: the expression, its direction, and where its NULLs go ("first",
    "last", or None: the database's default)."""

    expr: ColumnElement
    descending: bool = False
    nulls: str | None = None
    never_null: bool = False  # the statement's WHERE keeps only rows where it is not NULL

    @property
    def nullable(self) -> bool:
        """Whether the key can be NULL: a nullable column, or any expression but IS [NOT] NULL.
        (Columns of outer-joined tables would be NULL-able whatever they say: not used as keys.)"""
        if isinstance(self.expr, BinaryExpression) and self.expr.operator in (operators.is_, operators.is_not):
            return False
        return getattr(self.expr, "nullable", True)

    @property
    def nulls_possible(self) -> bool:
        """Whether rows of the statement can have the key NULL (`nullable` says what a cursor may hold)."""
        return self.nullable and not self.never_null

    @property
    def sql_type(self):
        type_ = self.expr.type
        return type_.impl_instance if isinstance(type_, TypeDecorator) else type_

    @property
    def kind(self) -> str:
        """What the key's values are, in a cursor's JSON."""
        type_ = self.sql_type
        for kind, types in (("bool", sqltypes.Boolean), ("datetime", sqltypes.DateTime), ("date", sqltypes.Date),
                            ("bigint", sqltypes.BigInteger), ("int", sqltypes.Integer), ("str", sqltypes.String)):
            if isinstance(type_, types):
                return kind
        raise TypeError(f"no keyset paging on a key of type {type_!r}: {self.expr}")

    def from_json(self, raw):
        """The key's value from a cursor's JSON; ValueError unless it is one of the key's values."""
        if raw is None:
            if self.nullable:
                return None
        elif self.kind == "bool" and isinstance(raw, bool):
            return raw
        elif self.kind in ("int", "bigint") and type(raw) is int and abs(raw) < 2 ** (63 if self.kind == "bigint" else 31):
            return raw
        elif self.kind == "str" and isinstance(raw, str) and "\x00" not in raw and len(raw) <= (self.sql_type.length or len(raw)):
            return raw
        elif self.kind == "date" and isinstance(raw, str):
            return dt.date.fromisoformat(raw)
        elif self.kind == "datetime" and isinstance(raw, str):
            moment = dt.datetime.fromisoformat(raw)
            if (moment.tzinfo is not None) == bool(self.sql_type.timezone):  # a moment with its zone, if the column keeps one
                return moment
        raise ValueError(f"not a value of {self.expr}")

    def nulls_after(self, nulls_largest: bool) -> bool:
        """Whether this key's NULLs come after all its values in the order."""
        if self.nulls is not None:
            return self.nulls == "last"
        return nulls_largest != self.descending

    def _bound(self, value) -> ColumnElement:
        return literal(value, self.expr.type)

    def equal(self, value) -> ColumnElement[bool]:
        return self.expr.is_(None) if value is None else self.expr == self._bound(value)

    def strictly_after(self, value) -> ColumnElement[bool]:
        """Values after `value` (not NULL), NULLs left out."""
        return self.expr < self._bound(value) if self.descending else self.expr > self._bound(value)

    def at_or_after(self, value) -> ColumnElement[bool]:
        """Values at or after `value` (not NULL), NULLs left out: a range an index on the key serves."""
        return self.expr <= self._bound(value) if self.descending else self.expr >= self._bound(value)

    def beyond(self, value, nulls_largest: bool) -> ColumnElement[bool]:
        """Rows whose key comes strictly after `value` in the order, NULLs in their place."""
        nulls_after = self.nulls_after(nulls_largest)
        if value is None:
            return false() if nulls_after else self.expr.is_not(None)
        if self.nulls_possible and nulls_after:
            return or_(self.strictly_after(value), self.expr.is_(None))
        return self.strictly_after(value)


_COMPARISONS = frozenset({operators.eq, operators.ne, operators.lt, operators.le, operators.gt, operators.ge})


def _never_null(stmt: Select, expr: ColumnElement) -> bool:
    """Whether a condition the statement's WHERE requires (a top-level conjunct) holds only where
    `expr` is not NULL: `expr IS NOT NULL`, or a comparison of it (`due_date < :as_of`)."""
    pending = list(stmt._where_criteria)  # noqa: SLF001 - no public reader of a Select's WHERE conjuncts
    while pending:
        condition = pending.pop()
        if isinstance(condition, BooleanClauseList) and condition.operator is operators.and_:
            pending.extend(condition.clauses)
        elif isinstance(condition, BinaryExpression) and condition.left.compare(expr):
            if isinstance(condition.right, Null):
                if condition.operator is operators.is_not:
                    return True
            elif condition.operator in _COMPARISONS:
                return True
    return False


def sort_keys(stmt: Select) -> tuple[SortKey, ...]:
    """The statement's ORDER BY as sort keys. The last must be a primary key (unique, never NULL),
    so that the order is total and a row's key says exactly where it stands."""
    keys = []
    for clause in stmt._order_by_clauses:  # noqa: SLF001 - SQLAlchemy has no public reader of a Select's ORDER BY
        nulls, descending = None, False
        if isinstance(clause, UnaryExpression) and clause.modifier in (operators.nulls_first_op, operators.nulls_last_op):
            nulls = "first" if clause.modifier is operators.nulls_first_op else "last"
            clause = clause.element
        if isinstance(clause, UnaryExpression) and clause.modifier in (operators.asc_op, operators.desc_op):
            descending = clause.modifier is operators.desc_op
            clause = clause.element
        if isinstance(clause, Label):
            clause = clause.element
        keys.append(SortKey(clause, descending, nulls, never_null=_never_null(stmt, clause)))
    if not keys or not getattr(keys[-1].expr, "primary_key", False):
        raise ValueError("keyset paging needs an ORDER BY that ends with a primary key")
    for key in keys:
        key.kind  # noqa: B018 - a key of a type cursors cannot hold fails here, not on a client's cursor
    return tuple(keys)


def keyset_after(keys: tuple[SortKey, ...], values: tuple, nulls_largest: bool) -> ColumnElement[bool]:
    """Rows strictly after a row whose sort key is `values`, in the order of `keys`:
    k1 beyond v1, or k1 = v1 and (k2 beyond v2, or k2 = v2 and (...))."""
    condition = None
    for key, value in reversed(tuple(zip(keys, values))):
        beyond = key.beyond(value, nulls_largest)
        condition = beyond if condition is None else or_(beyond, and_(key.equal(value), condition))
    return condition


def keyset_segments(keys: tuple[SortKey, ...], values: tuple, nulls_largest: bool) -> list[ColumnElement[bool]]:
    """The rows after `values` as one or two conditions whose rows follow one another in the order:
    those at or after the first key's value (one range of an index on it), then, when that key's
    NULLs come after its values, those where it is NULL. A single OR of both would cost PostgreSQL
    an index scan from the very first row."""
    first, value = keys[0], values[0]
    if len(keys) == 1:
        return [first.beyond(value, nulls_largest)]
    rest = keyset_after(keys[1:], values[1:], nulls_largest)
    nulls_after = first.nulls_after(nulls_largest)
    if value is None:
        segments = [and_(first.expr.is_(None), rest)]
        if not nulls_after:
            segments.append(first.expr.is_not(None))
        return segments
    segments = [and_(first.at_or_after(value), or_(first.strictly_after(value), rest))]
    if first.nulls_possible and nulls_after:
        segments.append(first.expr.is_(None))
    return segments


def nulls_largest() -> bool:
    return db.session.get_bind().dialect.name in _NULLS_LARGEST


def keyset_statement(stmt: Select, keys: tuple[SortKey, ...], values: tuple, limit: int) -> Select:
    """`stmt`'s first `limit` rows after the row whose sort key is `values`, in one statement."""
    segments = keyset_segments(keys, values, nulls_largest())
    if len(segments) == 1:
        return stmt.where(segments[0]).limit(limit)
    # The second segment's rows (the NULLs at the end) only when the first does not fill the page:
    # PostgreSQL then skips that branch altogether (a one-time filter), and each stays one range.
    primary_key = keys[-1].expr
    ids = stmt.with_only_columns(primary_key)
    first = ids.where(segments[0]).limit(limit).cte("keyset_first")
    later = ids.where(segments[1]).limit(limit).subquery("keyset_later")
    short = select(func.count()).select_from(first).scalar_subquery() < limit
    return stmt.where(primary_key.in_(union_all(select(first.c[0]), select(later.c[0]).where(short)))).limit(limit)


# --- pages -------------------------------------------------------------------------------------


class SQLPage(Page):
    """One COUNT and one bounded SELECT per page, whatever the table's size. `count`, when given,
    is tried first for the total (maintained tallies, tracker.services.tallies); when it returns
    None the statement is counted.

    With `ordering` (a name for the statement's order, written into its cursors; the ORDER BY must
    end with the primary key), the list also pages by cursor: `cursor` is one a previous page gave
    (None: by page number), and each page knows the cursor of the next (`next_cursor`, `headers`).
    The SELECT then reads one row more than the page, to know whether there is a next page, and the
    sort key columns. A bad cursor is refused (400) before the COUNT and the SELECT."""

    def __init__(self, collection, page_params, count=None, *, ordering: str | None = None, cursor: str | None = None):
        self._count = count
        self._ordering = ordering
        self._keys = sort_keys(collection) if ordering else ()
        if cursor is not None and not ordering:
            raise ValueError("a cursor needs an ordering")
        self._after = decode_cursor(cursor, ordering, self._keys) if cursor is not None else None
        super().__init__(collection, page_params)

    def _beyond_the_end(self) -> bool:
        return self.page_params.first_item > min(self.item_count, MAX_OFFSET)

    @property
    def items(self):
        return [item for item, _ in self._page[0]]

    @property
    def next_cursor(self) -> str | None:
        """The cursor of the next page; None on the last page, or without an ordering."""
        return self._page[1]

    @property
    def headers(self) -> dict[str, str]:
        """Response headers of the page: the next page's cursor, when there is one."""
        return {NEXT_CURSOR_HEADER: self.next_cursor} if self.next_cursor else {}

    @cached_property
    def _page(self) -> tuple[list[tuple], str | None]:
        """The page's (item, sort key) pairs, and the next page's cursor."""
        stmt: Select = self.collection
        size = self.page_params.page_size
        _serial_page()
        if self._after is not None:
            stmt = keyset_statement(stmt, self._keys, self._after, size + 1)
        elif self._beyond_the_end():
            return [], None
        elif not self._keys:
            return self._load(stmt.limit(size).offset(self.page_params.first_item), 0), None
        else:
            stmt = stmt.limit(size + 1).offset(self.page_params.first_item)
        rows = self._load(stmt.add_columns(*(key.expr.label(f"keyset_{n}") for n, key in enumerate(self._keys))),
                          len(self._keys))
        if len(rows) <= size:
            return rows, None
        return rows[:size], encode_cursor(self._ordering, rows[size - 1][1])

    def _load(self, stmt: Select, width: int) -> list[tuple]:
        """(item, sort key) of each row, the key being the last `width` columns."""
        if not width:
            return [(item, ()) for item in db.session.scalars(stmt).unique()]
        return [(row[0], tuple(row[1:])) for row in db.session.execute(stmt).unique()]

    @cached_property
    def item_count(self):
        if self._count is not None:
            found = self._count()
            if found is not None:
                return found
        stmt: Select = self.collection
        return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))


def _serial_page() -> None:
    """A page is a few dozen rows read along an index: on PostgreSQL, no parallel workers for the
    rest of the transaction. Starting them costs about 10 ms on a small machine, more than the page
    itself, and the planner picks them for a big table whatever the LIMIT."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


class RowPage(SQLPage):
    """The same for statements selecting columns: rows instead of ORM objects."""

    def _load(self, stmt: Select, width: int) -> list[tuple]:
        result = db.session.execute(stmt)
        if not width:
            return [(row, ()) for row in result]
        shown = len(result.keys()) - width
        frozen = result.freeze()  # the rows read once, served twice: as selected, and without the key columns
        return [(row, tuple(full[shown:])) for row, full in zip(frozen().columns(*range(shown)), frozen())]


def cursor_paging(view):
    """For a list paged with an `ordering`, between `@blp.arguments` and `@blp.response`: refuses
    `cursor` with `page` (400 `pagination.cursor_with_page`) before anything runs, and adds the
    next page's cursor (the view returns `page.headers`) to `X-Pagination` as `next_cursor`. A page
    read by cursor has no number: its `X-Pagination` gives the total and the last page but no page
    numbers, and its `Link` the first and last pages by number and the next one by cursor."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if CURSOR_PARAMETER in request.args and "page" in request.args:
            raise BadRequest(
                "Dùng `cursor` hoặc `page`, không dùng cả hai: con trỏ đã xác định trang. "
                "Send either `cursor` or `page`, not both: the cursor says where the page starts.",
                code=CURSOR_WITH_PAGE,
            )
        response = view(*args, **kwargs)
        if isinstance(response, Response) and PAGINATION_HEADER in response.headers:
            _add_next_cursor(response.headers)
        return response

    return wrapper


def _add_next_cursor(headers) -> None:
    meta = json.loads(headers[PAGINATION_HEADER])
    next_cursor = headers.get(NEXT_CURSOR_HEADER)
    if next_cursor:
        meta["next_cursor"] = next_cursor
    if CURSOR_PARAMETER in request.args:
        for name in ("page", "previous_page", "next_page"):
            meta.pop(name, None)
        args = {name: values for name, values in request.args.to_dict(flat=False).items() if name != CURSOR_PARAMETER}

        def link(rel: str, name: str, value) -> str:
            return f'<{request.base_url}?{urlencode({**args, name: [str(value)]}, doseq=True)}>; rel="{rel}"'

        links = [link("first", "page", meta["first_page"])] if "first_page" in meta else []
        if next_cursor:
            links.append(link("next", CURSOR_PARAMETER, next_cursor))
        if "last_page" in meta:
            links.append(link("last", "page", meta["last_page"]))
        if links:
            headers["Link"] = ", ".join(links)
        else:
            headers.pop("Link", None)
    headers[PAGINATION_HEADER] = json.dumps(meta)
