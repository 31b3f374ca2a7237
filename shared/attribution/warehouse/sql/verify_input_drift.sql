-- A day's counts of every model's rows in its training profile's bins, summed over the
-- day's batches (input_profile_counts: one row per batch, model, feature and bin).
SELECT
  model_sha256,
  MIN(model_card_id) AS model_card_id,
  model_role,
  feature,
  feature_kind,
  bin_index,
  SUM(row_count) AS row_count,
  COUNT(DISTINCT batch_id) AS batches
FROM input_profile_counts
WHERE system_id = @system_id AND game_date = @game_date
GROUP BY model_sha256, model_role, feature, feature_kind, bin_index
ORDER BY model_role, model_sha256, feature_kind, feature, bin_index
