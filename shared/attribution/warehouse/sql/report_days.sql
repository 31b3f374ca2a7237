-- Per game day of one system: its predictions by how their model is known (stamped by the
-- batch, proven by replay, inferred from the ledger, or not known: missing), the sides its
-- picks took (a RED day is one side's), and the rows its batches rejected (the batch's own
-- checks, not a challenger's).
SELECT
  game_date,
  SUM(prediction) AS predictions,
  SUM(IF(attribution_method = 'stamped', prediction, 0)) AS stamped,
  SUM(IF(attribution_method = 'replay_verified', prediction, 0)) AS replay_verified,
  SUM(IF(attribution_method = 'ledger_inferred', prediction, 0)) AS ledger_inferred,
  SUM(IF(attribution_method IN ('stamped', 'replay_verified', 'ledger_inferred'), 0, prediction))
    AS missing,
  SUM(IF(recommendation = 'OVER', prediction, 0)) AS over_picks,
  SUM(IF(recommendation = 'UNDER', prediction, 0)) AS under_picks,
  SUM(rejected) AS rejected
FROM (
  SELECT game_date, COALESCE(attribution_method, 'missing') AS attribution_method,
    recommendation, 1 AS prediction, 0 AS rejected
  FROM player_prop_predictions
  WHERE system_id = @system_id AND game_date BETWEEN @from_date AND @to_date
  UNION ALL
  SELECT game_date, 'missing' AS attribution_method, NULL AS recommendation, 0 AS prediction,
    1 AS rejected
  FROM prediction_rejects
  WHERE system_id = @system_id AND game_date BETWEEN @from_date AND @to_date
    AND model_role IS NULL
) AS day_rows
GROUP BY game_date
ORDER BY game_date
