-- Per model and role of one system: its graded picks whose rows gave American odds, how many
-- hit, the mean break-even probability of their own prices (-110: 110 / 210; +150:
-- 100 / 250), and what a flat stake of 1 on each returned (a win pays 100 / 110 at -110 and
-- 1.5 at +150; a loss costs the stake; a push is no pick).
SELECT
  model_role,
  model_file_name,
  COUNT(*) AS picks,
  COUNTIF(prediction_correct) AS hits,
  AVG(IF(odds < 0, -odds / (100 - odds), 100 / (odds + 100))) AS break_even,
  SUM(IF(prediction_correct, IF(odds < 0, 100 / -odds, odds / 100), -1)) AS profit
FROM prediction_accuracy
WHERE system_id = @system_id
  AND game_date BETWEEN @from_date AND @to_date
  AND odds IS NOT NULL
  AND prediction_correct IS NOT NULL
  AND model_file_name IS NOT NULL
GROUP BY model_role, model_file_name
ORDER BY model_role, model_file_name
