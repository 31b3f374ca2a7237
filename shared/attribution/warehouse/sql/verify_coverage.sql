-- Per system on one game date: predictions, and how many carry full attribution
-- (the seed's six columns plus the artifact's hash; an over/under classifier's rows have no
-- expected MAE to carry, as the model predicts no points).
SELECT
  system_id,
  COUNT(*) AS predictions,
  COUNTIF(
    model_file_name IS NOT NULL
    AND model_training_start_date IS NOT NULL
    AND model_training_end_date IS NOT NULL
    AND (model_expected_mae IS NOT NULL OR over_probability IS NOT NULL)
    AND model_expected_hit_rate IS NOT NULL
    AND model_trained_at IS NOT NULL
    AND model_sha256 IS NOT NULL
  ) AS attributed,
  COUNTIF(attribution_method = 'stamped') AS stamped,
  COUNTIF(attribution_method = 'replay_verified') AS replay_verified,
  COUNTIF(attribution_method = 'ledger_inferred') AS ledger_inferred,
  COUNTIF(attribution_method = 'replay_refuted') AS replay_refuted
FROM player_prop_predictions
WHERE game_date = @game_date AND (@system_id IS NULL OR system_id = @system_id)
GROUP BY system_id
ORDER BY system_id
