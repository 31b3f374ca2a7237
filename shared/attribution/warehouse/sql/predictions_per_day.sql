-- Per game date and system: how many predictions, and which model files produced them.
SELECT game_date, system_id, model_file_name, COUNT(*) AS predictions,
  COUNT(DISTINCT batch_id) AS batches
FROM player_prop_predictions
WHERE game_date BETWEEN @from_date AND @to_date
  AND (@system_id IS NULL OR system_id = @system_id)
GROUP BY game_date, system_id, model_file_name
ORDER BY game_date, system_id, model_file_name
