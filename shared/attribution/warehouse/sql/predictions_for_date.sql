-- The predictions of a game date, every column (the predictions command picks which to show).
SELECT *
FROM player_prop_predictions
WHERE game_date = @game_date AND (@system_id IS NULL OR system_id = @system_id)
ORDER BY system_id, player_lookup, created_at
