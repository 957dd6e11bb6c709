"""The site checks themselves can fail: they flag what they promise to flag in sample HTML."""

from bs4 import BeautifulSoup

from tests.site_support import external_resources, page_problems


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(f"<html><body><main>{html}</main></body></html>", "html.parser")


def test_external_scripts_styles_images_and_fonts_are_flagged():
    html = """
      <script src="https://cdn.example.org/mathjax.js"></script>
      <link rel="stylesheet" href="//fonts.example.org/font.css">
      <img src="http://example.org/figure.png">
      <div style="background: url(https://example.org/bg.png)"></div>
      <style>@import url("https://example.org/x.css");</style>
    """
    assert len(external_resources(soup(html))) == 5


def test_local_resources_and_plain_links_pass():
    html = """
      <script src="_static/mathjax/tex-chtml.js"></script>
      <link rel="stylesheet" href="_static/styles/theme.css">
      <link rel="canonical" href="https://example.org/book/intro.html">
      <img src="_images/figure.png">
      <a href="https://doi.org/10.1145/3589335.3651526">the paper</a>
    """
    assert external_resources(soup(html)) == []


def test_cell_errors_stderr_and_sphinx_problems_are_flagged():
    assert page_problems(soup('<div class="output stderr">oops</div>'))
    assert page_problems(soup('<div class="cell_output"><pre>Traceback (most recent call last):</pre></div>'))
    assert page_problems(soup('<div class="cell_output"><pre>RuntimeWarning: divide by zero</pre></div>'))
    assert page_problems(soup('<span class="problematic">{ref}`missing`</span>'))
    assert page_problems(soup('<div class="cell_output"><pre>0.1.0</pre></div>')) == []
