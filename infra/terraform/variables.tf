variable "project_id" {
  description = "Google Cloud project that holds everything."
  type        = string
}

variable "region" {
  description = "Region of the functions, the models bucket (a GCS trigger needs them together) and the scheduler jobs."
  type        = string
  default     = "us-central1"
}

variable "name_prefix" {
  description = "Prefix of the functions', service accounts' and scheduler jobs' names."
  type        = string
  default     = "attribution-"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,12}$", var.name_prefix))
    error_message = "name_prefix: lowercase letters, digits and hyphens, at most 13 characters (service account ids stop at 30)."
  }
}

variable "labels" {
  description = "Labels put on every resource that takes them."
  type        = map(string)
  default     = { app = "model-attribution" }
}

# ------------------------------------------------------------------ storage

variable "models_bucket" {
  description = "Bucket the .cbm models are uploaded to (MODELS_BUCKET); null: <project_id>-models."
  type        = string
  default     = null
}

variable "models_prefix" {
  description = "Folder of the models in the bucket (MODELS_PREFIX)."
  type        = string
  default     = "models/"
}

variable "cards_bucket" {
  description = "Bucket of the card JSON objects (CARDS_BUCKET); null: the models bucket, under cards_prefix."
  type        = string
  default     = null
}

variable "cards_prefix" {
  description = "Folder of the card objects (CARDS_PREFIX)."
  type        = string
  default     = "cards/"
}

variable "batch_inputs_prefix" {
  description = "Folder of the models bucket where every batch's input is kept (BATCH_INPUTS_PREFIX)."
  type        = string
  default     = "batches/"
}

variable "batch_input_retention_days" {
  description = "Days a batch's kept input (for replay and backfill) stays in the models bucket."
  type        = number
  default     = 400

  validation {
    condition     = var.batch_input_retention_days >= 1
    error_message = "batch_input_retention_days must be at least 1."
  }
}

variable "batch_input_buckets" {
  description = "Other buckets that batch requests may point rows_uri at (the prediction function may read them)."
  type        = list(string)
  default     = []
}

variable "sources_bucket" {
  description = "Bucket of the functions' source zips; null: <project_id>-attribution-sources."
  type        = string
  default     = null
}

variable "force_destroy_buckets" {
  description = "Let `terraform destroy` delete buckets that still hold objects (models, cards). Keep false outside tests."
  type        = bool
  default     = false
}

# ------------------------------------------------------------------ BigQuery

variable "dataset_id" {
  description = "BigQuery dataset of the tables and the view (BQ_DATASET)."
  type        = string
  default     = "nba_predictions"
}

variable "bq_location" {
  description = "Location of the dataset (BQ_LOCATION)."
  type        = string
  default     = "US"
}

variable "require_partition_filter" {
  description = "Make every query on a partitioned table filter on its partition column (game_date)."
  type        = bool
  default     = true
}

variable "table_deletion_protection" {
  description = "Refuse to destroy or replace the tables (they hold the attribution record)."
  type        = bool
  default     = true
}

# ------------------------------------------------------------------ Pub/Sub

variable "model_uploads_topic" {
  description = "Topic the models bucket notifies of each finalized object under models_prefix; model-upload is triggered from it (MODEL_UPLOADS_TOPIC)."
  type        = string
  default     = "model-uploads"
}

variable "prediction_batches_topic" {
  description = "Topic of batch requests (PREDICTION_BATCHES_TOPIC)."
  type        = string
  default     = "prediction-batches"
}

variable "model_cards_topic" {
  description = "Topic the model-upload function announces each card on (MODEL_CARDS_TOPIC)."
  type        = string
  default     = "model-cards"
}

variable "batch_completions_topic" {
  description = "Topic the prediction-batch function announces each finished batch on; the post-run verifier is triggered from it (BATCH_COMPLETIONS_TOPIC)."
  type        = string
  default     = "batch-completions"
}

variable "verification_requests_topic" {
  description = "Topic of verification requests (VERIFICATION_REQUESTS_TOPIC)."
  type        = string
  default     = "verification-requests"
}

variable "message_retention" {
  description = "How long the topics keep every message, acknowledged or not, so a subscription can be sought back and replay it."
  type        = string
  default     = "604800s"
}

variable "dead_letter_max_delivery_attempts" {
  description = "Deliveries before a message goes to its dead-letter topic, once attached (README, outputs.attach_dead_letter_commands)."
  type        = number
  default     = 100

  validation {
    condition     = var.dead_letter_max_delivery_attempts >= 5 && var.dead_letter_max_delivery_attempts <= 100
    error_message = "Pub/Sub accepts 5 to 100 delivery attempts."
  }
}

# ------------------------------------------------------------------ functions

variable "build_dir" {
  description = "Folder `make stage` writes build/<function>/ to."
  type        = string
  default     = null
}

variable "python_runtime" {
  description = "Cloud Functions runtime; the staged requirements are pinned from a venv of this Python."
  type        = string
  default     = "python311"
}

