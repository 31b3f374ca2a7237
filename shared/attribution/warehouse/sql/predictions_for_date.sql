SELECT game_date, system_id, player_lookup, line_value, predicted_points, edge, recommendation,
  run_mode, batch_id, model_file_name, model_sha256, model_card_id, attribution_method,
  created_at
FROM player_prop_predictions
WHERE game_date = @game_date AND (@system_id IS NULL OR system_id = @system_id)
ORDER BY system_id, player_lookup, created_at
