-- Champion and challengers: the ledger records each model's role, every prediction row says
-- the role of the model that wrote it (challengers' rows go to challenger_predictions, made
-- from its schema file), a challenger's own rejects name it, and the execution log lists
-- every challenger a batch scored.
ALTER TABLE model_deployments
  ADD COLUMN IF NOT EXISTS role STRING,
  ADD COLUMN IF NOT EXISTS active_until TIMESTAMP,
  ADD COLUMN IF NOT EXISTS evidence STRING;

ALTER TABLE player_prop_predictions
  ADD COLUMN IF NOT EXISTS model_role STRING;

ALTER TABLE prediction_rejects
  ADD COLUMN IF NOT EXISTS model_role STRING,
  ADD COLUMN IF NOT EXISTS model_file_name STRING,
  ADD COLUMN IF NOT EXISTS model_sha256 STRING;

ALTER TABLE prediction_execution_log
  ADD COLUMN IF NOT EXISTS challengers STRING;
