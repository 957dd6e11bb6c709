import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cossim import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_rcparams():
    with matplotlib.rc_context():
        yield
    plt.close("all")


def test_book_style_gives_an_opaque_white_figure():
    plotting.use_book_style()
    fig, ax = plt.subplots()
    assert matplotlib.colors.to_rgba(fig.get_facecolor()) == (1.0, 1.0, 1.0, 1.0)
    assert matplotlib.colors.to_rgba(ax.get_facecolor()) == (1.0, 1.0, 1.0, 1.0)
    assert matplotlib.rcParams["savefig.transparent"] is False


def test_cosine_colours_are_centred_at_zero_and_symmetric():
    norm = plotting.cosine_norm()
    assert norm(0.0) == pytest.approx(0.5)
    assert norm(-1.0) == pytest.approx(0.0)
    assert norm(1.0) == pytest.approx(1.0)
    cmap = plt.get_cmap(plotting.COSINE_CMAP)
    # Diverging: the middle is (near) white, the ends differ.
    assert np.allclose(cmap(0.5)[:3], 1.0, atol=0.06)
    assert not np.allclose(cmap(0.0), cmap(1.0))


def test_cosine_heatmap_uses_the_shared_norm_and_rejects_vectors():
    fig, ax = plt.subplots()
    image = plotting.cosine_heatmap(ax, np.array([[1.0, -0.5], [np.nan, 0.2]]), title="t", colorbar=True)
    assert image.norm.vmin == -1.0 and image.norm.vmax == 1.0 and image.norm.vcenter == 0.0
    with pytest.raises(ValueError, match="cosines"):
        plotting.cosine_heatmap(ax, np.zeros(3))


def test_book_style_sets_no_font_below_nine_points():
    plotting.use_book_style()
    fig, ax = plt.subplots()
    ax.plot([0, 1], label="line")
    ax.set_title("title")
    ax.set_xlabel("x")
    ax.legend(title="legend")
    fig.suptitle("suptitle")
    fig.canvas.draw()
    sizes = {text.get_text(): text.get_fontsize() for text in fig.findobj(matplotlib.text.Text) if text.get_text()}
    assert sizes and min(sizes.values()) >= plotting.MIN_FONT_SIZE, sizes
