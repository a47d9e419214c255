"""Statements of the hot paths, run on the driver's own cursor.

SQLAlchemy's execution of a Core statement (the compiled cache's lookup, an
execution context, a result object, typed rows) costs several times what
SQLite or psycopg take to run a one-row statement. :class:`Statement`
compiles a Core statement once per dialect, keeps SQLAlchemy's own type
conversions of its parameters and columns, and runs it on the DBAPI cursor
of the caller's connection, inside the caller's transaction. So the SQL and
the stored values are exactly SQLAlchemy's; only its per-call work is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.expression import Executable

Convert = Callable[[Any], Any] | None

# psycopg's TransactionStatus.IDLE (not imported: SQLite needs no psycopg).
_IDLE = 0


class _Compiled:
    def __init__(
        self, statement: Executable, dialect: Dialect, keys: tuple[str, ...] | None
    ) -> None:
        compiled = statement.compile(  # type: ignore[attr-defined]
            dialect=dialect, column_keys=list(keys) if keys is not None else None
        )
        self.sql: str = str(compiled)
        binds = compiled.binds
        # The values the statement carries itself (a LIMIT, a WHERE id = 1).
        self.fixed = {
            name: bind.effective_value
            for name, bind in binds.items()
            if not bind.required
        }
        # Parameter names in the order a positional driver wants them.
        self.names: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positional else None
        )
        converts = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in binds.items()
        }
        # (name, conversion) in the order a positional driver takes them.
        self.params: tuple[tuple[str, Convert], ...] = tuple(
            (name, converts[name]) for name in (self.names or converts)
        )
        self.keys = tuple(name for name, _ in self.params)
        # A select's columns, or what an insert or update returns.
        columns = getattr(statement, "exported_columns", ())
        self.columns: tuple[Convert, ...] = tuple(
            c.type.dialect_impl(dialect).result_processor(dialect, None)
            for c in columns
        )

    def parameters(self, values: Mapping[str, Any]) -> Any:
        fixed = self.fixed
        converted = []
        for name, convert in self.params:
            value = values[name] if name in values else fixed[name]
            converted.append(value if convert is None else convert(value))
        if self.names is None:
            return dict(zip(self.keys, converted, strict=True))
        return tuple(converted)

    def row(self, values: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            convert(value) if convert else value
            for convert, value in zip(self.columns, values, strict=True)
        )


class Statement:
    """A Core statement run on the caller's DBAPI cursor (see the module)."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...] | None], _Compiled] = {}

    def _for(self, conn: Connection, keys: tuple[str, ...] | None = None) -> _Compiled:
        # An insert is compiled for the columns its rows carry.
        dialect = conn.dialect
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            found = self._compiled.setdefault(
                (dialect.name, keys), _Compiled(self.statement, dialect, keys)
            )
        return found

    def rows(
        self, conn: Connection, values: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """Run it with ``values``; the rows it returns, converted."""
        compiled = self._for(conn)
        cursor = _cursor(conn)
        parameters = compiled.parameters(values)
        _announce(conn, cursor, compiled.sql, parameters, many=False)
        try:
            cursor.execute(compiled.sql, parameters)
            found = cursor.fetchall() if cursor.description else []
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(conn, cursor, exc, compiled.sql, parameters) from exc
        finally:
            cursor.close()
        return [compiled.row(r) for r in found]

    def read(
        self, conn: Connection, values: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """:meth:`rows` of a read that needs no transaction of its own.

        On PostgreSQL, when the connection is in no transaction, it runs in
        autocommit: one round trip, where a transaction begun for it costs a
        ``BEGIN`` before and a ``ROLLBACK`` when the connection goes back to
        the pool; a connection found lost there is replaced and the read
        made again. In a transaction, or on SQLite, it is :meth:`rows`.
        """
        if conn.dialect.name != "postgresql" or conn.in_transaction():
            return self.rows(conn, values)
        try:
            return self._autocommit_rows(conn, values)
        except sa.exc.DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # The connection was lost (the database restarted): in no
            # transaction, the read is tried once more on a new one.
            return self._autocommit_rows(conn, values)

    def _autocommit_rows(
        self, conn: Connection, values: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        driver: Any = conn.connection.dbapi_connection
        if driver.autocommit or driver.info.transaction_status != _IDLE:
            return self.rows(conn, values)
        driver.autocommit = True
        try:
            return self.rows(conn, values)
        finally:
            if not driver.closed:
                driver.autocommit = False

    def many(self, conn: Connection, values: Sequence[Mapping[str, Any]]) -> None:
        """Run it once per mapping in ``values``, in one driver call; for an
        insert, with the columns of the first mapping, which all must share."""
        if not values:
            return
        # Every row has the same columns (the caller groups them so).
        compiled = self._for(conn, tuple(values[0]))
        cursor = _cursor(conn)
        parameters = [compiled.parameters(v) for v in values]
        _announce(conn, cursor, compiled.sql, parameters, many=True)
        try:
            if len(parameters) == 1:
                # psycopg runs executemany in a pipeline, whose sync costs
                # round trips of its own: for one row, execute is one.
                cursor.execute(compiled.sql, parameters[0])
            else:
                cursor.executemany(compiled.sql, parameters)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(conn, cursor, exc, compiled.sql, parameters) from exc
        finally:
            cursor.close()


def sqlite_batches(
    conn: Connection, sql: str, parameters: Sequence[Any] = (), size: int = 2000
) -> Iterator[list[tuple[Any, ...]]]:
    """A SQLite query's rows in batches of ``size`` tuples, straight from the
    driver's cursor in the caller's transaction.

    No Row objects and no type conversion: for a full pass over the log,
    with columns that need none (numbers, text, blobs), where building a
    Row a row costs more than SQLite's reading it.
    """
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.arraysize = size
        cursor.execute(sql, parameters)
        while batch := cursor.fetchmany(size):
            yield batch
    finally:
        cursor.close()


def _cursor(conn: Connection) -> Any:
    # The DBAPI connection under the pool's wrapper, in the caller's
    # transaction (begun by SQLAlchemy, or by the driver on its first write).
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def _announce(
    conn: Connection, cursor: Any, sql: str, parameters: Any, many: bool
) -> None:
    # Listeners of SQLAlchemy's before_cursor_execute (SQL logging, the tests'
    # query counts) still see every statement; without one this costs a test.
    if conn.dispatch.before_cursor_execute:
        conn.dispatch.before_cursor_execute(conn, cursor, sql, parameters, None, many)


def _wrapped(
    conn: Connection, cursor: Any, error: Exception, sql: str, parameters: Any
) -> sa.exc.DBAPIError:
    """The driver's error as SQLAlchemy would have raised it (an
    OperationalError for a lost connection, and so on), with the connection
    and the pool's older ones invalidated when the error says it is gone,
    as SQLAlchemy does."""
    dialect = conn.dialect
    gone = dialect.is_disconnect(
        error,  # type: ignore[arg-type]
        conn.connection.dbapi_connection,
        cursor,
    )
    if gone:
        # As SQLAlchemy does with an error of its own execution: every
        # connection of the pool older than now is replaced at its next
        # checkout, instead of failing a request each. (Pool._invalidate is
        # the call SQLAlchemy makes there; it has no public name.)
        conn.engine.pool._invalidate(conn.connection, error)
        conn.invalidate(error)
    wrapped = sa.exc.DBAPIError.instance(
        sql,
        parameters,
        error,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=gone,
        dialect=dialect,
    )
    assert isinstance(wrapped, sa.exc.DBAPIError)
    return wrapped
