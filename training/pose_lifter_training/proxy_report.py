"""The proxy's tables, from its results (``proxy.json``): one writer for the script and the card.

``rows`` is ``{recipe: {half: [run, ...]}}`` as ``training/scripts/proxy.py`` writes it, each run
a dict of scores (see ``proxy.py``'s ``score``) plus ``seed`` and ``train_minutes``. Cells are
means over the seeds run (``+-`` the standard deviation when there are several).
"""

from __future__ import annotations

import numpy as np

HALF_LABELS = {"cmu": "CMU", "hdm05": "HDM05"}


def _cell(runs: list[dict], key: str, section: str | None = None, digits: int = 1) -> str:
    values = [(run.get(section, {}) if section else run).get(key) for run in runs]
    values = np.array([v for v in values if v is not None], dtype=float)
    if not len(values):
        return "-"
    if len(values) > 1:
        return f"{values.mean():.{digits}f} +- {values.std():.{digits}f}"
    return f"{values[0]:.{digits}f}"


def _seeds(halves: dict) -> int:
    return max((len(runs) for runs in halves.values()), default=0)


def poses_table(rows: dict) -> str:
    """Exact 2D, one pose at a time: N / PA / PA with 2 joints missing, both halves."""
    lines = [
        "| recipe | seeds | CMU half N | CMU half PA | CMU half PA, 2 missing | HDM05 half N "
        "| HDM05 half PA | HDM05 half PA, 2 missing | train min |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, halves in rows.items():
        cells = [
            _cell(halves.get(half, []), key)
            for half in HALF_LABELS
            for key in ("n_mpjpe_mm", "pa_mpjpe_mm", "pa_mpjpe_missing_2_mm")
        ]
        minutes = [run["train_minutes"] for runs in halves.values() for run in runs]
        lines.append(
            f"| {name} | {_seeds(halves)} | "
            + " | ".join(cells)
            + f" | {np.nanmean(minutes) if minutes else float('nan'):.1f} |"
        )
    return "\n".join(lines)


#: Columns of the sequences table: (heading, key, section, digits).
SEQUENCE_COLUMNS = (
    ("N", "n_mpjpe_mm", "sequences", 1),
    ("PA", "pa_mpjpe_mm", "sequences", 1),
    ("MPJVE", "mpjve_mm", "sequences", 1),
    ("accel", "accel_error_mm", "sequences", 1),
    ("bone CV", "bone_cv", "sequences", 3),
    ("coverage 90%", "coverage", "sequences", 2),
    ("PA, 2 missing", "pa_mpjpe_mm", "sequences_missing_2", 1),
)


def sequences_table(rows: dict, half: str) -> str:
    """One half's sequences through the node's step (25 Hz, 5 px on 350 px tall)."""
    present = {name: halves[half] for name, halves in rows.items() if halves.get(half)}
    if not present:
        return ""
    lines = [
        "| recipe | seeds | " + " | ".join(heading for heading, *_ in SEQUENCE_COLUMNS) + " |",
        "|---|---|" + "---|" * len(SEQUENCE_COLUMNS),
    ]
    for name, runs in present.items():
        cells = [_cell(runs, key, section, digits) for _, key, section, digits in SEQUENCE_COLUMNS]
        lines.append(f"| {name} | {len(runs)} | " + " | ".join(cells) + " |")
    truth = [run["sequences"]["accel_truth_mm"] for runs in present.values() for run in runs]
    if truth:
        lines.append(
            "| (the truth's own motion) | | | | | "
            f"{np.mean(truth):.1f} | 0 | | |"
        )
    return "\n".join(lines)


def per_action_table(rows: dict, half: str, recipes: list[str]) -> str:
    """PA-MPJPE per action of the left-out dataset, exact 2D (mean over seeds)."""
    present = [name for name in recipes if rows.get(name, {}).get(half)]
    if not present:
        return ""
    actions = sorted(rows[present[0]][half][0]["per_action_pa_mpjpe_mm"])
    lines = [
        "| action | " + " | ".join(present) + " |",
        "|---|" + "---|" * len(present),
    ]
    for action in actions:
        cells = [
            np.mean([run["per_action_pa_mpjpe_mm"][action] for run in rows[name][half]])
            for name in present
        ]
        lines.append(f"| {action} | " + " | ".join(f"{value:.1f}" for value in cells) + " |")
    return "\n".join(lines)


def proxy_tables(rows: dict) -> str:
    """Every table: poses, then each half's sequences."""
    parts = ["Poses, exact 2D (PA-MPJPE / N-MPJPE mm):", poses_table(rows)]
    for half, label in HALF_LABELS.items():
        table = sequences_table(rows, half)
        if table:
            parts += [
                f"Sequences, {label} half: 25 Hz, 5 px of 2D noise on a person 350 px tall, "
                "through the node's step (mm, mm/frame, mm/frame^2):",
                table,
            ]
    return "\n\n".join(parts)


#: The README's accuracy table lies between these markers (written by ``ship_models.py``).
README_BEGIN, README_END = "<!-- generated:accuracy -->", "<!-- /generated:accuracy -->"
#: The lifters the README shows, in order, with their names there.
README_ROWS = (
    ("seed", "`seed`: the report's GAN"),
    ("supervised", "`supervised`: plain L2, the files' cameras"),
    ("third_generation", "third generation (single frame, exact 2D)"),
    ("default", "**`default`** (= `mocap_only`)"),
)


def readme_table(rows: dict) -> str:
    """Build the README's table: the CMU half (chosen on), poses and sequences, the HDM05 half."""
    lines = [
        "| lifter | poses PA / N | poses PA, 2 missing | sequences N / PA | MPJVE | accel "
        "| bone CV | HDM05 half: poses PA, sequences PA |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for recipe, label in README_ROWS:
        cmu, hdm = rows.get(recipe, {}).get("cmu", []), rows.get(recipe, {}).get("hdm05", [])
        if not cmu:
            continue
        cells = [
            f"{_cell(cmu, 'pa_mpjpe_mm')} / {_cell(cmu, 'n_mpjpe_mm')}",
            _cell(cmu, "pa_mpjpe_missing_2_mm"),
            f"{_cell(cmu, 'n_mpjpe_mm', 'sequences')} / {_cell(cmu, 'pa_mpjpe_mm', 'sequences')}",
            _cell(cmu, "mpjve_mm", "sequences"),
            _cell(cmu, "accel_error_mm", "sequences"),
            _cell(cmu, "bone_cv", "sequences", 3),
            f"{_cell(hdm, 'pa_mpjpe_mm')}, {_cell(hdm, 'pa_mpjpe_mm', 'sequences')}",
        ]
        if recipe == "default":
            cells = [f"**{cell}**" if cell != "-" else cell for cell in cells]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    truth = [run["sequences"]["accel_truth_mm"] for run in rows.get("default", {}).get("cmu", [])]
    if truth:
        lines.append(f"| (the true motion) | | | | | {np.mean(truth):.1f} | 0 | |")
    return "\n".join(lines)


def with_readme_table(readme: str, rows: dict) -> str:
    """``readme`` with the text between the markers replaced by :func:`readme_table`."""
    start, end = readme.index(README_BEGIN) + len(README_BEGIN), readme.index(README_END)
    return readme[:start] + "\n" + readme_table(rows) + "\n" + readme[end:]
