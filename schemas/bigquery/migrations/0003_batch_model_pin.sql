-- Which model a batch pinned, if any: drift detection tells a pin from a ledger choice.
ALTER TABLE prediction_execution_log
  ADD COLUMN IF NOT EXISTS model_pin STRING;
