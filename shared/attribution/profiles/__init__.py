"""Training profiles: made from the training rows and kept in the model's own metadata
(``building``), and how far a day's rows have moved from them (``distance``)."""
