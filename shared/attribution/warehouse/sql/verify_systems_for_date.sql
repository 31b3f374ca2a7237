-- Systems that have predictions or logged batches on a game date.
SELECT DISTINCT system_id FROM (
  SELECT system_id FROM player_prop_predictions WHERE game_date = @game_date
  UNION ALL
  SELECT system_id FROM prediction_execution_log
  WHERE game_date = @game_date AND system_id IS NOT NULL
)
ORDER BY system_id
