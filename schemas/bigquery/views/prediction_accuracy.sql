-- Grades every prediction that has a result: OVER/UNDER correct (NULL on a push or a PASS),
-- the absolute error of a point prediction, and for an over/under classifier's rows the
-- Brier score and log loss of its OVER probability (NULL on a push). Every line of a player
-- is graded against the player's one result.
CREATE OR REPLACE VIEW prediction_accuracy AS
SELECT
  graded.*,
  CASE
    WHEN over_hit IS NULL THEN NULL
    WHEN recommendation = 'OVER' THEN over_hit
    WHEN recommendation = 'UNDER' THEN NOT over_hit
    ELSE NULL
  END AS prediction_correct,
  ABS(predicted_points - actual_points) AS absolute_error,
  CASE
    WHEN over_hit IS NULL THEN NULL
    ELSE POW(over_probability - IF(over_hit, 1.0, 0.0), 2)
  END AS brier_score,
  CASE
    WHEN over_hit IS NULL THEN NULL
    ELSE -LN(GREATEST(1e-15, IF(over_hit, over_probability, 1.0 - over_probability)))
  END AS log_loss
FROM (
  SELECT
    p.*,
    r.actual_points,
    CASE
      WHEN r.actual_points IS NULL OR p.line_value IS NULL THEN NULL
      WHEN r.actual_points = p.line_value THEN NULL
      ELSE r.actual_points > p.line_value
    END AS over_hit
  FROM player_prop_predictions AS p
  LEFT JOIN player_game_results AS r
    ON r.game_date = p.game_date AND r.player_lookup = p.player_lookup
) AS graded
