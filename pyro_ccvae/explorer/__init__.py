"""The explorer: a local web page on a trained run, where a control per label moves that
label's characteristic latents z_c^i and the decoded image follows (`pyro-ccvae explore`).

session.py holds the state and asks the library for every picture; controls.py makes a
control of each label; beliefs.py reads q(y_i | z_c^i); pictures.py turns tensors into PNGs
and uploads into tensors; server.py is the web server (standard library only) and static/ the
page it serves.
"""

from .server import ExplorerServer, make_server
from .session import Explorer

__all__ = ["Explorer", "ExplorerServer", "make_server"]
