-- The American odds a batch row may carry for its line, kept on the prediction (the
-- champion's and every challenger's), so a pick's hit rate is read against its own
-- break-even and a flat stake's return can be counted.
ALTER TABLE player_prop_predictions
  ADD COLUMN IF NOT EXISTS odds FLOAT64;

ALTER TABLE challenger_predictions
  ADD COLUMN IF NOT EXISTS odds FLOAT64;
