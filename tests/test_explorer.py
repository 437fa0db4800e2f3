"""The explorer's API (pyro_ccvae.explorer), in process over loopback HTTP: every endpoint,
its pictures against the library's own manipulations, and every kind of bad request (bad
uploads, out-of-range settings, unknown paths) answered with a 4xx and one line."""

import http.client
import io
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from pyro_ccvae_cli.main import cli

from pyro_ccvae.analysis.generate import conditional_samples
from pyro_ccvae.analysis.manipulate import (
    diversity,
    intervene,
    intervene_latents,
    pixel_variance,
    reconstruct,
    swap,
    traversal_points,
    traverse,
)
from pyro_ccvae.baselines import M2, M2Config
from pyro_ccvae.core.assignments import assignment_tensors
from pyro_ccvae.datasets.image_files import load_square
from pyro_ccvae.errors import NotSupported
from pyro_ccvae.explorer import Explorer, ExplorerServer, make_server, session
from pyro_ccvae.explorer.controls import TRAVERSAL_STEPS
from pyro_ccvae.explorer.pictures import MAX_UPLOAD_BYTES
from pyro_ccvae.explorer.server import static_files
from pyro_ccvae.training.runs import load_model, load_run_data

from .browser import data_url_pixels, serving

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def url(explorer):
    with serving(explorer) as address:
        yield address


@pytest.fixture(scope="module")
def test_images(mixed_run, explorer):
    data = load_run_data(mixed_run, explorer.model)
    return data.images[data.split_indices("test")], data.labels[data.split_indices("test")]


@pytest.fixture(autouse=True)
def _no_gradients():
    with torch.no_grad():  # in this thread only: the server's threads keep their own mode
        yield


def call(url, method, path, body=None, headers=None):
    """(status, headers, body bytes) of one request; a dict body is sent as JSON."""
    if isinstance(body, (dict, list)):
        body, headers = json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})}
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def refused(url, status, method, path, body=None, headers=None, contains=""):
    """Asserts a refusal: `status`, a one-line JSON error holding `contains`, no traceback."""
    code, header, data = call(url, method, path, body, headers)
    assert code == status, (code, data[:300])
    assert header["Content-Type"] == "application/json"
    message = json.loads(data)["error"]
    assert "\n" not in message and "Traceback" not in message and contains in message, message
    return message


def pixels(png: bytes) -> np.ndarray:
    array = np.asarray(Image.open(io.BytesIO(png)))
    return array[..., None] if array.ndim == 2 else array


def as_pixels(image: torch.Tensor) -> np.ndarray:
    """The library's float image [C, S, S] as the uint8 [S, S, C] a PNG of it holds (+-1)."""
    return (image.detach().clamp(0, 1) * 255).permute(1, 2, 0).numpy()


def assert_shows(data_url, image, tolerance=1.0):
    shown = data_url_pixels(data_url).astype(np.float64)
    assert shown.shape == as_pixels(image).shape
    assert np.abs(shown - as_pixels(image)).max() <= tolerance


def render(url, source, settings):
    status, _, data = call(url, "POST", "/api/render", {"source": source, "settings": settings})
    assert status == 200, data
    return json.loads(data)


def x_of(explorer, n):
    return explorer.image(f"test:{n}").unsqueeze(0)


# The page and its files -------------------------------------------------------------------------


def test_the_page_and_its_files_come_from_the_package_and_name_no_other_site(url):
    status, headers, page = call(url, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'src="/static/explorer.js"' in page and b'href="/static/explorer.css"' in page
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    for name in ("explorer.js", "explorer.css"):
        status, headers, _ = call(url, "GET", f"/static/{name}")
        assert status == 200 and headers["Content-Type"].startswith(("text/javascript", "text/css"))
    for path, (data, _) in static_files().items():
        text = data.decode()
        assert "http:" not in text and "https:" not in text and "//cdn" not in text, path
        assert "@import" not in text and "@font-face" not in text, path


def test_the_package_installs_its_static_files(tmp_path):
    """setup.py's package_data carries static/ into a build of the package."""
    result = subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path)],
                            cwd=REPO, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    built = {p.name for p in (tmp_path / "pyro_ccvae" / "explorer" / "static").iterdir()}
    assert built == {p.name for p in (REPO / "pyro_ccvae" / "explorer" / "static").iterdir()}


