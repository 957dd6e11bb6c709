"""cossim: the library behind *The Arbitrary Cosine*.

Small, tested numerical functions that the book's chapters call to confirm,
in numbers, what the sympy derivations show. Each public function names in
its docstring the chapter that derives it.
"""

from cossim.linalg import top_svd
from cossim.similarity import cosine_similarity

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "cosine_similarity",
    "top_svd",
]
