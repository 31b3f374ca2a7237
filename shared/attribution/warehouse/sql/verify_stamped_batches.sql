-- Each batch's stamped model on one game date, with the pin it asked for and when it ran.
SELECT
  p.batch_id,
  p.model_sha256,
  p.model_file_name,
  MIN(p.created_at) AS created_at,
  COUNT(*) AS predictions,
  MAX(l.model_pin) AS model_pin,
  MIN(l.started_at) AS started_at
FROM player_prop_predictions AS p
LEFT JOIN prediction_execution_log AS l ON l.batch_id = p.batch_id
WHERE p.game_date = @game_date AND p.system_id = @system_id
  AND p.attribution_method = 'stamped'
GROUP BY p.batch_id, p.model_sha256, p.model_file_name
ORDER BY p.batch_id
