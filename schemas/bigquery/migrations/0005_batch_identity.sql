-- A batch id names one input: the log records the input's SHA-256, so the same id with
-- other rows is refused instead of silently taken as done.
ALTER TABLE prediction_execution_log
  ADD COLUMN IF NOT EXISTS input_sha256 STRING;
