-- "Which model produced which performance", for every model file in each role it played
-- (the champion's rows, and a challenger's scored beside it).
SELECT
  system_id,
  model_role,
  model_file_name,
  model_sha256,
  COUNT(*) AS predictions,
  COUNTIF(prediction_correct IS NOT NULL) AS picks,
  ROUND(100.0 * SAFE_DIVIDE(COUNTIF(prediction_correct), COUNTIF(prediction_correct IS NOT NULL)), 1)
    AS hit_rate,
  COUNTIF(prediction_correct IS NOT NULL AND ABS(edge) >= @min_edge) AS high_edge_picks,
  ROUND(100.0 * SAFE_DIVIDE(
    COUNTIF(prediction_correct AND ABS(edge) >= @min_edge),
    COUNTIF(prediction_correct IS NOT NULL AND ABS(edge) >= @min_edge)), 1) AS high_edge_hit_rate,
  ROUND(AVG(absolute_error), 2) AS mae,
  COUNTIF(over_probability IS NOT NULL) AS probability_rows,
  ROUND(AVG(brier_score), 4) AS brier_score,
  ROUND(AVG(log_loss), 4) AS log_loss,
  MAX(model_expected_mae) AS expected_mae,
  MAX(model_expected_hit_rate) AS expected_hit_rate,
  MIN(game_date) AS first_game,
  MAX(game_date) AS last_game,
  COUNTIF(attribution_method = 'stamped') AS stamped,
  COUNTIF(attribution_method = 'replay_verified') AS replay_verified,
  COUNTIF(attribution_method = 'ledger_inferred') AS ledger_inferred
FROM prediction_accuracy
WHERE (@system_id IS NULL OR system_id = @system_id)
  AND game_date BETWEEN @from_date AND @to_date
GROUP BY system_id, model_role, model_file_name, model_sha256
ORDER BY system_id, model_role, last_game DESC, model_file_name
