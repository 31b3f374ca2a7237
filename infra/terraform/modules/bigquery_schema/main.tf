# Reads schemas/bigquery (the one source of truth for tables) into what the root module
# needs: each table's schema and layout, and each view's query with its tables qualified.
# It has no provider, so `terraform console` evaluates it offline (tests/integration).

variable "schemas_dir" {
  description = "The repository's schemas/bigquery folder."
  type        = string
}

variable "project_id" {
  description = "Project the view queries name their tables in."
  type        = string
}

variable "dataset_id" {
  description = "Dataset the view queries name their tables in."
  type        = string
}

locals {
  layout = jsondecode(file("${var.schemas_dir}/tables.json"))
  names = sort([
    for file in setsubtract(fileset(var.schemas_dir, "*.json"), ["tables.json"]) : trimsuffix(file, ".json")
  ])
  tables = {
    for name in local.names : name => {
      schema          = file("${var.schemas_dir}/${name}.json")
      partition_field = try(local.layout[name].partition_field, null)
      clustering      = try(local.layout[name].clustering, [])
      key             = try(local.layout[name].key, [])
    }
  }
  # A view file is `CREATE OR REPLACE VIEW name AS <query>` over bare table names (the
  # embedded warehouse runs it as is); BigQuery wants the query alone, names qualified.
  table_pattern = join("|", local.names)
  views = {
    for file in fileset("${var.schemas_dir}/views", "*.sql") : trimsuffix(file, ".sql") => replace(
      replace(
        file("${var.schemas_dir}/views/${file}"),
        "/(?is)^.*?CREATE\\s+(OR\\s+REPLACE\\s+)?VIEW\\s+\\w+\\s+AS\\s+/",
        "",
      ),
      "/(?i)\\b(FROM|JOIN)\\s+(${local.table_pattern})\\b/",
      "$1 `${var.project_id}.${var.dataset_id}.$2`",
    )
  }
}

output "tables" {
  description = "Table name => schema (JSON text), partition_field (or null), clustering, key."
  value       = local.tables
}

output "views" {
  description = "View name => its BigQuery Standard SQL query, tables qualified."
  value       = local.views
}
