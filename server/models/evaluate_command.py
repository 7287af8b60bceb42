"""`posecast evaluate MODEL FOLDER`: an exported classifier end to end from pixels on a folder of
class sub-folders of images (the library part is training/evaluate_folder.py). MODEL is a
registered model, `name` (its newest version) or `name/version`, looked up in the models folder
the server registers (POSECAST_MODELS_DIR), or an export folder."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from core.checks import NAME


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="run a model end to end from pixels on a folder of class sub-folders")
    p.add_argument("model", help="a registered model: NAME (newest version) or NAME/VERSION; or an export folder")
    p.add_argument("folder", type=Path, help="folder with one sub-folder of images per class")
    p.add_argument("--out", type=Path, help="where the mistakes go (default: ./evaluation/<name>-<version>)")
    p.add_argument("--per-class", type=int, help="only this many images per class (spread over subjects)")
    p.add_argument("--models-dir", type=Path, help="the models folder (default POSECAST_MODELS_DIR, tfjs_models/)")
    p.add_argument("--executor", default="tensorflow", help="the pose runtime's executor (tensorflow, openvino)")
    p.set_defaults(func=run)


def resolve(model: str, models_dir: Path) -> Path:
    """MODEL -> its export folder. An existing folder with a model.json is taken as it is;
    otherwise NAME or NAME/VERSION in the models folder. Raises ValueError saying what exists."""
    given = Path(model)
    if given.is_dir() and (given / "model.json").is_file():
        return given
    name, _, version = model.partition("/")
    if not NAME.fullmatch(name) or (version and not version.isdigit()):
        raise ValueError(f"{model!r} is neither an export folder nor NAME or NAME/VERSION")
    folder = models_dir / name
    versions = sorted(int(p.name) for p in folder.glob("*") if p.name.isdigit() and (p / "model.json").is_file())
    if not versions:
        known = sorted(p.name for p in models_dir.glob("*") if p.is_dir() and NAME.fullmatch(p.name))
        raise ValueError(f"no model {name!r} in {models_dir} (models: {', '.join(known) or 'none'})")
    if version and int(version) not in versions:
        raise ValueError(f"{name} has no version {version} (versions: {', '.join(map(str, versions))})")
    return folder / str(int(version) if version else versions[-1])


def _models_dir(args) -> Path:
    if args.models_dir:
        return args.models_dir
    from ..config import from_env, resolve as resolve_config

    return Path(resolve_config(from_env())["MODELS_DIR"])


def run(args) -> int:
    import training  # noqa: F401  (TensorFlow's environment before it loads)
    from training import contact_sheet, data, evaluate_folder, exported

    from .train_command import _bar

    try:
        if args.per_class is not None and args.per_class < 1:
            raise ValueError("--per-class must be at least 1")
        folder = resolve(args.model, _models_dir(args))
        model = exported.load(folder)
        samples = evaluate_folder.images(args.folder)
        if args.per_class:
            samples = data.take_per_class(samples, args.per_class)
        poses = evaluate_folder.Poses(model, args.executor)
    except (ValueError, OSError) as exc:  # DatasetError and ExportError are ValueErrors
        print(f"posecast evaluate: {exc}", file=sys.stderr)
        return 2
    threshold = f"rejects under {model.threshold:.2f}" if model.threshold else "no rejection threshold"
    print(f"{model.name} v{model.version} ({model.kind} features, {model.backbone}, {threshold}) on "
          f"{len(samples)} images of {len({s.label for s in samples})} classes in {args.folder}")
    results = evaluate_folder.evaluate(model, samples, poses, progress=_bar)
    summary = evaluate_folder.summary(results, model.labels)
    print(evaluate_folder.format_summary(summary))
    out = args.out or Path("evaluation") / f"{model.name}-{model.version}"
    out.mkdir(parents=True, exist_ok=True)
    n = evaluate_folder.write_csv(results, out / "mistakes.csv")
    contact_sheet.write(results, out / "contact_sheet.html",
                        title=f"{model.name} v{model.version} on {args.folder.name}: mistakes", summary=summary)
    (out / "summary.json").write_text(json.dumps({"model": str(folder), "folder": str(args.folder), **summary},
                                                 indent=2))
    print(f"\n{n} mistakes: {out / 'mistakes.csv'}, {out / 'contact_sheet.html'}; summary: {out / 'summary.json'}")
    return 0
