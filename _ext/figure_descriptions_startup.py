"""Run by every notebook kernel of the book build (``$PYTHONSTARTUP``, set by reader_pages.py).

Each figure a chapter displays then carries what it shows (titles, axis labels, legends) in its
output metadata, which becomes the ``alt`` text of its image on the website.
"""

from coursekit.display.descriptions import describe_figures_in_outputs

describe_figures_in_outputs()
