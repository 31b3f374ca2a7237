"""A ``LineageRun`` as an OpenLineage RunEvent: objects in their bucket's namespace
(``gs://<bucket>``, named by the object path), tables as their warehouse names them."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    DatasetFacet,
    JobFacet,
    OutputDatasetFacet,
    RunFacet,
    dataset_type_dataset,
    dataset_version_dataset,
    error_message_run,
    job_type_job,
    output_statistics_output_dataset,
)

from attribution.lineage.facets import MODEL_CARD_FACET, ModelCardDatasetFacet
from attribution.objects import split_gs_uri
from attribution.ports import LineageDataset, LineageRun, ObjectDataset, TableDataset

# What the model-attribution distribution is, as OpenLineage's ``producer`` URI names it.
PRODUCER_BASE = "https://model-attribution.example/attribution"
INTEGRATION = "MODEL_ATTRIBUTION"


def producer() -> str:
    try:
        return f"{PRODUCER_BASE}/{version('model-attribution')}"
    except PackageNotFoundError:  # a staged function carries the package, not its metadata
        return PRODUCER_BASE


@dataclass(frozen=True)
class TableNaming:
    """How the warehouse names its tables: BigQuery ``bigquery`` and
    ``<project>.<dataset>.<table>``; DuckDB ``duckdb://<file>`` and ``main.<table>``."""

    namespace: str
    prefix: str

    def name(self, table: str) -> str:
        return f"{self.prefix}{table}"


def run_event(run: LineageRun, *, namespace: str, tables: TableNaming) -> RunEvent:
    job_facets: dict[str, JobFacet] = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration=INTEGRATION, jobType="JOB", producer=producer()
        )
    }
    run_facets: dict[str, RunFacet] = {}
    if run.error is not None:
        run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=run.error, programmingLanguage="PYTHON", producer=producer()
        )
    return RunEvent(
        eventType=RunState(run.state.value),
        eventTime=run.at.isoformat(),
        run=Run(runId=str(run.run_id), facets=run_facets),
        job=Job(namespace=namespace, name=run.job, facets=job_facets),
        inputs=[_input(d, tables) for d in run.inputs],
        outputs=[_output(d, tables) for d in run.outputs],
        producer=producer(),
    )


def _input(dataset: LineageDataset, tables: TableNaming) -> InputDataset:
    namespace, name = _named(dataset, tables)
    return InputDataset(namespace=namespace, name=name, facets=_facets(dataset))


def _output(dataset: LineageDataset, tables: TableNaming) -> OutputDataset:
    namespace, name = _named(dataset, tables)
    output_facets: dict[str, OutputDatasetFacet] = {}
    if isinstance(dataset, TableDataset) and dataset.rows is not None:
        output_facets["outputStatistics"] = (
            output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=dataset.rows, producer=producer()
            )
        )
    return OutputDataset(
        namespace=namespace, name=name, facets=_facets(dataset), outputFacets=output_facets
    )


def _named(dataset: LineageDataset, tables: TableNaming) -> tuple[str, str]:
    if isinstance(dataset, TableDataset):
        return tables.namespace, tables.name(dataset.table)
    bucket, name = split_gs_uri(dataset.uri)
    return f"gs://{bucket}", name


def _facets(dataset: LineageDataset) -> dict[str, DatasetFacet]:
    kind = "TABLE" if isinstance(dataset, TableDataset) else dataset.kind
    facets: dict[str, DatasetFacet] = {
        "datasetType": dataset_type_dataset.DatasetTypeDatasetFacet(
            datasetType=kind, producer=producer()
        )
    }
    if isinstance(dataset, ObjectDataset):
        if dataset.version is not None:
            facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
                datasetVersion=dataset.version, producer=producer()
            )
        if dataset.card is not None:
            facets[MODEL_CARD_FACET] = ModelCardDatasetFacet(
                card=dict(dataset.card), producer=producer()
            )
    return facets
