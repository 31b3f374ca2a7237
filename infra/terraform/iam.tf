# One service account per function, with only what that function does. Each is also the
# identity its Eventarc trigger invokes it with (event receiver + run.invoker on itself).
resource "google_service_account" "function" {
  for_each = local.function_names

  account_id   = each.value
  display_name = "Model attribution: ${each.key}"
  description  = "Runs the ${each.key} function, and its trigger invokes it."

  depends_on = [google_project_service.required]
}

# ------------------------------------------------------------------ BigQuery: every function
# writes rows through MERGE from a short-lived staging table it creates in the dataset
# (dataEditor on the dataset, nothing elsewhere) and runs query jobs (jobUser on the project).

resource "google_bigquery_dataset_iam_member" "function_writes_dataset" {
  for_each = google_service_account.function

  dataset_id = google_bigquery_dataset.attribution.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = each.value.member
}

resource "google_project_iam_member" "function_runs_queries" {
  for_each = google_service_account.function

  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = each.value.member
}

# ------------------------------------------------------------------ Storage

# All three read the models bucket: models and their metadata (upload, prediction), and the
# bucket against the registry (verifier).
resource "google_storage_bucket_iam_member" "function_reads_models" {
  for_each = google_service_account.function

  bucket = google_storage_bucket.models.name
  role   = "roles/storage.objectViewer"
  member = each.value.member
}

resource "google_storage_bucket_iam_member" "verifier_reads_cards" {
  count = local.separate_cards ? 1 : 0

  bucket = google_storage_bucket.cards[0].name
  role   = "roles/storage.objectViewer"
  member = google_service_account.function["verifier"].member
}

# Writes are confined to a folder by an IAM condition. objectUser, not objectCreator: a
# redelivered event rewrites the same object, and overwriting needs delete.
resource "google_storage_bucket_iam_member" "model_upload_writes_cards" {
  bucket = local.cards_bucket
  role   = "roles/storage.objectUser"
  member = google_service_account.function["model_upload"].member

  condition {
    title       = "cards-folder-only"
    description = "Card objects only."
    expression  = "resource.name.startsWith(\"projects/_/buckets/${local.cards_bucket}/objects/${var.cards_prefix}\")"
  }
}

resource "google_storage_bucket_iam_member" "prediction_batch_keeps_inputs" {
  bucket = google_storage_bucket.models.name
  role   = "roles/storage.objectUser"
  member = google_service_account.function["prediction_batch"].member

  condition {
    title       = "batch-inputs-folder-only"
    description = "Kept batch inputs only."
    expression  = "resource.name.startsWith(\"projects/_/buckets/${google_storage_bucket.models.name}/objects/${var.batch_inputs_prefix}\")"
  }
}

resource "google_storage_bucket_iam_member" "prediction_batch_reads_inputs" {
  for_each = toset(var.batch_input_buckets)

  bucket = each.value
  role   = "roles/storage.objectViewer"
  member = google_service_account.function["prediction_batch"].member
}

# ------------------------------------------------------------------ Pub/Sub

resource "google_pubsub_topic_iam_member" "model_upload_announces_cards" {
  topic  = google_pubsub_topic.topic["model_cards"].name
  role   = "roles/pubsub.publisher"
  member = google_service_account.function["model_upload"].member
}

# ------------------------------------------------------------------ triggers

resource "google_project_iam_member" "function_event_receiver" {
  for_each = google_service_account.function

  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = each.value.member
}

locals {
  triggered_services = {
    model_upload     = google_cloudfunctions2_function.model_upload.name
    prediction_batch = google_cloudfunctions2_function.prediction_batch.name
    verifier         = google_cloudfunctions2_function.verifier.name
  }
}

resource "google_cloud_run_v2_service_iam_member" "trigger_invokes_function" {
  for_each = local.triggered_services

  project  = var.project_id
  location = var.region
  name     = each.value
  role     = "roles/run.invoker"
  member   = google_service_account.function[each.key].member
}

resource "google_cloud_run_v2_service_iam_member" "verifier_http_invoker" {
  for_each = var.verifier_http_enabled ? toset(var.verifier_http_invokers) : toset([])

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.verifier_http[0].name
  role     = "roles/run.invoker"
  member   = each.value
}

# Cloud Storage publishes the bucket's events to Pub/Sub for Eventarc.
data "google_storage_project_service_account" "gcs" {
  project = var.project_id
}

resource "google_project_iam_member" "gcs_agent_publishes_events" {
  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}
