# An hour after each of the reference system's prediction runs (2:30, 7:00, 11:30 ET), ask
# the verifier to check today's game date. The payload cannot carry a date, so it says
# "today": the verifier resolves it in VERIFY_TIMEZONE, which is this schedule's time zone
# (attribution.verification.request).
resource "google_cloud_scheduler_job" "verify" {
  for_each = var.verification_schedules

  name        = "${var.name_prefix}verify-${each.key}"
  description = "Verify today's attribution after the ${each.key} prediction run."
  region      = var.region
  schedule    = each.value
  time_zone   = var.schedule_time_zone

  retry_config {
    retry_count = 3
  }

  pubsub_target {
    topic_name = google_pubsub_topic.topic["verification_requests"].id
    data       = base64encode(jsonencode({ game_date = "today" }))
  }

  depends_on = [google_project_service.required]
}
