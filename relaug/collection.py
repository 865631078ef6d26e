"""Read an image-text collection other than COCO: a Parquet or CSV table, or WebDataset tar shards.

A table has one caption per row: a caption column, an optional id column (rows
sharing an id are captions of one image) and an image column holding, per row,
a path relative to the images root, the image's bytes, or a struct with `bytes`
and `path` (as `datasets` writes an Image column). A WebDataset sample is one
image (`.jpg`, `.jpeg`, `.png` or `.webp`) with its caption in `.txt` or in a
`.json` field, keyed by `__key__`. Tables are read with `pyarrow.dataset`, tars
with `webdataset`; records that cannot be used are counted by reason, and a file
that cannot be read at all is an InputError naming it.

Images given as bytes are written once into `images_dir` (the build's staging
folder), so that the rest of the build reads every image from a file, as it
does COCO's. With `text_only`, images are not read: the build mines and pairs
the captions alone.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import PIL.Image
import pyarrow as pa
import pyarrow.csv
import pyarrow.dataset as pads

from relaug.choices import SourceFormat
from relaug.coco import CocoImage, CocoSource
from relaug.errors import InputError
from relaug.files import written_whole
from relaug.options import CollectionOptions
from relaug.reasons import MAX_CAPTION_CHARS, Skip
from relaug.records import Caption, Split

IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp")
TABLE_SUFFIXES = {SourceFormat.PARQUET: (".parquet",), SourceFormat.CSV: (".csv", ".tsv")}


@dataclass(frozen=True)
class _Record:
    key: str  # the image's id as the source gives it
    numeric_id: int | None  # the id where the source gives an integer
    caption: object
    image: object  # a path string, bytes, a {bytes, path} dict, or None
    split: object


def split_of_key(key: str) -> Split:
    """A collection's split where it names none: a hash of the image's id gives about 90%
    train, 5% validation and 5% test, the same for an image in any subset, on any machine."""
    bucket = hashlib.sha256(key.encode()).digest()[0]
    return "test" if bucket < 13 else "validation" if bucket < 26 else "train"


def image_id_of(key: str) -> int:
    """A stable non-negative int64 for a string id (the schema's image_id): 63 bits of its sha256."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") >> 1


def files_of(path: Path, source: SourceFormat, out: Path | None = None) -> list[Path]:
    """The files a collection path names: itself, or its folder's files of the format, sorted;
    none under `out`, the build's own folder (its shards are Parquet too)."""
    suffixes = (".tar",) if source == SourceFormat.WEBDATASET else TABLE_SUFFIXES[source]
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(f"{path}: no such file or directory")
    inside_out = (lambda p: p.resolve().is_relative_to(out.resolve())) if out is not None else (lambda p: False)
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes and not inside_out(p))
    if not files:
        raise InputError(f"{path}: holds no {' or '.join(suffixes)} file to read as --source {source}")
    return files


def input_stamps(files: list[Path]) -> dict[str, str]:
    """Size and modification time of every input file: a resumed build must read the same inputs.
    Not hashed: a collection's tars hold its images, hundreds of gigabytes."""
    stamps = {}
    for path in files:
        stat = path.stat()
        stamps[path.name if len(files) == 1 else str(path)] = f"{stat.st_size} bytes, mtime_ns {stat.st_mtime_ns}"
    return stamps


