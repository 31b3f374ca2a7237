-- A system's latest verdicts for one game date, newest first: a new verdict of that day is
-- compared with the first, and the latest alerted with the same verdict dates its repeat.
SELECT run_id, verdict, alerted, finished_at
FROM verification_runs
WHERE system_id = @system_id AND game_date = @game_date
ORDER BY finished_at DESC
LIMIT 200
