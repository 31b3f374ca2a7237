-- Each batch's stamped models on one game date, each in the role it wrote its rows in (the
-- champion's in player_prop_predictions, each challenger's in challenger_predictions), with
-- the pin the batch asked for and when it ran.
SELECT
  p.batch_id,
  p.model_role,
  p.model_sha256,
  p.model_file_name,
  MIN(p.created_at) AS created_at,
  COUNT(*) AS predictions,
  MAX(l.model_pin) AS model_pin,
  MIN(l.started_at) AS started_at
FROM (
  SELECT batch_id, COALESCE(model_role, 'champion') AS model_role, model_sha256,
    model_file_name, created_at
  FROM player_prop_predictions
  WHERE game_date = @game_date AND system_id = @system_id AND attribution_method = 'stamped'
  UNION ALL
  SELECT batch_id, model_role, model_sha256, model_file_name, created_at
  FROM challenger_predictions
  WHERE game_date = @game_date AND system_id = @system_id
) AS p
LEFT JOIN prediction_execution_log AS l ON l.batch_id = p.batch_id
GROUP BY p.batch_id, p.model_role, p.model_sha256, p.model_file_name
ORDER BY p.batch_id, p.model_role
