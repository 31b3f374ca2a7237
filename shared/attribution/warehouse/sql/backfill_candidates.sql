-- Predictions that lack a model (and, when replaying, those only inferred from the ledger
-- or whose inference a replay refuted: a corrected ledger may prove them now),
-- with where their batch's input was kept and the instant each row is placed at: its
-- batch's logged start, else its own created_at. The instant is read as microseconds since
-- the epoch: exact, and far cheaper for a client to read than a timestamp. Sorted by
-- batch, system and game date first: each batch's rows are read as one run.
SELECT
  p.prediction_id, p.batch_id, p.system_id, p.game_date, p.player_lookup, p.line_value,
  p.sportsbook, p.predicted_points, p.over_probability, p.attribution_method, l.input_uri,
  UNIX_MICROS(COALESCE(l.started_at, p.created_at)) AS at_micros
FROM player_prop_predictions AS p
LEFT JOIN prediction_execution_log AS l ON l.batch_id = p.batch_id
WHERE (
    (p.attribution_method IS NULL AND p.model_sha256 IS NULL)
    OR (@include_inferred AND p.attribution_method IN ('ledger_inferred', 'replay_refuted'))
  )
  AND (@system_id IS NULL OR p.system_id = @system_id)
  AND p.game_date BETWEEN @from_date AND @to_date
ORDER BY p.batch_id, p.system_id, p.game_date, p.player_lookup, p.line_value, p.sportsbook
