-- A sample of predictions lacking full attribution, with the batches that wrote them
-- (an over/under classifier's rows have no expected MAE to carry).
SELECT system_id, prediction_id, batch_id, created_at
FROM player_prop_predictions
WHERE game_date = @game_date AND system_id = @system_id
  AND (
    model_file_name IS NULL OR model_training_start_date IS NULL
    OR model_training_end_date IS NULL
    OR (model_expected_mae IS NULL AND over_probability IS NULL)
    OR model_expected_hit_rate IS NULL OR model_trained_at IS NULL OR model_sha256 IS NULL
  )
ORDER BY batch_id, prediction_id
LIMIT @sample_size
