-- Grades every prediction that has a result: OVER/UNDER correct (NULL on a push or a PASS),
-- and the absolute error of the point prediction.
CREATE OR REPLACE VIEW prediction_accuracy AS
SELECT
  p.*,
  r.actual_points,
  CASE
    WHEN r.actual_points IS NULL THEN NULL
    WHEN p.line_value IS NULL OR r.actual_points = p.line_value THEN NULL
    WHEN p.recommendation = 'OVER' THEN r.actual_points > p.line_value
    WHEN p.recommendation = 'UNDER' THEN r.actual_points < p.line_value
    ELSE NULL
  END AS prediction_correct,
  ABS(p.predicted_points - r.actual_points) AS absolute_error
FROM player_prop_predictions AS p
LEFT JOIN player_game_results AS r
  ON r.game_date = p.game_date AND r.player_lookup = p.player_lookup
