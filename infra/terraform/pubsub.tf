# Every topic keeps its messages for var.message_retention (7 days), acknowledged or not: any
# subscription on it, the ones Eventarc makes included, can be sought back and replay them.
resource "google_pubsub_topic" "topic" {
  for_each = local.topics

  name                       = each.value
  message_retention_duration = var.message_retention

  #checkov:skip=CKV_GCP_83:Google-managed encryption at rest. Messages carry batch requests, cards and dates, no secrets; a customer-managed key would add a KMS key ring for no gain here.

  depends_on = [google_project_service.required]
}

# A dead-letter topic per topic, and a subscription that holds what arrives there for 7 days.
# The subscriptions Eventarc creates for the triggers take them with one command each
# (outputs.attach_dead_letter_commands); see README.md, "Nothing is lost".
resource "google_pubsub_topic" "dead_letter" {
  for_each = local.topics

  name                       = "${each.value}-dead-letter"
  message_retention_duration = var.message_retention

  #checkov:skip=CKV_GCP_83:Google-managed encryption at rest. Messages carry batch requests, cards and dates, no secrets; a customer-managed key would add a KMS key ring for no gain here.

  depends_on = [google_project_service.required]
}

resource "google_pubsub_subscription" "dead_letter" {
  for_each = local.topics

  name                       = "${each.value}-dead-letter"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  message_retention_duration = var.message_retention
  retain_acked_messages      = true
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = "" # never expires, even when nobody pulls for a month
  }
}

# Pub/Sub's own service agent moves undeliverable messages: it publishes to the dead-letter
# topics, and must be able to acknowledge on the source subscriptions (granted per
# subscription by the attach commands, since Eventarc owns those).
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.topics

  topic  = google_pubsub_topic.dead_letter[each.key].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}
