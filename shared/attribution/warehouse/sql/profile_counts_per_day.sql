-- Per game day of one system's range, model, feature and bin: the rows its batches counted
-- into the model's training profile, summed over the day's batches (input_profile_counts:
-- one row per batch, model, feature and bin). The drift check reads one day; the HTML
-- report's drift panel a range.
SELECT
  game_date,
  model_sha256,
  MIN(model_card_id) AS model_card_id,
  model_role,
  feature,
  feature_kind,
  bin_index,
  SUM(row_count) AS row_count,
  COUNT(DISTINCT batch_id) AS batches
FROM input_profile_counts
WHERE system_id = @system_id AND game_date BETWEEN @from_date AND @to_date
GROUP BY game_date, model_sha256, model_role, feature, feature_kind, bin_index
ORDER BY game_date, model_role, model_sha256, feature_kind, feature, bin_index
