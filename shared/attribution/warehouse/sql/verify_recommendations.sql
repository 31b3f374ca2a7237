SELECT recommendation, COUNT(*) AS predictions
FROM player_prop_predictions
WHERE game_date = @game_date AND system_id = @system_id
GROUP BY recommendation
ORDER BY recommendation
