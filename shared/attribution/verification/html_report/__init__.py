"""The HTML report of one system: what it knows, in pictures.

``data`` reads it (the queries ``report models`` and ``report compare`` run, ``report
drift``'s figures for each day, and the day, verdict and ledger queries beside them),
``panels`` draws it (Vega-Altair, one builder a panel, in ``PANELS``), ``page`` puts the
panels into one self-contained page (the Vega libraries inline: it opens offline),
``day_chart`` makes the PNG an email carries, and ``publishing`` writes the page to the
bucket for the verifier.
"""
