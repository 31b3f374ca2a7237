SELECT deployment_id, system_id, model_file_name, model_sha256, model_card_id, active_from,
  COALESCE(role, 'champion') AS role, active_until, deployed_by, note, evidence, recorded_at
FROM model_deployments
WHERE @system_id IS NULL OR system_id = @system_id
ORDER BY system_id, active_from, recorded_at
