"""The package's imports run one way, down the pipeline: no stage imports a later one.

Read from the source (every import, those inside functions too), so a lazy import
cannot hide a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import relaug

PACKAGE = Path(relaug.__file__).parent

# Lowest first. A module imports from its own layer or from those below, never above.
LAYERS = (
    # what every stage stands on: the records passing between stages, errors, option
    # choices, the lexicon of nouns and verbs, worker processes, progress reporting
    ("relaug", "relaug.errors", "relaug.choices", "relaug.records", "relaug.nouns", "relaug.verbs",
     "relaug.minilm", "relaug.workers", "relaug.ray_pool", "relaug.progress", "relaug.options", "relaug.files", "relaug.reasons"),
    ("relaug.coco", "relaug.collection", "relaug.synthetic"),  # sources
    ("relaug.mining",),
    ("relaug.caption_parser",),  # tunes the parser the miner reads, on captions as the miner parses them
    ("relaug.grounding", "relaug.images"),
    ("relaug.negatives",),
    ("relaug.shards", "relaug.staging"),
    ("relaug.mine", "relaug.build"),  # the jobs: source -> mining -> negatives (-> shards)
    ("relaug.splits", "relaug.models"),  # a build read back; CLIP models
    # scores: relaug's own splits, the field's benchmarks; which words of a caption make its score
    ("relaug.evaluate", "relaug.benchmarks", "relaug.explain"),
    ("relaug.train",),
    ("relaug.cli", "relaug.__main__"),
)  # fmt: skip


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    """The layer of a module: that of the longest listed name it is or lies under."""
    matches = [
        (len(name), i) for i, names in enumerate(LAYERS) for name in names if module == name or module.startswith(name + ".")
    ]
    # "relaug" itself only names the package's __init__: a module under it must be listed
    matches = [m for m in matches if m[0] > len("relaug") or module == "relaug"]
    assert matches, f"{module} is in no layer: add it to LAYERS"
    return max(matches)[1]


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(n for n in names if n == "relaug" or n.startswith("relaug."))
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_imports_only_from_its_layer_or_below():
    upward = [
        f"{module} imports {imported}"
        for module, imported_modules in graph().items()
        for imported in imported_modules
        if layer_of(imported) > layer_of(module)
    ]
    assert not upward


def test_no_import_cycle():
    modules = graph()
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module in done:
            return
        for imported in modules.get(module, ()):
            if imported != "relaug":  # the package's __init__ imports nothing of it
                visit(imported, (*path, module))
        done.add(module)

    for module in modules:
        visit(module, ())


def test_the_check_catches_a_stage_importing_a_later_one():
    assert layer_of("relaug.shards") > layer_of("relaug.negatives.candidates")
    assert layer_of("relaug.train.trainer") > layer_of("relaug.evaluate") > layer_of("relaug.splits")
    assert layer_of("relaug.records") < layer_of("relaug.coco")
