"""The book's one figure style.

Used by the chapters, never by the numerical modules. Two rules matter for readers:

* figures have a solid white background, so they stay readable when the book's theme is
  switched to dark mode (a transparent figure would show black text on a dark page);
* cosines live in [-1, 1] and are drawn with a diverging colour map centred at zero, so the
  same colour means the same cosine in every figure of the book;
* text is readable where the figure is shown: no font is set below 9 pt, and in a notebook the
  figures are rendered at twice their displayed resolution ("retina"), so they are sharp on
  high-resolution screens while the page shows them at their natural size (a figure up to
  6.7 inches wide fills the book's 676 px column without being shrunk).
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
    "figure.dpi": 100,
    "savefig.dpi": 100,
    # Every text element at 9 pt or more (at 100 dpi, 9 pt is 12.5 px as displayed).
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "figure.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "image.cmap": "viridis",
    "figure.constrained_layout.use": True,
}


#: The smallest font size, in points, that the style uses anywhere.
MIN_FONT_SIZE = 9


def use_book_style() -> None:
    """Apply the book's style to matplotlib (call once at the top of a chapter).

    Inside IPython (a chapter being executed) inline figures are also rendered as PNG at twice
    the resolution they are displayed at.
    """
    mpl.rcParams.update(BOOK_STYLE)
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # plain Python, no notebook: nothing is displayed inline
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")


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