variable "functions" {
  description = "Per function: memory, most instances, timeout. CatBoost needs memory; the verifier does not."
  type = map(object({
    memory          = string
    max_instances   = number
    timeout_seconds = number
  }))
  default = {
    model_upload     = { memory = "1Gi", max_instances = 3, timeout_seconds = 540 }
    prediction_batch = { memory = "2Gi", max_instances = 10, timeout_seconds = 540 }
    verifier         = { memory = "512Mi", max_instances = 2, timeout_seconds = 540 }
  }

  validation {
    condition     = alltrue([for name in ["model_upload", "prediction_batch", "verifier"] : contains(keys(var.functions), name)])
    error_message = "functions must have model_upload, prediction_batch and verifier."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of the functions."
  type        = string
  default     = "INFO"
}

variable "data_lineage_enabled" {
  description = "Send the model upload's and the prediction batch's OpenLineage events to Google's Data Lineage API (Dataplex), in the dataset's location: turns on datalineage.googleapis.com, grants roles/datalineage.producer and sets the client's gcplineage transport. Off: the events go to the functions' logs."
  type        = bool
  default     = false
}

variable "verifier_http_enabled" {
  description = "Also deploy the verifier's HTTP entry point (verify_http) for runs on demand."
  type        = bool
  default     = false
}

variable "verifier_http_invokers" {
  description = "Members allowed to call the HTTP verifier (user:, group:, serviceAccount: or domain:, e.g. group:oncall@example.com); never allUsers or allAuthenticatedUsers."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for member in var.verifier_http_invokers : !contains(["allusers", "allauthenticatedusers"], lower(trimspace(member)))])
    error_message = "verifier_http_invokers must not hold allUsers or allAuthenticatedUsers: the HTTP verifier is never public."
  }

  validation {
    condition     = alltrue([for member in var.verifier_http_invokers : can(regex("^(user|group|serviceAccount|domain):[^\\s:]+$", member))])
    error_message = "verifier_http_invokers takes user:, group:, serviceAccount: or domain: members, e.g. group:oncall@example.com."
  }
}

variable "verifier_http_ingress" {
  description = "Where the HTTP verifier takes requests from: ALLOW_INTERNAL_ONLY (the project's VPC networks and Google services), ALLOW_INTERNAL_AND_GCLB, or ALLOW_ALL (any network; every caller still needs run.invoker)."
  type        = string
  default     = "ALLOW_INTERNAL_ONLY"
  nullable    = false

  validation {
    condition     = contains(["ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB", "ALLOW_ALL"], var.verifier_http_ingress)
    error_message = "verifier_http_ingress must be ALLOW_INTERNAL_ONLY, ALLOW_INTERNAL_AND_GCLB or ALLOW_ALL."
  }
}

# ------------------------------------------------------------------ verification and alerts

variable "schedule_time_zone" {
  description = "Time zone of the verification schedule, and the one the verifier resolves \"today\" in (VERIFY_TIMEZONE)."
  type        = string
  default     = "America/New_York"
}

variable "verification_schedules" {
  description = "Scheduler jobs asking the verifier to check today's game date: an hour after each prediction run of the reference system (2:30, 7:00, 11:30 ET)."
  type        = map(string)
  default = {
    early      = "30 3 * * *"
    overnight  = "0 8 * * *"
    "same-day" = "30 12 * * *"
  }
}

variable "verifier_settings" {
  description = "The verifier's thresholds (VERIFY_<CHECK>_<LEVEL>_<KIND>, VERIFY_HIGH_EDGE, ALERT_REPEAT_WINDOW_HOURS, ...); empty: the code's defaults."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.verifier_settings) : can(regex("^(VERIFY_[A-Z0-9_]+|ALERT_REPEAT_WINDOW_HOURS)$", name))])
    error_message = "verifier_settings takes only VERIFY_* names and ALERT_REPEAT_WINDOW_HOURS."
  }
}

variable "slack_alerts_enabled" {
  description = "Give the verifier SLACK_WEBHOOK_URL from Secret Manager. Add a version to the secret first (README)."
  type        = bool
  default     = false
}

variable "smtp_host" {
  description = "SMTP server for alert email (SMTP_HOST); empty: no email."
  type        = string
  default     = ""
}

variable "smtp_port" {
  description = "SMTP_PORT; null: the library default for smtp_tls."
  type        = number
  default     = null
}

variable "smtp_user" {
  description = "SMTP_USER; the password is the smtp-password secret."
  type        = string
  default     = ""
}

variable "smtp_password_enabled" {
  description = "Give the verifier SMTP_PASSWORD from Secret Manager. Add a version to the secret first (README)."
  type        = bool
  default     = false
}

variable "smtp_tls" {
  description = "SMTP_TLS: starttls, ssl or none."
  type        = string
  default     = "starttls"

  validation {
    condition     = contains(["starttls", "ssl", "none"], var.smtp_tls)
    error_message = "smtp_tls must be starttls, ssl or none."
  }
}

variable "alert_email_from" {
  description = "ALERT_EMAIL_FROM; empty: smtp_user when it is an address."
  type        = string
  default     = ""
}

variable "alert_email_to" {
  description = "ALERT_EMAIL_TO: who gets alert email."
  type        = list(string)
  default     = []
}
