"""The explorer's web server: the standard library's ThreadingHTTPServer, serving the page
(static/, from the package: nothing is fetched from elsewhere) and a small JSON + PNG API.

    GET  /                      the page
    GET  /static/NAME           its script and style
    GET  /api/info              the run and one control per label (Explorer.info)
    GET  /api/image?source=S    the image of a source as a PNG
    POST /api/upload            an image file's bytes (Content-Type image/* or
                                application/octet-stream) -> {"source": "upload:N"}
    POST /api/render            {"source", "settings"} -> the edited image and q(y_i | z_c^i)
    POST /api/swap              {"source", "other"} -> the two characteristic swaps
    POST /api/diversity         {"source", "label", "value"?, "num"?, "seed"?} -> draws, variance

Bad requests get a 4xx status with {"error": "one line"}: 400 for a malformed or impossible
request, 403 for a foreign Host header on a loopback server (DNS rebinding), 404, 405, 411
without a length, 413 over a size limit, 415 for another content or image type; anything
unexpected is 500 with a one-line message (the traceback goes to the log, never to the page).
Request parameters never name files: static files are a fixed table built when the server
starts, and images come from the run's data, the model, or uploads held in memory.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import PurePosixPath
from urllib.parse import parse_qs, urlsplit

from ..errors import InvalidRequest, UnsupportedImage, UploadTooLarge
from .pictures import MAX_UPLOAD_BYTES, png_bytes
from .session import Explorer

log = logging.getLogger(__name__)

MAX_JSON_BYTES = 64 * 2**10
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}  # fmt: skip
UPLOAD_TYPES = ("image/", "application/octet-stream")
# The page may load only what this server sends: no other site is ever contacted.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class Problem(Exception):
    """A request the server turns away with `status` and a one-line message."""

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


def static_files() -> dict[str, tuple[bytes, str]]:
    """{URL path: (bytes, content type)} of the page's files, read from the package once."""
    folder = resources.files(__package__).joinpath("static")
    files = {f"/static/{f.name}": (f.read_bytes(), CONTENT_TYPES[PurePosixPath(f.name).suffix])
             for f in folder.iterdir() if PurePosixPath(f.name).suffix in CONTENT_TYPES}  # fmt: skip
    files["/"] = files.pop("/static/index.html")
    return files


