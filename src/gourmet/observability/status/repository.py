"""All SQL of the status page."""

from __future__ import annotations

import msgspec

from gourmet.db.types import Conn
from gourmet.observability.status.schemas import Incident, IncidentPost

RECENT_DAYS = 7

_INCIDENTS_SQL = """
SELECT i.id, i.title, i.state, i.message, i.components, i.expected_resolution_at, i.created_at,
    i.updated_at, i.resolved_at,
    coalesce((SELECT json_agg(json_build_object('state', u.state, 'message', u.message,
        'expected_resolution_at', u.expected_resolution_at, 'author', u.author, 'at', u.at)
        ORDER BY u.id DESC) FROM incident_update u WHERE u.incident_id = i.id), '[]') AS updates
FROM incident i
WHERE i.state <> 'resolved' OR i.updated_at > now() - make_interval(days => %s)
ORDER BY (i.state = 'resolved'), i.updated_at DESC
"""


async def recent_incidents(conn: Conn) -> list[Incident]:
    rows = await (await conn.execute(_INCIDENTS_SQL, (RECENT_DAYS,))).fetchall()
    return [msgspec.convert(row, Incident, strict=False) for row in rows]


async def create_incident(conn: Conn, post: IncidentPost, author: str) -> int:
    row = await (
        await conn.execute(
            "INSERT INTO incident (title, state, message, components, expected_resolution_at,"
            " resolved_at) VALUES (%s, %s, %s, %s, %s,"
            " CASE WHEN %s = 'resolved' THEN now() END) RETURNING id",
            (
                post.title,
                post.state,
                post.message,
                list(post.components or ["ordering"]),
                post.expected_resolution_at,
                post.state,
            ),
        )
    ).fetchone()
    assert row is not None
    await _record_update(conn, row["id"], post, author)
    await _notify(conn)
    return int(row["id"])


async def update_incident(conn: Conn, incident_id: int, post: IncidentPost, author: str) -> bool:
    cursor = await conn.execute(
        "UPDATE incident SET state = %(state)s, message = %(message)s,"
        " title = coalesce(%(title)s, title), components = coalesce(%(components)s, components),"
        " expected_resolution_at = %(eta)s, updated_at = now(),"
        " resolved_at = CASE WHEN %(state)s = 'resolved' THEN coalesce(resolved_at, now()) END"
        " WHERE id = %(id)s",
        {
            "state": post.state,
            "message": post.message,
            "title": post.title,
            "components": list(post.components) if post.components else None,
            "eta": post.expected_resolution_at,
            "id": incident_id,
        },
    )
    if cursor.rowcount == 0:
        return False
    await _record_update(conn, incident_id, post, author)
    await _notify(conn)
    return True


async def _record_update(conn: Conn, incident_id: int, post: IncidentPost, author: str) -> None:
    await conn.execute(
        "INSERT INTO incident_update (incident_id, state, message, expected_resolution_at, author)"
        " VALUES (%s, %s, %s, %s, %s)",
        (incident_id, post.state, post.message, post.expected_resolution_at, author),
    )


async def _notify(conn: Conn) -> None:
    await conn.execute("SELECT pg_notify('status_changed', '')")
