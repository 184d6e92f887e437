"""The stylesheets, scripts and images under ``static/``, served by Litestar's static router.

A path that names no file is a 404 problem that says only that. Litestar's own answer names the
absolute path it looked at on the server, and a path the file system refuses to look up at all
(a NUL byte, a file used as a directory, a name too long) escaped as a 500.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

from litestar import Request, Response, Router
from litestar.exceptions import NotFoundException
from litestar.file_system import BaseLocalFileSystem
from litestar.static_files import create_static_files_router
from litestar.types import PathType
from litestar.types.file_types import FileInfo

from gourmet.http_errors import problem_response
from gourmet.problems import NotFound

# Lookups that fail because of what the path is, not because the disk failed.
_NO_SUCH_PATH = frozenset({errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP})


class StaticFiles(BaseLocalFileSystem):
    async def info(self, path: PathType, **kwargs: Any) -> FileInfo:
        try:
            return await super().info(path, **kwargs)
        except ValueError as exc:  # "embedded null byte": no file can have that name
            raise FileNotFoundError(errno.ENOENT, "no such file") from exc
        except OSError as exc:
            if exc.errno in _NO_SUCH_PATH:
                raise FileNotFoundError(errno.ENOENT, "no such file") from exc
            raise


def static_router(directory: Path) -> Router:
    return create_static_files_router(
        path="/static",
        directories=[directory],
        file_system=StaticFiles(),
        exception_handlers={NotFoundException: no_such_file},
    )


def no_such_file(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
    return problem_response(request, NotFound("No such file."))
