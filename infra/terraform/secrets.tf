# The alert secrets. Terraform creates the secrets, never their values (those would sit in
# the state): add a version with `gcloud secrets versions add` (README.md), then turn on
# slack_alerts_enabled / smtp_password_enabled. Only the functions that alert (the verifier and
# the model upload) may read them.
resource "google_secret_manager_secret" "alert" {
  for_each = {
    slack_webhook_url = "attribution-slack-webhook-url"
    smtp_password     = "attribution-smtp-password"
  }

  secret_id = each.value

  replication {
    auto {}
  }

  depends_on = [google_project_service.required]
}

resource "google_secret_manager_secret_iam_member" "verifier_reads_alert_secret" {
  for_each = google_secret_manager_secret.alert

  secret_id = each.value.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function["verifier"].member
}

resource "google_secret_manager_secret_iam_member" "model_upload_reads_alert_secret" {
  for_each = google_secret_manager_secret.alert

  secret_id = each.value.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function["model_upload"].member
}
