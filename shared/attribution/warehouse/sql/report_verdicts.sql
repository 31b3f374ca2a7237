-- Every verdict the verifier reached for one system's game days, in the order it reached them.
SELECT game_date, verdict, finished_at, run_id
FROM verification_runs
WHERE system_id = @system_id AND game_date BETWEEN @from_date AND @to_date
ORDER BY game_date, finished_at, run_id
