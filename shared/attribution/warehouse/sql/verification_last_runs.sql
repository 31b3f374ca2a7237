-- The latest verdict for a system, and the latest one that was alerted with that verdict.
SELECT run_id, game_date, verdict, alerted, finished_at
FROM verification_runs
WHERE system_id = @system_id
ORDER BY finished_at DESC
LIMIT 200
