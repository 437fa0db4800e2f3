"""`pyro-ccvae explore`: a local web page on a trained run (pyro_ccvae.explorer)."""

from __future__ import annotations

import logging

import click

from pyro_ccvae.devices import resolve_device
from pyro_ccvae.explorer import Explorer, make_server

from .errors import user_errors
from .options import device_option, run_data_option, run_option


@click.command("explore")
@run_option
@run_data_option
@device_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but a loopback address lets other machines use the page.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
def explore(run_dir, dataset, device, host, port):
    """Serve a web page for exploring a run: pick a test image, upload one or draw one from the
    prior; move each label's characteristic z_c^i with its control and watch the decoded image
    and q(y_i|z_c^i) follow; swap characteristics between two images; draw z_c^i many times
    with the per-pixel variance; download what is shown as a PNG. CCVAE and DIVA runs."""
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=logging.WARNING)
    with user_errors():
        explorer = Explorer.from_run(run_dir, resolve_device(device), dataset)
        server = make_server(explorer, host, port)
    if server.allowed_hosts is None:
        click.echo(f"warning: listening on {host}: other machines that reach it can use this page", err=True)
    click.echo(f"serving {run_dir} at {server.url} (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