def test_info_gives_one_control_per_label_shaped_by_its_kind(url, explorer):
    status, _, data = call(url, "GET", "/api/info")
    assert status == 200
    info = json.loads(data)
    labels = explorer.model.config.labels
    assert [c["name"] for c in info["labels"]] == [label.name for label in labels]
    assert info["image_shape"] == [3, 16, 16] and info["test_images"] == explorer.images.shape[0] > 0
    for control, label in zip(info["labels"], labels):
        assert control["kind"] == label.kind
        if label.kind == "binary":
            assert control["widget"] == "slider" and (control["min"], control["max"]) == (0, TRAVERSAL_STEPS - 1)
            low_mark, high_mark = control["marks"]
            assert low_mark["at"] < high_mark["at"]  # the y=0 side, then the y=1 side, with room beyond
            assert low_mark["at"] > 0 and high_mark["at"] < TRAVERSAL_STEPS - 1
        elif label.kind == "categorical":
            assert control["widget"] == "classes" and control["classes"] == list(label.classes)
        else:
            assert control["widget"] == "range"
            assert (control["min"], control["max"]) == pytest.approx(label.traversal_ends())


# Images ---------------------------------------------------------------------------------------------


def test_image_serves_test_images_and_prior_draws(url, explorer, test_images):
    images, _ = test_images
    status, headers, data = call(url, "GET", "/api/image?source=test:3")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert np.array_equal(pixels(data), images[3].transpose(1, 2, 0))  # the data's own pixels
    status, _, data = call(url, "GET", "/api/image?source=prior:7")
    y, mask = assignment_tensors({}, explorer.model.config.label_names, 1)
    drawn = conditional_samples(explorer.model, y, mask, torch.Generator().manual_seed(7))[0]
    assert np.abs(pixels(data) - as_pixels(drawn)).max() <= 1
    assert not np.array_equal(data, call(url, "GET", "/api/image?source=prior:8")[2])


# Rendering: the library's interventions, control by control --------------------------------


def test_render_without_settings_is_the_reconstruction(url, explorer):
    answer = render(url, "test:2", {})
    assert_shows(answer["image"], reconstruct(explorer.model, x_of(explorer, 2))[0])
    assert answer["captions"] == []


def test_a_binary_slider_position_is_that_point_of_the_traversal(url, explorer):
    x = x_of(explorer, 1)
    path = traverse(explorer.model, x, ["Smiling"], steps=TRAVERSAL_STEPS)[0]  # [steps, C, S, S]
    for position in (0, 37, TRAVERSAL_STEPS - 1):
        assert_shows(render(url, "test:1", {"Smiling": position})["image"], path[position])
    ends = [data_url_pixels(render(url, "test:1", {"Smiling": p})["image"]) for p in (0, TRAVERSAL_STEPS - 1)]
    assert not np.array_equal(*ends)


def test_a_class_and_a_value_set_the_block_to_the_prior_mean(url, explorer):
    x = x_of(explorer, 0)
    for settings in ({"Hair": 3}, {"Age": 70.0}, {"Hair": 0, "Age": 25.0}):
        expected = intervene(explorer.model, x, settings, use_mean=True)[0]
        answer = render(url, "test:0", settings)
        assert_shows(answer["image"], expected)
    assert answer["captions"] == ["Hair=black", "Age=25"]


