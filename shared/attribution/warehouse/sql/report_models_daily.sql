-- `report models` one game day at a time, for one system: per day, model file and role, the
-- graded picks and how many hit (all of them, and the high-edge ones), the MAE, and the
-- figures the model's card declared. What the HTML report draws per model and day.
SELECT
  game_date,
  model_role,
  model_file_name,
  COUNT(*) AS predictions,
  COUNTIF(prediction_correct IS NOT NULL) AS picks,
  COUNTIF(prediction_correct) AS hits,
  COUNTIF(prediction_correct IS NOT NULL AND ABS(edge) >= @min_edge) AS high_edge_picks,
  COUNTIF(prediction_correct AND ABS(edge) >= @min_edge) AS high_edge_hits,
  AVG(absolute_error) AS mae,
  COUNTIF(over_probability IS NOT NULL) AS probability_rows,
  MAX(model_expected_mae) AS expected_mae,
  MAX(model_expected_hit_rate) AS expected_hit_rate
FROM prediction_accuracy
WHERE system_id = @system_id
  AND game_date BETWEEN @from_date AND @to_date
  AND model_file_name IS NOT NULL
GROUP BY game_date, model_role, model_file_name
ORDER BY game_date, model_role, model_file_name
