SELECT reject_id, object_uri, object_generation, model_file_name, size_bytes, error_code, error,
  rejected_at
FROM model_upload_rejects
ORDER BY rejected_at, reject_id
