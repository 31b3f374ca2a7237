-- Models as people train them: over/under classifiers (a probability instead of points),
-- several lines a player (the sportsbook that offered each), and what a card says of how
-- to call its model.
ALTER TABLE player_prop_predictions
  ADD COLUMN IF NOT EXISTS sportsbook STRING,
  ADD COLUMN IF NOT EXISTS over_probability FLOAT64;

-- predicted_points becomes NULLABLE in its schema file (a classifier predicts no points);
-- migrate relaxes it where a table made before this still refuses NULL.

ALTER TABLE model_cards
  ADD COLUMN IF NOT EXISTS prediction_type STRING,
  ADD COLUMN IF NOT EXISTS servable BOOL;
