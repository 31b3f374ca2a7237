-- Every challenger's graded prediction beside the champion's on the same slate: the same
-- batch, player, line and sportsbook. A line predicted by several batches of one day (the
-- early, overnight and same-day runs) is paired once, from its latest batch. With
-- @min_edge, a points prediction whose |edge| is under it is no pick (as PASS).
SELECT
  champion_sha256, champion_file_name, challenger_sha256, challenger_file_name,
  game_date, player_lookup, line_value, sportsbook,
  champion_correct, challenger_correct, champion_error, challenger_error
FROM (
  SELECT
    c.model_sha256 AS champion_sha256,
    c.model_file_name AS champion_file_name,
    ch.model_sha256 AS challenger_sha256,
    ch.model_file_name AS challenger_file_name,
    c.game_date,
    c.player_lookup,
    c.line_value,
    c.sportsbook,
    IF(c.edge IS NOT NULL AND ABS(c.edge) < @min_edge, NULL, c.prediction_correct)
      AS champion_correct,
    IF(ch.edge IS NOT NULL AND ABS(ch.edge) < @min_edge, NULL, ch.prediction_correct)
      AS challenger_correct,
    c.absolute_error AS champion_error,
    ch.absolute_error AS challenger_error,
    ROW_NUMBER() OVER (
      PARTITION BY ch.model_sha256, c.game_date, c.player_lookup, c.line_value,
        COALESCE(c.sportsbook, '')
      ORDER BY c.created_at DESC, c.batch_id DESC
    ) AS latest
  FROM prediction_accuracy AS c
  JOIN prediction_accuracy AS ch
    ON ch.batch_id = c.batch_id
    AND ch.player_lookup = c.player_lookup
    AND ch.line_value = c.line_value
    AND COALESCE(ch.sportsbook, '') = COALESCE(c.sportsbook, '')
  WHERE c.model_role = 'champion' AND ch.model_role = 'challenger'
    AND c.system_id = @system_id AND ch.system_id = @system_id
    AND c.game_date BETWEEN @from_date AND @to_date
    AND ch.game_date BETWEEN @from_date AND @to_date
    AND c.actual_points IS NOT NULL
) AS paired
WHERE latest = 1
ORDER BY challenger_file_name, champion_file_name, game_date, player_lookup, line_value
