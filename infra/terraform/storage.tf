# The models bucket: .cbm uploads under models/ fire the model-upload function. Versioned, so
# a model overwritten under the same name keeps its old generation (a card records it).
resource "google_storage_bucket" "models" {
  name                        = local.models_bucket
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy_buckets

  versioning {
    enabled = true
  }

  # Kept batch inputs (what replay re-runs models on) and batch claims expire after the
  # retention; models and cards are never deleted by a rule.
  lifecycle_rule {
    condition {
      age            = var.batch_input_retention_days
      matches_prefix = [var.batch_inputs_prefix]
    }
    action {
      type = "Delete"
    }
  }

  # Old generations of kept inputs go too; old model generations stay (cards point at them).
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.batch_input_retention_days
      matches_prefix             = [var.batch_inputs_prefix]
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  #checkov:skip=CKV_GCP_62:Access is recorded by Cloud Audit Logs (data access logs); legacy usage-log buckets add nothing here.

  depends_on = [google_project_service.required]
}

# Each object finalized under models_prefix is announced on the model uploads topic, with its
# metadata (JSON_API_V1), and model-upload is triggered from there (functions.tf).
resource "google_storage_notification" "model_uploads" {
  bucket             = google_storage_bucket.models.name
  topic              = google_pubsub_topic.topic["model_uploads"].id
  payload_format     = "JSON_API_V1"
  event_types        = ["OBJECT_FINALIZE"]
  object_name_prefix = var.models_prefix

  depends_on = [google_pubsub_topic_iam_member.gcs_agent_notifies_uploads]
}

# Cards live in the models bucket under cards_prefix unless cards_bucket names another one.
resource "google_storage_bucket" "cards" {
  count = local.separate_cards ? 1 : 0

  name                        = var.cards_bucket
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy_buckets

  versioning {
    enabled = true
  }

  #checkov:skip=CKV_GCP_62:Access is recorded by Cloud Audit Logs (data access logs); legacy usage-log buckets add nothing here.

  depends_on = [google_project_service.required]
}

# The functions' source zips. Not the models bucket: an upload there would fire model-upload.
resource "google_storage_bucket" "sources" {
  name                        = local.sources_bucket
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
    }
    action {
      type = "Delete"
    }
  }

  #checkov:skip=CKV_GCP_62:Holds only build artifacts named by their hash; Cloud Audit Logs record access.

  depends_on = [google_project_service.required]
}

# build/<function>/ as `make stage` wrote it, zipped; the object name carries the content
# hash, so a changed folder is a new object and a new function revision.
data "archive_file" "function_source" {
  for_each = local.function_names

  type        = "zip"
  source_dir  = "${local.build_dir}/${each.key}"
  output_path = "${path.module}/.terraform/dist/${each.key}.zip"
  excludes    = ["__pycache__", "**/__pycache__/**", "**/*.pyc"]
}

resource "google_storage_bucket_object" "function_source" {
  for_each = data.archive_file.function_source

  bucket = google_storage_bucket.sources.name
  name   = "${each.key}/${each.value.output_sha256}.zip"
  source = each.value.output_path
}
