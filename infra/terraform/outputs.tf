output "models_bucket" {
  description = "Upload .cbm models here, under models_prefix."
  value       = "gs://${google_storage_bucket.models.name}/${var.models_prefix}"
}

output "cards_location" {
  description = "Where the model-upload function writes card JSON objects."
  value       = "gs://${local.cards_bucket}/${var.cards_prefix}"
}

output "reports_location" {
  description = "Where the verifier publishes each system's HTML report, as <system_id>/<game_date>.html."
  value       = "gs://${local.reports_bucket}/${local.reports_prefix}"
}

output "dataset" {
  description = "The BigQuery dataset (project.dataset)."
  value       = "${var.project_id}.${google_bigquery_dataset.attribution.dataset_id}"
}

output "tables" {
  description = "Tables made from schemas/bigquery, and whether each is partitioned."
  value       = { for name, table in module.bigquery_schema.tables : name => table.partition_field != null ? "partitioned by ${table.partition_field}" : "not partitioned" }
}

output "topics" {
  description = "Topic ids: publish batch requests and verification requests here."
  value       = { for key, topic in google_pubsub_topic.topic : key => topic.id }
}

output "dead_letter_subscriptions" {
  description = "Where undeliverable messages wait, per topic (pull them to inspect or replay)."
  value       = { for key, subscription in google_pubsub_subscription.dead_letter : key => subscription.id }
}

output "functions" {
  description = "Deployed function names."
  value = merge(
    { for key, name in local.triggered_services : key => name },
    var.verifier_http_enabled ? { verifier_http = google_cloudfunctions2_function.verifier_http[0].name } : {},
  )
}

output "verifier_http_url" {
  description = "URL of the HTTP verifier (null unless verifier_http_enabled); call it with an identity token, from where verifier_http_ingress lets requests in (the project's networks by default)."
  value       = var.verifier_http_enabled ? google_cloudfunctions2_function.verifier_http[0].url : null
}

output "service_accounts" {
  description = "Service account per function."
  value       = { for key, account in google_service_account.function : key => account.email }
}

output "verification_jobs" {
  description = "Scheduler jobs that ask for verification, with their schedules."
  value       = { for key, job in google_cloud_scheduler_job.verify : job.name => "${job.schedule} ${job.time_zone}" }
}

output "alert_secrets" {
  description = "Secret Manager secrets to add versions to (gcloud secrets versions add NAME --data-file=-)."
  value       = { for key, secret in google_secret_manager_secret.alert : key => secret.secret_id }
}

# Eventarc creates the Pub/Sub triggers' subscriptions and Terraform cannot set their dead
# letter policy. These commands attach each one to its topic's dead-letter topic (run once
# after apply, and again if a trigger is recreated). See README.md, "Nothing is lost".
output "attach_dead_letter_commands" {
  description = "Shell commands that give the Eventarc subscriptions their dead-letter topics."
  value = join("\n", [
    for key in ["model_uploads", "prediction_batches", "verification_requests", "batch_completions"] : join(" ", [
      "for sub in $(gcloud pubsub subscriptions list --project=${var.project_id}",
      "--filter='topic=${google_pubsub_topic.topic[key].id} AND name~eventarc-'",
      "--format='value(name)'); do",
      "gcloud pubsub subscriptions update \"$sub\" --project=${var.project_id}",
      "--dead-letter-topic=${google_pubsub_topic.dead_letter[key].id}",
      "--max-delivery-attempts=${var.dead_letter_max_delivery_attempts} &&",
      "gcloud pubsub subscriptions add-iam-policy-binding \"$sub\" --project=${var.project_id}",
      "--member=serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com",
      "--role=roles/pubsub.subscriber; done",
    ])
  ])
}
