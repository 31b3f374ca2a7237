-- The seed's 2026-02-02 migration: the six attribution columns on every prediction.
ALTER TABLE player_prop_predictions
  ADD COLUMN IF NOT EXISTS model_file_name STRING,
  ADD COLUMN IF NOT EXISTS model_training_start_date DATE,
  ADD COLUMN IF NOT EXISTS model_training_end_date DATE,
  ADD COLUMN IF NOT EXISTS model_expected_mae FLOAT64,
  ADD COLUMN IF NOT EXISTS model_expected_hit_rate FLOAT64,
  ADD COLUMN IF NOT EXISTS model_trained_at TIMESTAMP;

ALTER TABLE prediction_execution_log
  ADD COLUMN IF NOT EXISTS model_file_name STRING,
  ADD COLUMN IF NOT EXISTS model_training_start_date DATE,
  ADD COLUMN IF NOT EXISTS model_training_end_date DATE,
  ADD COLUMN IF NOT EXISTS model_expected_mae FLOAT64,
  ADD COLUMN IF NOT EXISTS model_expected_hit_rate FLOAT64,
  ADD COLUMN IF NOT EXISTS model_trained_at TIMESTAMP;
