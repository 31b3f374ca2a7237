SELECT batch_id, system_id, game_date, run_mode, status, error, rows_requested, rows_written,
  rows_rejected, model_file_name, model_sha256, model_card_id, started_at, finished_at,
  duration_ms, input_uri, input_sha256
FROM prediction_execution_log
WHERE batch_id = @batch_id