def _table_records(files: list[Path], options: CollectionOptions) -> Iterator[_Record]:
    columns = [options.caption_column]
    if not options.text_only:
        columns.append(options.image_column)
    for name in (options.id_column, options.split_column):
        if name is not None:
            columns.append(name)
    row = 0
    for path in files:
        fmt = "parquet" if options.source == SourceFormat.PARQUET else pads.CsvFileFormat(
            parse_options=pyarrow.csv.ParseOptions(delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        )
        try:
            table = pads.dataset(path, format=fmt)
            missing = [c for c in columns if c not in table.schema.names]
            if missing:
                raise InputError(
                    f"{path}: no column {', '.join(map(repr, missing))}; its columns are "
                    f"{', '.join(table.schema.names)} (choose with --caption-column, --image-column, --id-column, "
                    "--split-column; --text-only reads no image)"
                )
            batches = table.to_batches(columns=columns)
            for batch in batches:
                values = {c: batch.column(c).to_pylist() for c in columns}
                ids = batch.column(options.id_column) if options.id_column else None
                numeric = ids is not None and pa.types.is_integer(ids.type)
                for i in range(batch.num_rows):
                    if options.id_column is None:
                        key, numeric_id = str(row), row
                    else:
                        value = values[options.id_column][i]
                        key, numeric_id = str(value), value if numeric else None
                    yield _Record(
                        key=key,
                        numeric_id=numeric_id,
                        caption=values[options.caption_column][i],
                        image=None if options.text_only else values[options.image_column][i],
                        split=values[options.split_column][i] if options.split_column else None,
                    )
                    row += 1
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as e:
            raise InputError(f"{path}: cannot read it as a {options.source} table: {e}") from e


def _webdataset_records(files: list[Path], options: CollectionOptions) -> Iterator[_Record]:
    import webdataset

    for path in files:
        try:
            for sample in webdataset.WebDataset(str(path), shardshuffle=False, empty_check=False):
                meta = _json_fields(sample.get("json"))
                captions = sample["txt"].decode("utf-8", "replace") if "txt" in sample else meta.get(options.caption_column)
                key, numeric_id = sample["__key__"], None
                if options.id_column and options.id_column in meta:
                    value = meta[options.id_column]
                    key = str(value)
                    numeric_id = value if isinstance(value, int) and not isinstance(value, bool) else None
                image = None
                if not options.text_only:
                    extension = next((e for e in IMAGE_EXTENSIONS if e in sample), None)
                    image = sample[extension] if extension else None
                split = meta.get(options.split_column) if options.split_column else None
                # a .json field may hold the image's several captions, as COCO has five
                for caption in captions if isinstance(captions, list) else [captions]:
                    yield _Record(key=key, numeric_id=numeric_id, caption=caption, image=image, split=split)
        except (OSError, ValueError, KeyError, tarfile.TarError) as e:  # a tar cut short or not a tar
            raise InputError(f"{path}: cannot read it as WebDataset tar shards: {e}") from e


def _json_fields(data: bytes | None) -> dict:
    """A WebDataset sample's .json object; empty when it has none or it is not an object."""
    try:
        fields = json.loads(data) if data is not None else {}
    except ValueError:
        return {}
    return fields if isinstance(fields, dict) else {}


class _Images:
    """Where each record's image file is, bytes written into `images_dir` once."""

    def __init__(self, root: Path, images_dir: Path):
        self.root = root
        self.images_dir = images_dir

    def located(self, image: object, image_id: int, counts: Counter) -> tuple[str, str] | None:
        """(folder, file name under it) of the image, or None with the reason counted."""
        if isinstance(image, dict):
            image = image.get("bytes") or image.get("path")
        if isinstance(image, (bytes, bytearray)):
            return self._written(bytes(image), image_id)
        if not isinstance(image, str) or not image:
            counts[Skip.NO_IMAGE] += 1
            return None
        if "://" in image:
            counts[Skip.REMOTE_IMAGE] += 1
            return None
        name = PurePosixPath(image.replace("\\", "/"))
        if name.is_absolute():
            try:
                name = PurePosixPath(Path(image).relative_to(self.root).as_posix())
            except ValueError:
                counts[Skip.OUTSIDE_IMAGES_ROOT] += 1
                return None
        if ".." in name.parts:
            counts[Skip.OUTSIDE_IMAGES_ROOT] += 1
            return None
        return str(self.root), name.as_posix()

    def _written(self, data: bytes, image_id: int) -> tuple[str, str]:
        try:
            extension = (PIL.Image.open(io.BytesIO(data)).format or "bin").lower()
        except Exception:  # noqa: BLE001 - not an image: the image check counts it
            extension = "bin"
        path = self.images_dir / f"{image_id}.{extension}"
        if not (path.is_file() and path.stat().st_size == len(data)):
            self.images_dir.mkdir(parents=True, exist_ok=True)
            with written_whole(path, "wb") as f:
                f.write(data)
        return str(self.images_dir), path.name


def read_collection(options: CollectionOptions, files: list[Path], images_dir: Path) -> CocoSource:
    """Every captioned image of a collection, in the order the source first names each,
    with its split; what cannot be used counted by reason. An image's file is `folder` /
    `file_name` (`collection_image_path`): the images root's, or one written into `images_dir`.
    With `text_only` there is none, and `file_name` is the image's id. `files` are the
    collection's, as `files_of` finds them.
    """
    path = Path(options.path)
    root = Path(options.images_root or (path if path.is_dir() else path.parent)).resolve()
    records = (_webdataset_records if options.source == SourceFormat.WEBDATASET else _table_records)(files, options)
    images = _Images(root, images_dir)
    source = CocoSource(images=[])
    captions: dict[int, list[Caption]] = defaultdict(list)
    first: dict[int, tuple[tuple[str, str], Split]] = {}  # image id -> ((folder, file name), split)
    refused: set[int] = set()  # images whose file cannot be used: counted once, their captions dropped
    numbered = 0
    for record in records:
        caption = record.caption
        if not isinstance(caption, str):
            source.skipped_captions[Skip.CAPTION_NOT_TEXT] += 1
            continue
        if not caption.strip():
            source.skipped_captions[Skip.CAPTION_EMPTY] += 1
            continue
        if len(caption) > MAX_CAPTION_CHARS:
            source.skipped_captions[Skip.CAPTION_TOO_LONG] += 1
            continue
        image_id = record.numeric_id if record.numeric_id is not None else image_id_of(record.key)
        if image_id < 0:
            source.skipped_captions[Skip.CAPTION_IDS] += 1
            continue
        if image_id in refused:
            continue
        if image_id not in first:
            if record.split is None:
                split = split_of_key(record.key)
            elif str(record.split) in ("train", "validation", "test"):
                split = str(record.split)
            else:
                source.skipped_captions[Skip.SPLIT_UNKNOWN] += 1
                continue
            located = ("", record.key)
            if not options.text_only:
                located = images.located(record.image, image_id, source.skipped_images)
                if located is None:
                    refused.add(image_id)
                    continue
            first[image_id] = (located, split)
        captions[image_id].append(Caption(numbered, image_id, caption))
        numbered += 1
    for image_id, ((folder, file_name), split) in first.items():
        source.images.append(
            CocoImage(
                image_id=image_id,
                file_name=file_name,
                folder=folder,
                split=split,
                captions=tuple(captions[image_id]),
                instances=(),
            )
        )
    return source


def collection_image_path(image: CocoImage) -> Path:
    """The file of an image `read_collection` gave, whose path it checked."""
    return Path(image.folder, image.file_name)
