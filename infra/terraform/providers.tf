provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = var.labels
}

data "google_project" "this" {
  project_id = var.project_id
}

# The APIs the suite runs on, Data Lineage when the functions send it their lineage. Left
# enabled on destroy: other things in the project may use them.
resource "google_project_service" "required" {
  for_each = toset(concat([
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "eventarc.googleapis.com",
    "iam.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ], var.data_lineage_enabled ? ["datalineage.googleapis.com"] : []))

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
