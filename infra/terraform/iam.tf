# One service account per function, with only what that function does. access.json says what
# each needs and why; tests/integration/test_terraform.py renders every binding in this folder
# and holds it against that file. Each account is also the identity its trigger invokes it with.
resource "google_service_account" "function" {
  for_each = local.function_names

  account_id   = each.value
  display_name = "Model attribution: ${each.key}"
  description  = "Runs the ${each.key} function, and its trigger invokes it."

  depends_on = [google_project_service.required]
}

# access.json shaped into grants: table by table, and each function's staging-table condition.
module "access" {
  source = "./modules/access"

  access_file = "${path.module}/access.json"
  project_id  = var.project_id
  dataset_id  = google_bigquery_dataset.attribution.dataset_id
}

locals {
  # Custom role ids take letters, digits, _ and . only.
  role_prefix = replace(var.name_prefix, "-", "_")
}

# ------------------------------------------------------------------ BigQuery
# Per table, never on the dataset: the verifier cannot touch model_cards or the predictions,
# and no function can drop or alter a table (writers get rows, not tables).

# Write rows: load jobs, MERGE and UPDATE need get, getData and updateData on the target.
# Unlike roles/bigquery.dataEditor: no tables.delete, no tables.update (schema, expiration).
resource "google_project_iam_custom_role" "bigquery_row_writer" {
  role_id     = "${local.role_prefix}rowWriter"
  title       = "Model attribution: write rows of a table"
  description = "Insert, merge and update rows of the tables it is granted on; never delete or alter a table."
  permissions = [
    "bigquery.tables.get",
    "bigquery.tables.getData",
    "bigquery.tables.updateData",
  ]
}

resource "google_bigquery_table_iam_member" "function_writes_table" {
  for_each = module.access.table_writes

  project    = var.project_id
  dataset_id = google_bigquery_dataset.attribution.dataset_id
  table_id   = each.value.table
  role       = google_project_iam_custom_role.bigquery_row_writer.name
  member     = google_service_account.function[each.value.function].member

  depends_on = [google_bigquery_table.table]
}

# Read the other tables (and views) a function queries. A plain view is read with its
# reader's own access to the tables under it: access.json lists those too.
resource "google_bigquery_table_iam_member" "function_reads_table" {
  for_each = module.access.table_reads

  project    = var.project_id
  dataset_id = google_bigquery_dataset.attribution.dataset_id
  table_id   = each.value.table
  role       = "roles/bigquery.dataViewer"
  member     = google_service_account.function[each.value.function].member

  depends_on = [google_bigquery_table.table, google_bigquery_table.view]
}

# The warehouse adapter stages rows in a table staging_<table>_<uuid> it creates in the
# dataset, merges from it and deletes it (access.json, bigquery_staging). Its names are not
# known in advance, so this is a project binding limited by an IAM condition: the dataset
# itself (to create a table in it) and the function's own staging tables, nothing else.
resource "google_project_iam_custom_role" "bigquery_staging" {
  role_id     = "${local.role_prefix}stagingTables"
  title       = "Model attribution: staging tables"
  description = "Create, load, read and delete the short-lived staging tables rows are merged from."
  permissions = [
    "bigquery.tables.create",
    "bigquery.tables.delete",
    "bigquery.tables.get",
    "bigquery.tables.getData",
    "bigquery.tables.updateData",
  ]
}

resource "google_project_iam_member" "function_stages_rows" {
  for_each = module.access.staging_conditions

  project = var.project_id
  role    = google_project_iam_custom_role.bigquery_staging.name
  member  = google_service_account.function[each.key].member

  condition {
    title       = "own-staging-tables"
    description = "The dataset (to create tables) and staging_<table>_* of the tables ${each.key} writes."
    expression  = each.value
  }
}

resource "google_project_iam_member" "function_runs_queries" {
  for_each = google_service_account.function

  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = each.value.member
}

# ------------------------------------------------------------------ Storage

# Models are read where they are: prediction reads the models its cards name and claim-check
# inputs anywhere in the bucket, the verifier checks the objects cards name.
resource "google_storage_bucket_iam_member" "function_reads_models" {
  for_each = toset(["prediction_batch", "verifier"])

  bucket = google_storage_bucket.models.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.function[each.key].member
}

# The upload function reads only what it was told landed under the models prefix.
resource "google_storage_bucket_iam_member" "model_upload_reads_models" {
  bucket = google_storage_bucket.models.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.function["model_upload"].member

  condition {
    title       = "models-folder-only"
    description = "Uploaded models only."
    expression  = "resource.name.startsWith(\"projects/_/buckets/${google_storage_bucket.models.name}/objects/${var.models_prefix}\")"
  }
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

# Each run rewrites its system's report of the day (reports/<system_id>/<game_date>.html).
resource "google_storage_bucket_iam_member" "verifier_writes_reports" {
  bucket = local.reports_bucket
  role   = "roles/storage.objectUser"
  member = google_service_account.function["verifier"].member

  condition {
    title       = "reports-folder-only"
    description = "Report pages only."
    expression  = "resource.name.startsWith(\"projects/_/buckets/${local.reports_bucket}/objects/${local.reports_prefix}\")"
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

# ------------------------------------------------------------------ Data Lineage

# The functions that run jobs send each run's events through the gcplineage transport
# (locals.tf); the verifier runs none. datalineage.producer is the narrowest predefined role
# that writes lineage, and it is granted on the project.
resource "google_project_iam_member" "function_sends_lineage" {
  for_each = var.data_lineage_enabled ? toset(["model_upload", "prediction_batch"]) : toset([])

  project = var.project_id
  role    = "roles/datalineage.producer"
  member  = google_service_account.function[each.key].member
}

# ------------------------------------------------------------------ Pub/Sub

resource "google_pubsub_topic_iam_member" "model_upload_announces_cards" {
  topic  = google_pubsub_topic.topic["model_cards"].name
  role   = "roles/pubsub.publisher"
  member = google_service_account.function["model_upload"].member
}

resource "google_pubsub_topic_iam_member" "prediction_batch_announces_completions" {
  topic  = google_pubsub_topic.topic["batch_completions"].name
  role   = "roles/pubsub.publisher"
  member = google_service_account.function["prediction_batch"].member
}

# ------------------------------------------------------------------ triggers

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

# The post-run verifier runs as the verifier, whose trigger invokes it.
resource "google_cloud_run_v2_service_iam_member" "completion_trigger_invokes_post_run_verifier" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.post_run_verifier.name
  role     = "roles/run.invoker"
  member   = google_service_account.function["verifier"].member
}

# verifier_http_invokers refuses allUsers and allAuthenticatedUsers (variables.tf).
resource "google_cloud_run_v2_service_iam_member" "verifier_http_invoker" {
  for_each = var.verifier_http_enabled ? toset(var.verifier_http_invokers) : toset([])

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.verifier_http[0].name
  role     = "roles/run.invoker"
  member   = each.value
}

# Cloud Storage publishes the models bucket's notifications (storage.tf) to the model uploads
# topic, and to no other.
data "google_storage_project_service_account" "gcs" {
  project = var.project_id
}

resource "google_pubsub_topic_iam_member" "gcs_agent_notifies_uploads" {
  topic  = google_pubsub_topic.topic["model_uploads"].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}
