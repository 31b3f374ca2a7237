# The gen2 functions, from the three staged folders (`make stage` first: README.md).
# Entry points and event types are those of functions/manifest.json; the tests hold them
# against it and against the code.

resource "google_cloudfunctions2_function" "model_upload" {
  name        = local.function_names.model_upload
  location    = var.region
  description = "A .cbm landed in the models bucket: extract its card, store and announce it."

  build_config {
    runtime     = var.python_runtime
    entry_point = "on_model_uploaded"
    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.function_source["model_upload"].name
      }
    }
  }

  service_config {
    available_memory                 = var.functions.model_upload.memory
    max_instance_count               = var.functions.model_upload.max_instances
    min_instance_count               = 0
    max_instance_request_concurrency = 1
    timeout_seconds                  = var.functions.model_upload.timeout_seconds
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.function["model_upload"].email
    # It alerts on a rejected upload or an incomplete card, through the verifier's channels.
    environment_variables = merge(local.common_environment, local.email_environment, local.lineage_environment)

    dynamic "secret_environment_variables" {
      for_each = local.alert_secrets
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  # The models bucket's notifications (storage.tf), not a Cloud Storage trigger: on a topic of
  # ours, Cloud Storage needs to publish to that one topic only.
  event_trigger {
    trigger_region        = var.region
    event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
    pubsub_topic          = google_pubsub_topic.topic["model_uploads"].id
    retry_policy          = "RETRY_POLICY_RETRY"
    service_account_email = google_service_account.function["model_upload"].email
  }

  depends_on = [google_secret_manager_secret_iam_member.model_upload_reads_alert_secret]
}

resource "google_cloudfunctions2_function" "prediction_batch" {
  name        = local.function_names.prediction_batch
  location    = var.region
  description = "A batch request arrived: resolve the model, predict, stamp its card on every row."

  build_config {
    runtime     = var.python_runtime
    entry_point = "on_batch_requested"
    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.function_source["prediction_batch"].name
      }
    }
  }

  service_config {
    available_memory                 = var.functions.prediction_batch.memory
    max_instance_count               = var.functions.prediction_batch.max_instances
    min_instance_count               = 0
    max_instance_request_concurrency = 1
    timeout_seconds                  = var.functions.prediction_batch.timeout_seconds
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.function["prediction_batch"].email
    environment_variables            = merge(local.common_environment, local.lineage_environment)
  }

  event_trigger {
    trigger_region        = var.region
    event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
    pubsub_topic          = google_pubsub_topic.topic["prediction_batches"].id
    retry_policy          = "RETRY_POLICY_RETRY"
    service_account_email = google_service_account.function["prediction_batch"].email
  }
}

resource "google_cloudfunctions2_function" "verifier" {
  name        = local.function_names.verifier
  location    = var.region
  description = "Verify a game date's attribution; alert on Slack and email when the verdict changes."

  build_config {
    runtime     = var.python_runtime
    entry_point = "on_verification_requested"
    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.function_source["verifier"].name
      }
    }
  }

  service_config {
    available_memory                 = var.functions.verifier.memory
    max_instance_count               = var.functions.verifier.max_instances
    min_instance_count               = 0
    max_instance_request_concurrency = 1
    timeout_seconds                  = var.functions.verifier.timeout_seconds
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.function["verifier"].email
    environment_variables            = local.verifier_environment

    dynamic "secret_environment_variables" {
      for_each = local.alert_secrets
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  event_trigger {
    trigger_region        = var.region
    event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
    pubsub_topic          = google_pubsub_topic.topic["verification_requests"].id
    retry_policy          = "RETRY_POLICY_RETRY"
    service_account_email = google_service_account.function["verifier"].email
  }

  lifecycle {
    precondition {
      condition     = var.smtp_host == "" || length(var.alert_email_to) > 0
      error_message = "smtp_host is set but alert_email_to is empty: the verifier would refuse half an email configuration."
    }
    precondition {
      condition     = var.smtp_host == "" || var.alert_email_from != "" || strcontains(var.smtp_user, "@")
      error_message = "alert_email_from must be set (or smtp_user be an email address) when smtp_host is."
    }
  }

  depends_on = [google_secret_manager_secret_iam_member.verifier_reads_alert_secret]
}

# The verifier's post-run entry point (on_batch_completed): each finished batch's completion
# has its system and day verified at once, completions within VERIFY_COALESCE_SECONDS once.
# Same folder, same service account and settings as the verifier; the Scheduler's requests
# stay the safety net for a run that never announced itself.
resource "google_cloudfunctions2_function" "post_run_verifier" {
  name        = "${local.function_names.verifier}-post-run"
  location    = var.region
  description = "Verify a system's day as soon as its batches finish (their completions on Pub/Sub)."

  build_config {
    runtime     = var.python_runtime
    entry_point = "on_batch_completed"
    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.function_source["verifier"].name
      }
    }
  }

  service_config {
    available_memory                 = var.functions.verifier.memory
    max_instance_count               = var.functions.verifier.max_instances
    min_instance_count               = 0
    max_instance_request_concurrency = 1
    timeout_seconds                  = var.functions.verifier.timeout_seconds
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.function["verifier"].email
    environment_variables            = local.verifier_environment

    dynamic "secret_environment_variables" {
      for_each = local.alert_secrets
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  event_trigger {
    trigger_region        = var.region
    event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
    pubsub_topic          = google_pubsub_topic.topic["batch_completions"].id
    retry_policy          = "RETRY_POLICY_RETRY"
    service_account_email = google_service_account.function["verifier"].email
  }


  depends_on = [google_secret_manager_secret_iam_member.verifier_reads_alert_secret]
}

# The verifier's HTTP entry point (verify_http), for a run on demand by someone allowed to
# invoke it (verifier_http_invokers, never the public) from where verifier_http_ingress lets
# requests in (internal only by default): same folder, same service account, no trigger.
resource "google_cloudfunctions2_function" "verifier_http" {
  count = var.verifier_http_enabled ? 1 : 0

  name        = "${local.function_names.verifier}-http"
  location    = var.region
  description = "Verify a game date on demand: POST {\"game_date\": \"YYYY-MM-DD\"}."

  build_config {
    runtime     = var.python_runtime
    entry_point = "verify_http"
    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.function_source["verifier"].name
      }
    }
  }

  service_config {
    available_memory                 = var.functions.verifier.memory
    max_instance_count               = 1
    min_instance_count               = 0
    max_instance_request_concurrency = 1
    timeout_seconds                  = var.functions.verifier.timeout_seconds
    ingress_settings                 = var.verifier_http_ingress
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.function["verifier"].email
    environment_variables            = local.verifier_environment

    dynamic "secret_environment_variables" {
      for_each = local.alert_secrets
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  depends_on = [google_secret_manager_secret_iam_member.verifier_reads_alert_secret]
}
