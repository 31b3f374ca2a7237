-- Systems with a model card or a deployment, for the "unknown system" answer.
SELECT system_id FROM (
  SELECT system_id FROM model_cards WHERE system_id IS NOT NULL
  UNION DISTINCT
  SELECT system_id FROM model_deployments
)
ORDER BY system_id
LIMIT 20
