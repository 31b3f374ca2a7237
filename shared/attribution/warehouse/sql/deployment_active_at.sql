-- The champion's ledger entry in force for a system at an instant: the latest promotion not
-- after it (entries recorded before roles existed have none, and are promotions).
SELECT deployment_id, system_id, model_card_id, model_sha256, model_file_name, active_from,
  deployed_by, note, role, active_until, evidence, recorded_at
FROM model_deployments
WHERE system_id = @system_id AND active_from <= @at
  AND (role IS NULL OR role = 'champion')
ORDER BY active_from DESC, recorded_at DESC
LIMIT 1
