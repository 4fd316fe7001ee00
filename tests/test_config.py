from __future__ import annotations

import pytest

from curate.config import load_pipeline, parse_pipeline
from curate.errors import ConfigError


def parse(stages, **top):
    return parse_pipeline({"name": "t", "stages": stages, **top}, source="t.yaml")


def test_valid_pipeline_keeps_order_and_params():
    config = parse([{"exact_dedup": {"keep": "latest"}}, "quality_filter"])
    assert [s.name for s in config.stages] == ["exact_dedup", "quality_filter"]
    assert config.stages[0].params == {"keep": "latest"}


def test_unknown_stage_suggests_closest():
    with pytest.raises(
        ConfigError,
        match=r"t.yaml: stages\[0\].*unknown stage 'exact_dedupe'.*"
        r"did you mean 'exact_dedup'",
    ):
        parse([{"exact_dedupe": {}}])


def test_planned_stage_says_not_implemented(monkeypatch):
    from curate.stages import base

    monkeypatch.setitem(base.PLANNED, "future_stage", "something to come")
    with pytest.raises(ConfigError, match="'future_stage' .something to come. is not implemented"):
        parse([{"future_stage": {}}])


def test_unknown_parameter_names_key_and_suggests():
    with pytest.raises(
        ConfigError,
        match=r"stages\[1\]\.quality_filter: unknown parameter "
        r"'rule' \(did you mean 'rules'\?\)",
    ):
        parse([{"exact_dedup": {}}, {"quality_filter": {"rule": ["gopher_quality"]}}])


def test_bad_value_of_literal_parameter():
    with pytest.raises(ConfigError, match="keep: 'lastest' is not one of.*did you mean 'latest'"):
        parse([{"exact_dedup": {"keep": "lastest"}}])


def test_wrong_type():
    with pytest.raises(ConfigError, match="normalize: expected bool"):
        parse([{"exact_dedup": {"normalize": "yes"}}])


def test_unknown_rule_and_datatrove_param():
    with pytest.raises(
        ConfigError, match="unknown rule 'gopher_qualty'.*did you mean 'gopher_quality'"
    ):
        parse([{"quality_filter": {"rules": ["gopher_qualty"]}}])
    with pytest.raises(ConfigError, match="unknown parameter 'min_doc_word'.*'min_doc_words'"):
        parse(
            [
                {
                    "quality_filter": {
                        "rules": ["gopher_quality"],
                        "params": {"gopher_quality": {"min_doc_word": 5}},
                    }
                }
            ]
        )


def test_unknown_top_level_key():
    with pytest.raises(ConfigError, match="unknown key 'stage' .did you mean 'stages'"):
        parse_pipeline({"name": "t", "stage": []}, source="t.yaml")


def test_same_stage_twice_gets_distinct_labels():
    config = parse(["exact_dedup", "exact_dedup"])
    assert [s.label for s in config.stages] == ["exact_dedup", "exact_dedup-2"]


def test_fingerprint_ignores_paths_but_not_params():
    a = parse(["exact_dedup"], input="x", output="y")
    b = parse(["exact_dedup"], input="z", output="w")
    c = parse([{"exact_dedup": {"keep": "latest"}}])
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


@pytest.mark.parametrize("bad", [0, -5, 2.5, "big", True, None])
def test_shard_rows_is_auto_or_a_positive_integer(bad):
    assert parse(["exact_dedup"]).shard_rows == "auto"
    assert parse(["exact_dedup"], shard_rows=5000).shard_rows == 5000
    with pytest.raises(
        ConfigError, match="t.yaml: shard_rows must be 'auto' or a positive integer"
    ):
        parse(["exact_dedup"], shard_rows=bad)
    # the cut decides which shard writes which files: a resumed run must use the same one
    assert (
        parse(["exact_dedup"], shard_rows=10).fingerprint() != parse(["exact_dedup"]).fingerprint()
    )


def test_bundled_pipeline_loads(repo_root):
    config = load_pipeline(repo_root / "pipelines" / "deepseek.yaml")
    assert config.stages and config.input and config.output


def test_invalid_yaml_names_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: [\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_pipeline(bad)


def test_reused_anchors_and_merge_keys_load_as_written_out(tmp_path):
    # checked against a file with every alias written out; config.py bounds what they expand to
    anchored = tmp_path / "anchored.yaml"
    anchored.write_text(
        "name: a\n"
        "stages:\n"
        "  - language_id: {languages: &langs [en, zh], min_score: 0.5}\n"
        "  - quality_filter: {rules: [gopher_quality], languages: *langs}\n"
        "  - exact_dedup: &dedup {keep: earliest}\n"
        "  - exact_dedup: {<<: *dedup, normalize: false}\n"
    )
    written = tmp_path / "written.yaml"
    written.write_text(
        "name: a\n"
        "stages:\n"
        "  - language_id: {languages: [en, zh], min_score: 0.5}\n"
        "  - quality_filter: {rules: [gopher_quality], languages: [en, zh]}\n"
        "  - exact_dedup: {keep: earliest}\n"
        "  - exact_dedup: {keep: earliest, normalize: false}\n"
    )
    a, b = load_pipeline(anchored), load_pipeline(written)
    assert a.to_dict()["stages"] == b.to_dict()["stages"]
    assert a.fingerprint() == b.fingerprint()
