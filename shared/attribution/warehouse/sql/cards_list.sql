SELECT
  card_id, system_id, model_file_name, model_uri, model_generation, model_sha256, size_bytes,
  training_start_date, training_end_date, expected_mae, expected_hit_rate, trained_at,
  uploaded_at, tree_count, status, missing_facts, registered_at
FROM model_cards
WHERE @system_id IS NULL OR system_id = @system_id
ORDER BY registered_at, card_id
