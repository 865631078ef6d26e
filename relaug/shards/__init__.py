"""The published shards: `schema` (the `datasets.Features`, declared once, and the rows records
become), `write` (the Parquet writer), `card` (statistics, dataset card, manifest) and `read`
(a build read back)."""
