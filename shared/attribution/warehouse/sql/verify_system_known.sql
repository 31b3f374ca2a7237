-- Whether a system exists: it has a model card, a deployment in the ledger, predictions or
-- a logged batch (any game date). The verifier answers "unknown system" for any other id.
-- The game_date bound is the filter a partitioned table with require_partition_filter
-- needs; it excludes nothing.
SELECT (
  EXISTS (SELECT 1 FROM model_cards WHERE system_id = @system_id)
  OR EXISTS (SELECT 1 FROM model_deployments WHERE system_id = @system_id)
  OR EXISTS (
    SELECT 1 FROM player_prop_predictions
    WHERE system_id = @system_id AND game_date >= DATE '1900-01-01'
  )
  OR EXISTS (
    SELECT 1 FROM prediction_execution_log
    WHERE system_id = @system_id AND game_date >= DATE '1900-01-01'
  )
) AS known
