"""What the classifier q_phi(y_i | z_c^i) makes of each label's block, shown beside its control."""

from __future__ import annotations

import torch

from .controls import words


@torch.no_grad()
def label_beliefs(model, z_c: torch.Tensor) -> dict[str, dict]:
    """{label name: belief} for the codes of one image z_c [1, L, d], from each label group's
    q_y: for a discrete label the probability of each value 0 .. K-1 ("probs") and the most
    probable one ("value"); for a continuous one the mean and standard deviation ("value",
    "sd"). "text" says it in the label's words."""
    beliefs = {}
    for group in model.label_groups:
        q = group.q_y(group.blocks_of(z_c))  # batch [1, L_g]
        for j, label in enumerate(group.labels):
            if label.discrete:
                values = torch.arange(label.num_classes(), dtype=z_c.dtype, device=z_c.device)
                every = values.view(-1, *(1,) * len(q.batch_shape)).expand(-1, *q.batch_shape)
                probs = q.log_prob(every).exp()[:, 0, j]  # [K]
                best = int(probs.argmax())
                beliefs[label.name] = {
                    "probs": probs.tolist(),
                    "value": float(best),
                    "text": f"{label.format(best)} ({float(probs[best]):.0%})",
                }
            else:
                mean, sd = float(q.mean[0, j]), float(q.stddev[0, j])
                beliefs[label.name] = {"value": mean, "sd": sd, "text": f"{words(label, mean)} ± {sd:.2g}"}
    return beliefs
