locals {
  repo_root = "${path.module}/../.."
  build_dir = coalesce(var.build_dir, "${local.repo_root}/build")

  models_bucket  = coalesce(var.models_bucket, "${var.project_id}-models")
  sources_bucket = coalesce(var.sources_bucket, "${var.project_id}-attribution-sources")
  separate_cards = var.cards_bucket != null && var.cards_bucket != local.models_bucket
  cards_bucket   = local.separate_cards ? google_storage_bucket.cards[0].name : google_storage_bucket.models.name

  # The verifier's HTML reports: REPORTS_BUCKET, under the folder the code names them in
  # (attribution.objects.REPORTS_PREFIX, not a setting).
  reports_bucket = google_storage_bucket.models.name
  reports_prefix = "reports/"

  # Function key (as in functions/manifest.json) => deployed name, e.g. attribution-model-upload.
  function_names = {
    for key in ["model_upload", "prediction_batch", "verifier"] : key => "${var.name_prefix}${replace(key, "_", "-")}"
  }

  topics = {
    model_uploads         = var.model_uploads_topic
    prediction_batches    = var.prediction_batches_topic
    model_cards           = var.model_cards_topic
    verification_requests = var.verification_requests_topic
    batch_completions     = var.batch_completions_topic
  }

  # What attribution.config.load_settings reads, the same for every function.
  common_environment = {
    ATTRIBUTION_BACKEND         = "gcp"
    GCP_PROJECT                 = var.project_id
    MODELS_BUCKET               = google_storage_bucket.models.name
    MODELS_PREFIX               = var.models_prefix
    CARDS_BUCKET                = local.cards_bucket
    CARDS_PREFIX                = var.cards_prefix
    BATCH_INPUTS_PREFIX         = var.batch_inputs_prefix
    BQ_DATASET                  = google_bigquery_dataset.attribution.dataset_id
    BQ_LOCATION                 = var.bq_location
    MODEL_UPLOADS_TOPIC         = google_pubsub_topic.topic["model_uploads"].name
    MODEL_CARDS_TOPIC           = google_pubsub_topic.topic["model_cards"].name
    PREDICTION_BATCHES_TOPIC    = google_pubsub_topic.topic["prediction_batches"].name
    VERIFICATION_REQUESTS_TOPIC = google_pubsub_topic.topic["verification_requests"].name
    BATCH_COMPLETIONS_TOPIC     = google_pubsub_topic.topic["batch_completions"].name
    LOG_LEVEL                   = var.log_level
  }

  # Alert email (attribution.alerts.channel_settings): all of it or none of it.
  email_environment = var.smtp_host == "" ? {} : merge(
    {
      SMTP_HOST      = var.smtp_host
      SMTP_TLS       = var.smtp_tls
      ALERT_EMAIL_TO = join(",", var.alert_email_to)
    },
    var.smtp_port == null ? {} : { SMTP_PORT = tostring(var.smtp_port) },
    var.smtp_user == "" ? {} : { SMTP_USER = var.smtp_user },
    var.alert_email_from == "" ? {} : { ALERT_EMAIL_FROM = var.alert_email_from },
  )

  # The OpenLineage client's own variables (attribution.lineage.client), for the functions
  # that run jobs. Lineage is kept per location: in the dataset's, BigQuery's lineage view
  # shows the runs beside the tables they wrote.
  lineage_environment = var.data_lineage_enabled ? {
    OPENLINEAGE__TRANSPORT__TYPE       = "gcplineage"
    OPENLINEAGE__TRANSPORT__PROJECT_ID = var.project_id
    OPENLINEAGE__TRANSPORT__LOCATION   = lower(var.bq_location)
  } : {}

  verifier_environment = merge(
    local.common_environment,
    { VERIFY_TIMEZONE = var.schedule_time_zone, REPORTS_BUCKET = local.reports_bucket },
    local.email_environment,
    var.verifier_settings,
  )

  # Secret Manager secrets the alerting functions (verifier, model upload) get as environment
  # variables (never in state).
  alert_secrets = merge(
    var.slack_alerts_enabled ? { SLACK_WEBHOOK_URL = google_secret_manager_secret.alert["slack_webhook_url"].secret_id } : {},
    var.smtp_password_enabled ? { SMTP_PASSWORD = google_secret_manager_secret.alert["smtp_password"].secret_id } : {},
  )
}
