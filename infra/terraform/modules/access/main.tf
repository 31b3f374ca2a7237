# access.json (what each function needs, the one list) shaped into the BigQuery grants the
# root module makes. It has no provider, so `terraform console` evaluates it offline
# (tests/integration/test_terraform.py), like modules/bigquery_schema.

variable "access_file" {
  description = "The root module's access.json."
  type        = string
}

variable "project_id" {
  description = "Project of the dataset, as IAM condition resource names spell it."
  type        = string
}

variable "dataset_id" {
  description = "Dataset the tables and the staging tables are in."
  type        = string
}

locals {
  functions = jsondecode(file(var.access_file)).functions

  writes = { for name, need in local.functions : name => keys(need.bigquery.writes) }
  reads  = { for name, need in local.functions : name => keys(need.bigquery.reads) }

  # "function/table" => { function, table }, one table-level grant each. A table a function
  # writes is read through its writer grant, so the read grants cover the others only.
  table_writes = merge([
    for name, tables in local.writes : {
      for table in tables : "${name}/${table}" => { function = name, table = table }
    }
  ]...)
  table_reads = merge([
    for name, tables in local.reads : {
      for table in tables : "${name}/${table}" => { function = name, table = table }
      if !contains(local.writes[name], table)
    }
  ]...)

  # function => IAM condition: the dataset itself (to create a table in it) and the staging
  # tables staging_<table>_* of the tables it writes, nothing else.
  dataset = "projects/${var.project_id}/datasets/${var.dataset_id}"
  staging_conditions = {
    for name, tables in local.writes : name => join(" || ", concat(
      ["resource.name == \"${local.dataset}\""],
      [for table in tables : "resource.name.startsWith(\"${local.dataset}/tables/staging_${table}_\")"],
    ))
    if length(tables) > 0
  }
}

output "table_writes" {
  description = "\"function/table\" => { function, table } for every table a function writes."
  value       = local.table_writes
}

output "table_reads" {
  description = "\"function/table\" => { function, table } for every other table or view a function reads."
  value       = local.table_reads
}

output "staging_conditions" {
  description = "Function => the IAM condition limiting its staging-table role to its own staging tables."
  value       = local.staging_conditions
}
