-- Each batch of the day as logged, beside the rows actually present for it.
WITH logged AS (
  SELECT batch_id, status, rows_requested, rows_written, rows_rejected, error
  FROM prediction_execution_log
  WHERE game_date = @game_date AND system_id = @system_id
),
present AS (
  SELECT batch_id, COUNT(*) AS rows_present,
    COUNTIF(attribution_method IN ('replay_verified', 'ledger_inferred')) AS rows_backfilled
  FROM player_prop_predictions
  WHERE game_date = @game_date AND system_id = @system_id
  GROUP BY batch_id
)
SELECT
  COALESCE(logged.batch_id, present.batch_id) AS batch_id,
  logged.status,
  logged.rows_requested,
  logged.rows_written,
  logged.rows_rejected,
  logged.error,
  COALESCE(present.rows_present, 0) AS rows_present,
  COALESCE(present.rows_backfilled, 0) AS rows_backfilled,
  logged.batch_id IS NULL AS never_logged
FROM logged
FULL OUTER JOIN present ON logged.batch_id = present.batch_id
ORDER BY batch_id