def edited(model, z_c, values, positions):
    """z_c with the library's edits: label blocks set to the mean of p(z_c^i | y_i = value)
    ({name: value}), then set to points of their traversal ({name: position})."""
    names = model.config.label_names
    out = intervene_latents(model, z_c, {names.index(n): v for n, v in values.items()}, use_mean=True)
    for name, position in positions.items():
        out[:, names.index(name)] = traversal_points(model, names.index(name), TRAVERSAL_STEPS)[position]
    return out


def test_settings_compose_over_labels(url, explorer):
    """A slider and a class together: the traversal point in one block, the class mean in another."""
    z_c, z_s = explorer.model.encode(x_of(explorer, 4))
    expected = explorer.model.decode(edited(explorer.model, z_c, {"Hair": 1}, {"Smiling": 80}), z_s)[0]
    assert_shows(render(url, "test:4", {"Hair": 1, "Smiling": 80})["image"], expected.detach())


def test_beliefs_are_the_classifier_on_the_edited_codes(url, explorer):
    model = explorer.model
    answer = render(url, "test:5", {"Hair": 2, "Age": 60.0, "Smiling": 100})
    z_c, _ = model.encode(x_of(explorer, 5))
    codes = edited(model, z_c, {"Hair": 2, "Age": 60.0}, {"Smiling": 100})
    for group in model.label_groups:
        q = group.q_y(group.blocks_of(codes))
        for j, label in enumerate(group.labels):
            belief = answer["beliefs"][label.name]
            if label.kind == "binary":
                assert belief["probs"] == pytest.approx([1 - float(q.probs[0, j]), float(q.probs[0, j])], abs=1e-5)
            elif label.kind == "categorical":
                assert belief["probs"] == pytest.approx(q.probs[0, j].tolist(), abs=1e-5)
                assert belief["text"].startswith(label.classes[int(np.argmax(belief["probs"]))])
            else:
                assert belief["value"] == pytest.approx(float(q.mean[0, j]), rel=1e-4)
                assert belief["sd"] == pytest.approx(float(q.stddev[0, j]), rel=1e-4)
    assert sum(answer["beliefs"]["Hair"]["probs"]) == pytest.approx(1, abs=1e-5)


def test_encoded_settings_and_data_labels_describe_the_image(url, explorer, test_images):
    _, labels = test_images
    model = explorer.model
    answer = render(url, "test:6", {})
    z_c, _ = model.encode(x_of(explorer, 6))
    predicted = model.predict_labels(z_c)[0]
    names = model.config.label_names
    assert answer["encoded"]["Hair"] == float(predicted[names.index("Hair")])
    slider = explorer.controls["Smiling"]
    position = answer["encoded"]["Smiling"]
    distances = (slider.points - z_c[0, names.index("Smiling")]).norm(dim=-1)
    assert distances[position] <= distances.min() + 1e-6 or position in (0, TRAVERSAL_STEPS - 1)
    hair = model.config.labels[names.index("Hair")]
    assert answer["data"]["Hair"] == hair.format(labels[6, names.index("Hair")])
    assert render(url, "prior:3", {})["data"] is None


# Swap and diversity -----------------------------------------------------------------------------


def test_swap_is_the_library_swap_both_ways(url, explorer):
    status, _, data = call(url, "POST", "/api/swap", {"source": "test:0", "other": "test:1"})
    assert status == 200
    answer = json.loads(data)
    cells = swap(explorer.model, torch.cat([x_of(explorer, 0), x_of(explorer, 1)]),
                 torch.cat([x_of(explorer, 0), x_of(explorer, 1)]))  # fmt: skip
    assert_shows(answer["source_on_other"], cells[0, 1])
    assert_shows(answer["other_on_source"], cells[1, 0])


