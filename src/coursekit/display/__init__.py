"""Display code: how the chapters and slider apps show results (nothing here computes them).

* :mod:`~coursekit.display.plotting` -- scatter plots, decision regions, lines and bounds.
* :mod:`~coursekit.display.graph_drawing` -- a computation graph of :mod:`coursekit.engine`,
  drawn with matplotlib.
* :mod:`~coursekit.display.network_diagram` -- a fully connected network as columns of units
  joined by arrows (one per weight).
* :mod:`~coursekit.display.tables` -- Markdown tables built from computed values.
* :mod:`~coursekit.display.descriptions` -- what a figure shows, in words, read off the figure
  (the website's alt text).
"""
