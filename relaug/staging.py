"""Where a build is written until it is complete, and how an interrupted one resumes.

A build writes into `OUT/.relaug-staging/`: first `build.json` (the options,
versions and input hashes that determine every output byte), then each shard
under a temporary name; when it is complete it is recorded in `progress.jsonl`
with the digest of its planned content, then renamed, so every file under a
final name has its record. Killed at any moment and started again
with the same options, a build reuses every recorded shard whose planned digest
is unchanged and writes the rest. Publishing moves the finished files into OUT
and writes `manifest.json` last, so a directory with a manifest is a complete
build and one without is not. What came before the shards (the mined, checked
corpus with its negatives) is kept there too, so a build stopped while writing
resumes with writing.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

from relaug.errors import InputError, unwritable_out
from relaug.files import sha256_of, written_whole
from relaug.shards.schema import ShardFile
from relaug.shards.write import PlannedShard, temporary_path

STAGING = ".relaug-staging"
OUTPUTS = ("data", "triples", "README.md")


def input_hashes(root: Path) -> dict[str, str]:
    """sha256 of every annotation file of a COCO root: a resumed build must read the same inputs.

    Image files are not hashed (18 GB for COCO); their checked sizes are part of
    each shard's planned digest instead.
    """
    annotations = root / "annotations"
    return {
        path.relative_to(root).as_posix(): sha256_of(path)
        for path in sorted(annotations.glob("*.json"))
        if path.name.startswith(("captions_", "instances_"))
    }


def _differences(old: dict, new: dict) -> str:
    changed = []
    for section in ("options", "versions", "inputs"):
        before, after = old.get(section, {}), new[section]
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                changed.append(f"{key}: {before.get(key)!r} -> {after.get(key)!r}")
    return "; ".join(changed)


def _canonical(identity: dict) -> dict:
    """The identity as JSON gives it back, so that a fresh one compares equal to a stored one."""
    return json.loads(json.dumps(identity, sort_keys=True, default=str))


class Staging:
    """The staging folder of one build into `out`, opened for a given identity.

    `identity` is `{"options", "versions", "inputs"}`. An interrupted build or a
    complete one in `out` with another identity is refused unless `overwrite`.
    """

    def __init__(self, out: Path, identity: dict, *, overwrite: bool):
        self.out = out
        self.dir = out / STAGING
        self.identity = _canonical(identity)
        previous = self._previous()
        if previous is not None and previous != self.identity and not overwrite:
            raise InputError(
                f"--out {out}: holds a build made with other options or inputs "
                f"({_differences(previous, self.identity)}); run with the same options to resume "
                "or rebuild it, or pass --overwrite to replace it"
            )
        try:
            if self.dir.exists() and previous != self.identity:
                shutil.rmtree(self.dir)
            self.dir.mkdir(parents=True, exist_ok=True)
            with written_whole(self.dir / "build.json") as f:
                f.write(json.dumps(self.identity, indent=2, sort_keys=True) + "\n")
        except OSError as e:
            raise unwritable_out(out, e) from e
        self.progress = self._progress()

    def _previous(self) -> dict | None:
        """The identity of the interrupted build in staging, else of the complete build in `out`."""
        for path in (self.dir / "build.json", self.out / "manifest.json"):
            try:
                stored = json.loads(path.read_text(encoding="utf-8"))
                return {key: stored[key] for key in ("options", "versions", "inputs")}
            except (OSError, ValueError, KeyError, TypeError):
                continue  # absent, or written by a build that predates resuming
        return None

    def _progress(self) -> dict[str, dict]:
        """Recorded shards by path. A line cut short by a kill is ignored: its shard is redone."""
        records = {}
        path = self.dir / "progress.jsonl"
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                    records[record["path"]] = record
                except (ValueError, KeyError, TypeError):
                    continue
        return records

    def finished(self, shard: PlannedShard) -> ShardFile | None:
        """The recorded file of a planned shard, if an earlier run finished it with the same content."""
        record = self.progress.get(shard.path)
        path = self.dir / shard.path
        if record is None or record["digest"] != shard.digest or not path.is_file():
            return None
        if path.stat().st_size != record["bytes"]:
            return None
        return ShardFile(
            config=shard.config,
            split=shard.split,
            path=shard.path,
            rows=record["rows"],
            bytes=record["bytes"],
            sha256=record["sha256"],
        )

    def commit(self, shard: PlannedShard, file: ShardFile) -> None:
        """Record a shard written under its temporary name, then give it its final name.

        Killed between the two, the shard has a record but no final file, and is redone.
        """
        line = {"path": file.path, "digest": shard.digest, "rows": file.rows, "bytes": file.bytes, "sha256": file.sha256}
        with (self.dir / "progress.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.progress[file.path] = line
        os.replace(temporary_path(self.dir, shard), self.dir / shard.path)

    def keep(self, name: str, value: object) -> None:
        """Store `value` for a resumed build of the same identity: pickled, synced, then renamed into place."""
        with written_whole(self.dir / name, "wb", sync=True) as f:
            pickle.dump(value, f, pickle.HIGHEST_PROTOCOL)

    def kept(self, name: str) -> object | None:
        """What `keep` stored under `name`, or None when there is none that loads."""
        try:
            with (self.dir / name).open("rb") as f:
                return pickle.load(f)
        except Exception:  # noqa: BLE001 - absent, cut short, or from another relaug: the work is redone
            return None

    def keep_only(self, plan: list[PlannedShard]) -> None:
        """Remove shard files a different plan left behind (the same options over changed images)."""
        planned = {shard.path for shard in plan}
        for name in ("data", "triples"):
            folder = self.dir / name
            if folder.is_dir():
                for path in folder.iterdir():
                    if path.relative_to(self.dir).as_posix() not in planned:
                        path.unlink()

    def publish(self) -> None:
        """Move the finished build into `out`, replacing a previous one; the manifest is written after."""
        (self.out / "manifest.json").unlink(missing_ok=True)
        for name in OUTPUTS:
            target = self.out / name
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
            if (self.dir / name).exists():
                os.replace(self.dir / name, target)

    def discard(self) -> None:
        shutil.rmtree(self.dir)