def test_diversity_is_the_library_diversity_with_its_variance(url, explorer):
    request = {"source": "test:2", "label": "Hair", "value": 4, "num": 5, "seed": 11}
    status, _, data = call(url, "POST", "/api/diversity", request)
    assert status == 200
    answer = json.loads(data)
    x = x_of(explorer, 2)[0]
    samples = diversity(explorer.model, x, "Hair", 4.0, 5, torch.Generator().manual_seed(11))
    assert len(answer["samples"]) == 5 and answer["text"] == "Hair=grey"
    for shown, sample in zip(answer["samples"], samples):
        assert_shows(shown, sample)
    assert answer["max_variance"] == pytest.approx(float(pixel_variance(samples).max()), rel=1e-5)
    variance = data_url_pixels(answer["variance"])
    assert variance.shape == (16, 16, 3) and variance.std() > 0
    status, _, data = call(url, "POST", "/api/diversity", {"source": "test:2", "label": "Age"})
    predicted = float(explorer.model.predict(x.unsqueeze(0))[0, explorer.model.config.label_names.index("Age")])
    assert status == 200 and json.loads(data)["value"] == pytest.approx(predicted)


# Uploads ------------------------------------------------------------------------------------------


def image_file(kind="PNG", size=(40, 24), mode="RGB") -> bytes:
    """A picture with a different colour in each quarter, as file bytes."""
    array = np.zeros((size[1], size[0], 3), np.uint8)
    array[: size[1] // 2, : size[0] // 2] = (250, 10, 10)
    array[size[1] // 2 :, size[0] // 2 :] = (10, 10, 250)
    array[: size[1] // 2, size[0] // 2 :] = (10, 250, 10)
    buffer = io.BytesIO()
    Image.fromarray(array).convert(mode).save(buffer, kind)
    return buffer.getvalue()


@pytest.mark.parametrize("kind, mode", [("PNG", "RGB"), ("JPEG", "RGB"), ("PNG", "L"), ("GIF", "P")])
def test_an_upload_is_cut_and_resized_as_the_runs_data_and_can_be_edited(url, explorer, kind, mode):
    upload = image_file(kind, mode=mode)
    status, _, data = call(url, "POST", "/api/upload", upload, {"Content-Type": f"image/{kind.lower()}"})
    assert status == 200, data
    source = json.loads(data)["source"]
    assert source.startswith("upload:")
    status, _, png = call(url, "GET", f"/api/image?source={source}")
    expected = load_square(io.BytesIO(upload), 16, "RGB").transpose(1, 2, 0)
    assert status == 200 and np.array_equal(pixels(png), expected)
    x = torch.from_numpy(expected.transpose(2, 0, 1).copy()).float().div(255).unsqueeze(0)
    assert_shows(render(url, source, {"Hair": 1})["image"], intervene(explorer.model, x, {"Hair": 1}, use_mean=True)[0])


def big_image(width=8000, height=7000) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, "PNG")  # 56 million pixels in a small file
    return buffer.getvalue()


@pytest.mark.parametrize(
    "body, headers, status, contains",
    [
        (b"", {"Content-Type": "image/png"}, 400, "empty"),
        (b"hello, not an image", {"Content-Type": "image/png"}, 415, "not an image"),
        (image_file("TIFF"), {"Content-Type": "image/tiff"}, 415, "a TIFF image; send one of PNG, JPEG"),
        (image_file("PNG")[:60], {"Content-Type": "image/png"}, 400, "cannot be decoded"),
        (image_file("PNG"), {"Content-Type": "text/plain"}, 415, "Content-Type image/"),
        (image_file("PNG"), {"Content-Type": "image/png", "Content-Length": str(MAX_UPLOAD_BYTES + 1)}, 413, "MiB"),
        (big_image(), {"Content-Type": "image/png"}, 413, "pixels"),
    ],
    ids=["empty", "text", "tiff", "truncated", "content-type", "too-many-bytes", "too-many-pixels"],
)
def test_bad_uploads_are_refused_with_a_clear_message(url, body, headers, status, contains):
    refused(url, status, "POST", "/api/upload", body, headers, contains)


def raw_request(url, data: bytes) -> str:
    """The server's answer to bytes sent as they are (what http.client would not send)."""
    address = urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(data)
        chunks = iter(lambda: connection.recv(65536), b"")  # until the server closes
        return b"".join(chunks).decode()


def test_an_upload_without_a_length_is_refused(url):
    host = urlsplit(url).netloc
    answer = raw_request(url, f"POST /api/upload HTTP/1.1\r\nHost: {host}\r\nContent-Type: image/png\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n".encode())  # fmt: skip
    assert answer.startswith("HTTP/1.1 411") and "send the body with a Content-Length" in answer


def test_old_uploads_are_forgotten(url, explorer, monkeypatch):
    monkeypatch.setattr(session, "KEPT_UPLOADS", 2)
    sources = [json.loads(call(url, "POST", "/api/upload", image_file(), {"Content-Type": "image/png"})[2])["source"]
               for _ in range(3)]  # fmt: skip
    assert len(explorer.uploads) == 2
    refused(url, 400, "GET", f"/api/image?source={sources[0]}", contains="upload the image again")
    refused(url, 400, "POST", "/api/render", {"source": sources[0], "settings": {}}, contains="upload the image again")
    assert call(url, "GET", f"/api/image?source={sources[2]}")[0] == 200


# Bad requests ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings, contains",
    [
        ({"Smiling": TRAVERSAL_STEPS}, f"position 0 to {TRAVERSAL_STEPS - 1}"),
        ({"Smiling": -1}, "position 0 to"),
        ({"Smiling": 2.5}, "position 0 to"),
        ({"Smiling": True}, "position 0 to"),
        ({"Hair": 5}, "class index 0 to 4"),
        ({"Hair": 1.5}, "class index 0 to 4"),
        ({"Hair": "blond"}, "must be a finite number"),
        ({"Age": 1000.0}, "Age takes a value from"),
        ({"Age": float("nan")}, "finite number"),
        ({"Smile": 3}, "unknown label 'Smile'"),
        ([1, 2], "settings are an object"),
    ],
)
def test_out_of_range_settings_are_refused(url, settings, contains):
    body = json.dumps({"source": "test:0", "settings": settings}).encode()  # NaN as JSON's NaN
    refused(url, 400, "POST", "/api/render", body, {"Content-Type": "application/json"}, contains)


@pytest.mark.parametrize(
    "source, contains",
    [("test:9999", "out of range: the test split has"), ("../../etc/passwd", "test:N, prior:SEED or upload:N"),
     ("test:-1", "test:N"), ("upload:77", "upload the image again"), (5, "test:N")],
)  # fmt: skip
def test_bad_sources_are_refused(url, source, contains):
    refused(url, 400, "POST", "/api/render", {"source": source, "settings": {}}, contains=contains)


@pytest.mark.parametrize(
    "request_, contains",
    [
        ({"source": "test:0", "label": "Hair", "num": 1}, "draws must be 2 to"),
        ({"source": "test:0", "label": "Hair", "num": 500}, "draws must be 2 to"),
        ({"source": "test:0", "label": "Smiling", "value": 2}, "must be 0 or 1"),
        ({"source": "test:0", "label": "Nope"}, "unknown label"),
        ({"source": "test:0", "label": "Hair", "seed": -3}, "seed"),
        ({"source": "test:0"}, "name a label"),
    ],
)
def test_bad_diversity_requests_are_refused(url, request_, contains):
    refused(url, 400, "POST", "/api/diversity", request_, contains=contains)


@pytest.mark.parametrize(
    "method, path, body, headers, status, contains",
    [
        ("GET", "/nothing", None, None, 404, "nothing at /nothing"),
        ("GET", "/static/../setup.py", None, None, 404, "nothing at"),
        ("GET", "/static/%2e%2e/errors.py", None, None, 404, "nothing at"),
        ("GET", "/api/render", None, None, 405, "GET is not allowed"),
        ("PUT", "/", b"x", None, 405, "PUT is not allowed"),
        ("DELETE", "/api/info", None, None, 405, "not allowed"),
        ("GET", "/api/image", None, None, 400, "name the image"),
        ("POST", "/api/render", b"{not json", {"Content-Type": "application/json"}, 400, "not valid JSON"),
        ("POST", "/api/render", b"[1]", {"Content-Type": "application/json"}, 400, "a JSON object"),
        ("POST", "/api/render", b"{}", {"Content-Type": "text/plain"}, 415, "application/json"),
        ("POST", "/api/render", {"source": "test:0", "extra": 1}, None, 400, "unknown field(s) extra"),
        ("POST", "/api/render", b"{}", {"Content-Type": "application/json", "Content-Length": "99999999"}, 413, "KiB"),
        ("GET", "/api/info", None, {"Host": "attacker.example:80"}, 403, "loopback address only"),
    ],
)
def test_bad_requests_get_a_4xx_and_one_line(url, method, path, body, headers, status, contains):
    refused(url, status, method, path, body, headers, contains)


def test_a_failure_inside_is_a_500_without_a_traceback(url, explorer, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom\nTraceback (most recent call last)")

    monkeypatch.setattr(explorer, "render", broken)
    message = refused(url, 500, "POST", "/api/render", {"source": "test:0", "settings": {}})
    assert "boom" not in message


def test_a_malformed_request_line_is_answered_in_json(url):
    answer = raw_request(url, b"GARBAGE\r\n\r\n")  # read as HTTP/0.9: a body without headers
    assert json.loads(answer) == {"error": "Bad request syntax ('GARBAGE')"}


# The model and the command -------------------------------------------------------------------------


def test_a_model_without_characteristic_latents_cannot_be_explored():
    m2 = M2(M2Config(label_names=["a"], label_priors=[0.5], image_shape=(3, 8, 8), z_dim=2))
    with pytest.raises(NotSupported, match="no per-label characteristic latents"):
        Explorer(m2, torch.zeros(1, 3, 8, 8, dtype=torch.uint8))


def test_explore_refuses_a_missing_run_and_a_taken_port(tmp_path, explorer, mixed_run):
    runner = CliRunner()
    result = runner.invoke(cli, ["explore", "--run", str(tmp_path / "nothing")])
    assert result.exit_code == 1 and "train one with `pyro-ccvae fit`" in result.output
    taken = make_server(explorer, "127.0.0.1", 0)
    try:
        result = runner.invoke(cli, ["explore", "--run", str(mixed_run), "--port", str(taken.port)])
        assert result.exit_code == 2 and "cannot listen on 127.0.0.1" in result.output
        assert "choose another --port" in result.output and "Traceback" not in result.output
    finally:
        taken.server_close()


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_explore_serves_the_run_until_interrupted(mixed_run, monkeypatch, host):
    """The command prints the page's address and serves the run; Ctrl-C ends it with exit 0;
    it warns when the page is open to other machines. (In process: the server answers one
    request, then the 'user' presses Ctrl-C.)"""
    answers = []

    def serve_one_request_then_ctrl_c(server):
        client = threading.Thread(target=lambda: answers.append(call(server.url, "GET", "/api/info")))
        client.start()
        server.handle_request()
        client.join()
        raise KeyboardInterrupt

    monkeypatch.setattr(ExplorerServer, "serve_forever", serve_one_request_then_ctrl_c)
    result = CliRunner().invoke(cli, ["explore", "--run", str(mixed_run), "--port", "0", "--host", host])
    assert result.exit_code == 0, result.output
    assert f"serving {mixed_run} at http://{host}:" in result.stdout
    assert ("other machines" in result.stderr) == (host != "127.0.0.1")
    (status, _, data), = answers
    assert status == 200 and json.loads(data)["run"] == "run"
    assert [c["name"] for c in json.loads(data)["labels"]] == load_model(mixed_run).config.label_names
