"""Write the bundled COCO sample (examples/coco-sample) as the collections `relaug build` reads.

    python examples/collections/write.py

- `coco-sample.parquet`: one row per caption (id, caption, image: the path under
  examples/coco-sample), as a table of image paths;
- `coco-sample.csv`: the same rows without images, for a text-only build;
- `webdataset/coco-sample-000000.tar`: one sample per image, its JPEG bytes and a
  .json with its captions (`caption`, a list) and COCO id (`id`).

The outputs are committed; run this again only when the sample changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import webdataset

from relaug.build import SAMPLE_ROOT
from relaug.coco import image_path, read_coco

HERE = Path(__file__).resolve().parent


def main() -> None:
    images = read_coco(SAMPLE_ROOT).images
    rows = [
        {"id": image.image_id, "caption": c.caption, "image": f"{image.folder}/{image.file_name}"}
        for image in images
        for c in image.captions
    ]
    table = pa.Table.from_pylist(rows)
    pq.write_table(table, HERE / "coco-sample.parquet")
    pyarrow.csv.write_csv(table.drop_columns(["image"]), HERE / "coco-sample.csv")
    (HERE / "webdataset").mkdir(exist_ok=True)
    with webdataset.TarWriter(str(HERE / "webdataset" / "coco-sample-000000.tar")) as tar:
        for image in images:
            tar.write({
                "__key__": f"{image.image_id:012d}",
                "jpg": image_path(SAMPLE_ROOT, image).read_bytes(),
                "json": json.dumps({"id": image.image_id, "caption": [c.caption for c in image.captions]}).encode(),
            })  # fmt: skip


if __name__ == "__main__":
    main()
