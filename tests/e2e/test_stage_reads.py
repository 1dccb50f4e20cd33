"""What the stages of the shared smoke run opened and imported, as the audit hook
(tests/helpers/audit/sitecustomize.py) recorded it, against the stage graph."""

from ..helpers.commands import covered
from ..helpers.config import compose_config
from ..helpers.stage_reads import data_files_read


def test_every_stage_process_was_audited(smoke_run):
    assert set(smoke_run.audit) == set(smoke_run.deps)
    assert all(a.processes == 1 for a in smoke_run.audit.values()), smoke_run.audit
    # the hook sees opens and imports at all (the checks below are not vacuous)
    assert "data/blobs.npz" in smoke_run.audit["baseline"].reads
    assert smoke_run.audit["baseline"].imports == {"tensorflow", "keras"}


def test_every_file_a_stage_reads_is_one_of_its_deps(smoke_run):
    missing = {
        stage: sorted(r for r in audit.reads if not covered(r, smoke_run.deps[stage]))
        for stage, audit in smoke_run.audit.items()
    }
    missing = {stage: files for stage, files in missing.items() if files}
    assert not missing, f"stages read files they do not depend on: {missing}"


def test_the_report_data_and_check_stages_import_no_tensorflow(smoke_run):
    """They read and write files, check params and draw figures; none trains, so none may
    pay for importing TensorFlow or Keras."""
    for stage in ("report", "data", "check"):
        assert smoke_run.audit[stage].imports == set(), (stage, smoke_run.audit[stage].imports)


def test_the_stages_read_the_data_files_the_rule_names(smoke_run):
    """`data_files_read` (what tests/test_dependencies.py checks the stage graph with) is
    what the stages do: their data/*.npz reads under the smoke preset, exactly."""

    def npz(files):
        return {f for f in files if f.startswith("data/") and f.endswith(".npz")}

    rule = data_files_read(compose_config("experiment=smoke"))
    seen = {stage: npz(audit.reads) for stage, audit in smoke_run.audit.items()}
    expected = {stage: npz(rule.get(stage, set())) for stage in seen}
    assert set(rule) <= set(seen), (
        f"the rule names stages that did not run: {set(rule) - set(seen)}"
    )
    assert seen == expected


def test_the_csv_dataset_file_is_read_by_the_stages_the_rule_names(smoke_run):
    """The csv dataset's file (the example the default points at) is read by `check` and
    `data`, whose deps it is among, and by no stage after them."""

    def tables(files):
        return {f for f in files if f.startswith("datasets/")}

    rule = data_files_read(compose_config("experiment=smoke"))
    seen = {stage: tables(audit.reads) for stage, audit in smoke_run.audit.items()}
    expected = {stage: tables(rule.get(stage, set())) for stage in seen}
    assert seen == expected
    assert seen["check"] == seen["data"] == {"datasets/example.csv"}
