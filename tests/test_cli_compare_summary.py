"""What ``neurocomplex compare`` prints: each area's best layer, the matched differences, the notes."""

from __future__ import annotations

import json

import pytest

from neurocomplex._bundled import bundled_path
from neurocomplex.cli import main

pytest.importorskip("torch")
pytest.importorskip("matplotlib")


def test_compare_prints_best_layers_matched_counts_and_notes(tmp_path, capsys):
    truth = json.loads(bundled_path("comparison_case_truth.json").read_text())["area_layer"]
    code = main(["compare", str(bundled_path("comparison_case.nwb")), "--trials", "trials", "--window", "0", "0.5",
                 "--model", str(bundled_path("demo_network.pt")),
                 "--stimuli", str(bundled_path("comparison_case_stimuli.npy")), "--out", str(tmp_path),
                 "--no-progress", "--n-boot", "40", "--n-draws", "2", "--metrics", "cka",
                 "--measures", "participation_ratio", "pattern_entropy"])
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    start = out.index("Best layer of each area (best_fraction: share of bootstrap replicates in which it is best)")
    header = out[start + 1].split()
    assert header[:3] == ["metric", "area", "best_layer"]
    rows = [line.split() for line in out[start + 2: start + 2 + len(truth)]]
    assert {r[1]: r[2] for r in rows} == truth and all(r[0] == "cka" for r in rows)
    matched = next(line for line in out if line.startswith("Matched differences:"))
    # 6 populations: 15 pairs for each of the 2 measures, every one with an interval at 40 replicates
    assert "of the 30 intervals (30 pairs) exclude 0" in matched
    counts = {line.split()[0]: line.split()[1:] for line in out if line.split()[:1] in (["participation_ratio"],
                                                                                     ["pattern_entropy"])}
    assert counts["participation_ratio"][:2] == ["15", "15"] and counts["pattern_entropy"][:2] == ["15", "15"]
    assert "Notes:" in out and any("Matched comparison: each population subsampled" in line for line in out)
    assert out[-1] == f"wrote {tmp_path / 'report.html'}"
