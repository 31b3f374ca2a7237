-- Who claimed a window of batch completions, and whether its verification was recorded.
SELECT batch_id, verified_at
FROM verification_triggers
WHERE trigger_id = @trigger_id
