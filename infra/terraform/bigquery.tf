# Tables and views come from schemas/bigquery (the one source of truth), read by a module
# with no provider so the tests can evaluate it offline.
module "bigquery_schema" {
  source = "./modules/bigquery_schema"

  schemas_dir = "${local.repo_root}/schemas/bigquery"
  project_id  = var.project_id
  dataset_id  = var.dataset_id
}

resource "google_bigquery_dataset" "attribution" {
  dataset_id                 = var.dataset_id
  location                   = var.bq_location
  description                = "Model cards, deployments, stamped predictions, batch logs, rejects and verification runs."
  delete_contents_on_destroy = false

  #checkov:skip=CKV_GCP_81:Google-managed encryption at rest; no customer-managed key is required for this data.

  depends_on = [google_project_service.required]
}

resource "google_bigquery_table" "table" {
  for_each = module.bigquery_schema.tables

  dataset_id          = google_bigquery_dataset.attribution.dataset_id
  table_id            = each.key
  schema              = each.value.schema
  clustering          = length(each.value.clustering) > 0 ? each.value.clustering : null
  deletion_protection = var.table_deletion_protection

  # Partitioned by day on game_date; every query must then filter it (prunes the scan).
  require_partition_filter = each.value.partition_field != null ? var.require_partition_filter : null

  dynamic "time_partitioning" {
    for_each = each.value.partition_field != null ? [each.value.partition_field] : []
    content {
      type  = "DAY"
      field = time_partitioning.value
    }
  }

  #checkov:skip=CKV_GCP_80:Google-managed encryption at rest; no customer-managed key is required for this data.
}

# prediction_accuracy and any other schemas/bigquery/views/*.sql, with qualified table names.
resource "google_bigquery_table" "view" {
  for_each = module.bigquery_schema.views

  dataset_id          = google_bigquery_dataset.attribution.dataset_id
  table_id            = each.key
  deletion_protection = var.table_deletion_protection

  view {
    query          = each.value
    use_legacy_sql = false
  }

  depends_on = [google_bigquery_table.table]

  #checkov:skip=CKV_GCP_80:A view stores no data of its own.
}
