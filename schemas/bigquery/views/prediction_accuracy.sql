-- Grades every prediction that has a result, the champion's (player_prop_predictions) and
-- every challenger's (challenger_predictions) alike, each row with the role of the model that
-- wrote it (model_role; rows written before roles are the champion's): OVER/UNDER correct
-- (NULL on a push or a PASS), the absolute error of a point prediction, and for an over/under
-- classifier's rows the Brier score and log loss of its OVER probability (NULL on a push).
-- Every line of a player is graded against the player's one result. The columns are named,
-- not starred, so the union holds whatever order a migrated table keeps them in.
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
  FROM (
    SELECT
      prediction_id, batch_id, system_id, game_date, player_lookup, line_value, predicted_points,
      edge, recommendation, run_mode, created_at, model_file_name, model_training_start_date,
      model_training_end_date, model_expected_mae, model_expected_hit_rate, model_trained_at,
      model_sha256, model_card_id, attribution_method, sportsbook, over_probability,
      COALESCE(model_role, 'champion') AS model_role, odds
    FROM player_prop_predictions
    UNION ALL
    SELECT
      prediction_id, batch_id, system_id, game_date, player_lookup, line_value, predicted_points,
      edge, recommendation, run_mode, created_at, model_file_name, model_training_start_date,
      model_training_end_date, model_expected_mae, model_expected_hit_rate, model_trained_at,
      model_sha256, model_card_id, attribution_method, sportsbook, over_probability,
      model_role, odds
    FROM challenger_predictions
  ) AS p
  LEFT JOIN player_game_results AS r
    ON r.game_date = p.game_date AND r.player_lookup = p.player_lookup
) AS graded
