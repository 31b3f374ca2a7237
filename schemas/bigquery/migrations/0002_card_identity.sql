-- Identity beyond the file name: the artifact's hash, its card, and how the row got them.
ALTER TABLE player_prop_predictions
  ADD COLUMN IF NOT EXISTS model_sha256 STRING,
  ADD COLUMN IF NOT EXISTS model_card_id STRING,
  ADD COLUMN IF NOT EXISTS attribution_method STRING;

ALTER TABLE prediction_execution_log
  ADD COLUMN IF NOT EXISTS model_sha256 STRING,
  ADD COLUMN IF NOT EXISTS model_card_id STRING;
