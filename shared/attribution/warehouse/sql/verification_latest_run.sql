-- A system's latest verification, whatever its day: the challengers it had decided.
SELECT run_id, game_date, checks_json
FROM verification_runs
WHERE system_id = @system_id
ORDER BY finished_at DESC
LIMIT 1
