-- Graded performance of each model that predicted on the verified date as the system's
-- champion, over every game it predicted as champion up to and including that date
-- (challengers are compared with the champion, not held to their cards: report compare).
SELECT
  model_file_name,
  model_sha256,
  MAX(model_card_id) AS model_card_id,
  MAX(model_expected_mae) AS expected_mae,
  MAX(model_expected_hit_rate) AS expected_hit_rate,
  COUNTIF(actual_points IS NOT NULL) AS graded,
  AVG(absolute_error) AS mae,
  COUNTIF(prediction_correct IS NOT NULL) AS picks,
  COUNTIF(prediction_correct) AS hits,
  COUNTIF(prediction_correct IS NOT NULL AND ABS(edge) >= @high_edge) AS high_edge_picks,
  COUNTIF(prediction_correct AND ABS(edge) >= @high_edge) AS high_edge_hits,
  COUNTIF(over_probability IS NOT NULL) AS probability_rows,
  COUNTIF(brier_score IS NOT NULL) AS scored,
  AVG(brier_score) AS brier_score,
  AVG(log_loss) AS log_loss
FROM prediction_accuracy
WHERE game_date <= @game_date AND system_id = @system_id AND model_role = 'champion'
  AND model_sha256 IN (
    SELECT model_sha256 FROM player_prop_predictions
    WHERE game_date = @game_date AND system_id = @system_id AND model_sha256 IS NOT NULL
  )
GROUP BY model_file_name, model_sha256
ORDER BY model_file_name
