-- Rows per model on one game date, with the facts stamped from its card.
SELECT
  model_file_name, model_sha256, model_card_id,
  MIN(model_training_start_date) AS training_start_date,
  MAX(model_training_end_date) AS training_end_date,
  MAX(model_expected_mae) AS expected_mae,
  MAX(model_expected_hit_rate) AS expected_hit_rate,
  COUNT(*) AS predictions,
  COUNTIF(game_date <= model_training_end_date) AS leaked
FROM player_prop_predictions
WHERE game_date = @game_date AND system_id = @system_id
GROUP BY model_file_name, model_sha256, model_card_id
ORDER BY predictions DESC, model_file_name
