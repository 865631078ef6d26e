"""End to end on the bundled COCO sample with the tiny config: finetune, resume, eval, stock open_clip loading."""

import json
import os
import socket
import subprocess
import sys

import open_clip
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from relaug.cli import app
from relaug.models import MODEL_CONFIGS
from relaug.train.trainer import TrainOptions, finetune

TINY = dict(model="tiny-clip", pretrained="none", batch_size=16, lr=1e-4, warmup=2, workers=0, log_every=2)


@pytest.fixture(scope="module")
def two_epochs(sample_shards, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "straight"
    finetune(TrainOptions(shards=sample_shards, out=out, epochs=2, **TINY))
    return out


def test_a_run_writes_config_metrics_and_checkpoints(two_epochs):
    config = json.loads((two_epochs / "config.json").read_text())
    assert config["loss"] == "drive" and config["model_name"] == "tiny-clip" and config["precision_used"] == "fp32"
    lines = [json.loads(line) for line in (two_epochs / "metrics.jsonl").read_text().splitlines()]
    steps = [line for line in lines if "step" in line]
    assert steps and all({"loss", "lr", "logit_scale", "samples_per_s"} <= line.keys() for line in steps)
    # the log logit scale is clamped to [0, ln 10] after every step (tiny-clip starts at 1/0.07)
    assert all(1.0 <= line["logit_scale"] <= 10.0 + 1e-4 for line in steps)
    validations = [line for line in lines if "validation" in line]
    assert [v["epoch"] for v in validations] == [1, 2]
    assert validations[-1]["validation"]["retrieval"]["images"] == 10
    for name in ("epoch_1.pt", "epoch_2.pt", "latest.pt"):
        checkpoint = torch.load(two_epochs / "checkpoints" / name, weights_only=True)
        assert {"epoch", "name", "state_dict", "optimizer", "scaler"} <= checkpoint.keys()
    assert torch.load(two_epochs / "checkpoints" / "latest.pt", weights_only=True)["epoch"] == 2
    # latest.pt is the last epoch's file under a second name, not a second copy
    assert (two_epochs / "checkpoints" / "latest.pt").samefile(two_epochs / "checkpoints" / "epoch_2.pt")
    assert not list((two_epochs / "checkpoints").glob(".*"))  # no temporary left behind


@pytest.mark.slow
def test_resume_continues_exactly(sample_shards, two_epochs, tmp_path):
    # a run that stopped after its first epoch left epoch_1.pt behind; resuming from it must give the
    # very run that was not interrupted
    out = tmp_path / "resumed"
    finetune(TrainOptions(shards=sample_shards, out=out, epochs=2, resume=two_epochs / "checkpoints" / "epoch_1.pt", **TINY))
    straight = torch.load(two_epochs / "checkpoints" / "latest.pt", weights_only=True)
    resumed = torch.load(out / "checkpoints" / "latest.pt", weights_only=True)
    assert resumed["epoch"] == 2
    for key, value in straight["state_dict"].items():
        torch.testing.assert_close(resumed["state_dict"][key], value, rtol=1e-5, atol=1e-6, msg=key)
    second_epoch = lambda run: [
        line["loss"] for line in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if line.get("epoch") == 2 and "step" in line
    ]
    assert second_epoch(out) and second_epoch(out) == pytest.approx(second_epoch(two_epochs), rel=1e-5)


def test_the_checkpoint_loads_in_stock_open_clip_with_the_same_embeddings(sample_shards, two_epochs):
    checkpoint = two_epochs / "checkpoints" / "latest.pt"
    open_clip.add_model_config(MODEL_CONFIGS / "tiny-clip.json")
    stock, _, preprocess = open_clip.create_model_and_transforms("tiny-clip", pretrained=str(checkpoint))
    fresh, _, _ = open_clip.create_model_and_transforms("tiny-clip")
    trained = open_clip.create_model("tiny-clip")
    trained.load_state_dict(torch.load(checkpoint, weights_only=True)["state_dict"])
    image = preprocess(Image.new("RGB", (40, 30), (200, 30, 30))).unsqueeze(0)
    text = open_clip.get_tokenizer("tiny-clip")(["a man riding a horse"])
    with torch.no_grad():
        embeddings = [(m.eval().encode_image(image), m.eval().encode_text(text)) for m in (stock, trained, fresh)]
    torch.testing.assert_close(embeddings[0], embeddings[1])
    assert not torch.allclose(embeddings[0][0], embeddings[2][0])


def test_eval_prints_and_writes_the_metrics(sample_shards, two_epochs, tmp_path):
    report_path = tmp_path / "eval.json"
    result = CliRunner().invoke(
        app, ["eval", str(sample_shards), "--checkpoint", str(two_epochs / "checkpoints" / "latest.pt"), "--out", str(report_path)]
    )
    assert result.exit_code == 0, result.output
    assert "retrieval image->text R@5" in result.output
    report = json.loads(report_path.read_text())
    assert report["split"] == "test"
    assert report["retrieval"]["images"] == 10 and report["retrieval"]["captions"] == 50
    for direction in ("image_to_text", "text_to_image"):
        assert 0 <= report["retrieval"][direction]["R@1"] <= report["retrieval"][direction]["R@5"] <= 1


def test_finetune_offline_stops_at_once_naming_the_ways_out(sample_shards, tmp_path, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", unreachable)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    result = CliRunner().invoke(app, ["finetune", str(sample_shards), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "--pretrained PATH" in lines[0] and "--pretrained none" in lines[0]
    assert not (tmp_path / "run").exists()


def test_finetune_rejects_drive_without_partners(sample_shards, tmp_path):
    result = CliRunner().invoke(
        app, ["finetune", str(sample_shards), "--model", "tiny-clip", "--pretrained", "none", "--partners", "0", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--partners" in result.output


def test_resume_with_a_changed_option_stops_naming_it(sample_shards, two_epochs):
    checkpoint = two_epochs / "checkpoints" / "epoch_1.pt"
    before = (two_epochs / "config.json").read_text()
    result = CliRunner().invoke(app, ["finetune", str(sample_shards), "--resume", str(checkpoint), "--lr", "5e-4", "--loss", "clip"])
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "--lr 0.0005 (the run has 0.0001)" in message and "--loss clip (the run has drive)" in message
    assert "--batch-size" not in message  # not given: the run's own
    assert (two_epochs / "config.json").read_text() == before


@pytest.mark.slow
def test_resume_with_more_epochs_keeps_the_runs_options(sample_shards, two_epochs, tmp_path):
    run = tmp_path / "run"
    finetune(TrainOptions(shards=sample_shards, out=run, epochs=1, validate=False, **TINY))
    result = CliRunner().invoke(
        app, ["finetune", str(sample_shards), "--resume", str(run / "checkpoints" / "latest.pt"), "--epochs", "2"]
    )
    assert result.exit_code == 0, result.output
    assert f"run written to {run}" in " ".join(result.output.split())
    config = json.loads((run / "config.json").read_text())
    assert config["epochs"] == 2 and config["model"] == "tiny-clip" and config["lr"] == TINY["lr"]
    assert torch.load(run / "checkpoints" / "latest.pt", weights_only=True)["epoch"] == 2
    fewer = CliRunner().invoke(app, ["finetune", str(sample_shards), "--resume", str(run / "checkpoints" / "latest.pt"), "--epochs", "1"])
    assert fewer.exit_code == 2 and "already trained 2 epochs" in fewer.output


@pytest.mark.slow
def test_eval_finds_a_config_json_model_from_the_run(sample_shards, tmp_path):
    config = tmp_path / "configs" / "my-tiny.json"
    config.parent.mkdir()
    config.write_text((MODEL_CONFIGS / "tiny-clip.json").read_text())
    run = tmp_path / "run"
    finetune(TrainOptions(shards=sample_shards, out=run, epochs=1, validate=False, **{**TINY, "model": str(config)}))
    # a new process, which has not registered the config as training did, in another folder
    result = subprocess.run(
        [sys.executable, "-m", "relaug", "eval", str(sample_shards), "--checkpoint", str(run / "checkpoints" / "latest.pt")],
        cwd=tmp_path / "configs", capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    assert f"model: {config}" in " ".join(result.stderr.split())
    assert json.loads((run / "eval_test.json").read_text())["retrieval"]["images"] == 10
