-- The ledger entry in force for a system at an instant: the latest promotion not after it.
SELECT deployment_id, system_id, model_card_id, model_sha256, model_file_name, active_from,
  deployed_by, note, recorded_at
FROM model_deployments
WHERE system_id = @system_id AND active_from <= @at
ORDER BY active_from DESC, recorded_at DESC
LIMIT 1
