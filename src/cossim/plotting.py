"""The book's one figure style.

Used by the chapters, never by the numerical modules. Two rules matter for readers:

* figures have a solid white background, so they stay readable when the book's theme is
  switched to dark mode (a transparent figure would show black text on a dark page);
* cosines live in [-1, 1] and are drawn with a diverging colour map centred at zero, so the
  same colour means the same cosine in every figure of the book.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm

#: Diverging colour map for cosines: blue negative, white zero, red positive.
COSINE_CMAP = "RdBu_r"

BOOK_STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "image.cmap": "viridis",
    "figure.constrained_layout.use": True,
}


def use_book_style() -> None:
    """Apply the book's style to matplotlib (call once at the top of a chapter)."""
    mpl.rcParams.update(BOOK_STYLE)


def cosine_norm() -> TwoSlopeNorm:
    """A colour normalisation for cosines: -1 and 1 at the ends, 0 in the middle."""
    return TwoSlopeNorm(vmin=-1.0, vcenter=0.0, vmax=1.0)


def cosine_heatmap(ax: plt.Axes, cosines: np.ndarray, title: str | None = None, colorbar: bool = False):
    """Draw a matrix of cosines on ``ax`` with the book's diverging, zero-centred colours.

    Parameters
    ----------
    ax : matplotlib Axes
    cosines : array of shape (m, n)
        Values in [-1, 1]; NaN entries (zero-length embeddings) are drawn grey.
    title : str, optional
    colorbar : bool
        Attach a colour bar labelled "cosine".

    Returns
    -------
    The ``AxesImage``.
    """
    cosines = np.asarray(cosines, dtype=float)
    if cosines.ndim != 2:
        raise ValueError(f"cosines must be a 2-D array, got shape {cosines.shape}")
    cmap = plt.get_cmap(COSINE_CMAP).with_extremes(bad="0.6")
    image = ax.imshow(cosines, cmap=cmap, norm=cosine_norm(), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label="cosine", shrink=0.8)
    return image