class ExplorerServer(ThreadingHTTPServer):
    """Serves an `Explorer` at (host, port); `url` is the page's address."""

    daemon_threads = True

    def __init__(self, explorer: Explorer, host: str, port: int):
        self.explorer, self.files = explorer, static_files()
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), ExplorerHandler)
        self.port = self.server_address[1]
        self.host = host
        self.allowed_hosts = loopback_names(host, self.port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"


def loopback_names(host: str, port: int) -> set[str] | None:
    """The Host headers a server on a loopback address accepts (None: any, for other addresses)."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        return None
    return {f"{name}:{port}" for name in ("localhost", "127.0.0.1", "[::1]", host)}


def make_server(explorer: Explorer, host: str = "127.0.0.1", port: int = 8000) -> ExplorerServer:
    """A server for `explorer` listening on host:port (port 0: any free one); call its
    `serve_forever()`. InvalidRequest if it cannot listen there (a port in use, say)."""
    try:
        return ExplorerServer(explorer, host, port)
    except OSError as e:
        raise InvalidRequest(f"cannot listen on {host}:{port} ({e.strerror or e})", setting="port") from e


class ExplorerHandler(BaseHTTPRequestHandler):
    server: ExplorerServer
    server_version, sys_version = "pyro-ccvae-explorer", ""
    protocol_version = "HTTP/1.1"
    # Headers and body leave as two writes: without TCP_NODELAY, Nagle's algorithm holds the
    # body until the client's delayed ACK, some 40 ms later on Linux.
    disable_nagle_algorithm = True

    # Dispatch ----------------------------------------------------------------------------------

    def do_GET(self):
        self.handle_request({"/api/info": self.get_info, "/api/image": self.get_image}, get=True)

    def do_POST(self):
        routes = {"/api/upload": self.post_upload, "/api/render": self.post_render,
                  "/api/swap": self.post_swap, "/api/diversity": self.post_diversity}  # fmt: skip
        self.handle_request(routes)

    def refuse(self):
        self.handle_request({})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = refuse

    def handle_request(self, routes: dict, get: bool = False):
        url = urlsplit(self.path)
        try:
            self.check_host()
            if get and url.path in self.server.files:
                return self.send(HTTPStatus.OK, *self.server.files[url.path])
            if url.path in routes:
                return routes[url.path](parse_qs(url.query))
            known = set(self.server.files) | {"/api/info", "/api/image", "/api/upload", "/api/render", "/api/swap",
                                              "/api/diversity"}  # fmt: skip
            if url.path in known:
                raise Problem(HTTPStatus.METHOD_NOT_ALLOWED, f"{self.command} is not allowed on {url.path}")
            raise Problem(HTTPStatus.NOT_FOUND, f"nothing at {url.path}")
        except Problem as e:
            self.send_problem(e.status, str(e))
        except UploadTooLarge as e:
            self.send_problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, str(e))
        except UnsupportedImage as e:
            self.send_problem(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, str(e))
        except InvalidRequest as e:
            self.send_problem(HTTPStatus.BAD_REQUEST, str(e))
        except Exception:
            log.exception("failed to answer %s %s", self.command, url.path)
            self.send_problem(HTTPStatus.INTERNAL_SERVER_ERROR, "the explorer failed to answer; its log says why")

    def check_host(self):
        allowed = self.server.allowed_hosts
        if allowed is not None and self.headers.get("Host") not in allowed:
            raise Problem(HTTPStatus.FORBIDDEN, "this server answers requests for its own loopback address only")

    # Endpoints -----------------------------------------------------------------------------

    def get_info(self, query):
        self.send_json(self.server.explorer.info())

    def get_image(self, query):
        source = query.get("source", [None])[0]
        if source is None:
            raise Problem(HTTPStatus.BAD_REQUEST, "name the image: /api/image?source=test:0")
        self.send(HTTPStatus.OK, png_bytes(self.server.explorer.picture(source)), "image/png")

    def post_upload(self, query):
        kind = self.headers.get("Content-Type", "")
        if not kind.startswith(UPLOAD_TYPES):
            raise Problem(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                          "send the image file's bytes with Content-Type image/... or application/octet-stream")  # fmt: skip
        data = self.read_body(MAX_UPLOAD_BYTES, f"an upload may be {MAX_UPLOAD_BYTES // 2**20} MiB at most")
        self.send_json({"source": self.server.explorer.upload(data)})

    def post_render(self, query):
        body = self.read_json({"source", "settings"})
        self.send_json(self.server.explorer.render(body.get("source"), body.get("settings", {})))

    def post_swap(self, query):
        body = self.read_json({"source", "other"})
        self.send_json(self.server.explorer.swap(body.get("source"), body.get("other")))

    def post_diversity(self, query):
        body = self.read_json({"source", "label", "value", "num", "seed"})
        self.send_json(self.server.explorer.diversity(**{"source": None, "label": None, **body}))

    # Reading and writing -------------------------------------------------------------------

    def read_body(self, limit: int, too_large: str) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            raise Problem(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
        if int(length) > limit:
            self.close_connection = True  # the body is left unread
            raise Problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, too_large)
        return self.rfile.read(int(length))

    def read_json(self, fields: set[str]) -> dict:
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            raise Problem(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send a JSON body with Content-Type application/json")
        data = self.read_body(MAX_JSON_BYTES, f"a request body may be {MAX_JSON_BYTES // 2**10} KiB at most")
        try:
            body = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise Problem(HTTPStatus.BAD_REQUEST, "the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise Problem(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
        unknown = sorted(set(body) - fields)
        if unknown:
            raise Problem(HTTPStatus.BAD_REQUEST, f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(fields))}")
        return body

    def send(self, status: HTTPStatus, body: bytes, content_type: str):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, data, status: HTTPStatus = HTTPStatus.OK):
        self.send(status, json.dumps(data).encode(), "application/json")

    def send_problem(self, status: HTTPStatus, message: str):
        self.close_connection = True  # a refused request's body may be unread
        self.send_json({"error": message}, status)

    def send_error(self, code, message=None, explain=None):
        """The standard library's own refusals (a malformed request line, say), as JSON."""
        self.send_problem(HTTPStatus(code), message or HTTPStatus(code).phrase)

    def log_message(self, format, *args):
        log.info("%s " + format, self.address_string(), *args)
