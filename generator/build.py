"""``piccolo-gen build``: schema files in, a generated package out (or a diff).

Everything is rendered to memory first; files are written only when the
whole build succeeded, each through a temporary file and a rename, and only
when its content changed (so unchanged files keep their mtime and tools that
watch them stay quiet).
"""

from __future__ import annotations

import difflib
import os
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from generator import GENERATED_MARKER
from generator.errors import GeneratorBug, SchemaError, SchemaErrors, display_path
from generator.fmt import format_module
from generator.load import SCHEMA_SUFFIXES, LoadedSchema, read_schema
from generator.names import MODELS_SUFFIX
from generator.resolve import ResolvedModule, resolve
from generator.validate import ValidatedBuild, validate

__all__ = [
    "SHIPPED_SCHEMAS",
    "Plan",
    "build",
    "collect_schema_files",
    "load_schemas",
    "models_module_clashes",
    "plan_output",
    "render_files",
    "validate_schemas",
]


def collect_schema_files(paths: Sequence[Path]) -> tuple[list[Path], list[SchemaError]]:
    """The schema files named by ``paths``: a folder gives its schema files, sorted.

    Folders are not searched recursively: one folder is one package of
    schemas. A file named explicitly is used whatever its extension, so that
    an unsupported one is reported rather than skipped.
    """
    files: list[Path] = []
    errors: list[SchemaError] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.suffix.lower() in SCHEMA_SUFFIXES and p.is_file()
            )
            if not found:
                patterns = ", ".join(f"*{suffix}" for suffix in SCHEMA_SUFFIXES)
                errors.append(
                    SchemaError(
                        display_path(path), None, None, "", f"no schema files ({patterns}) here"
                    )
                )
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            errors.append(SchemaError(display_path(path), None, None, "", "no such file or folder"))
    unique = list({file.resolve(): file for file in files}.values())
    return unique, errors


def load_schemas(files: Sequence[Path]) -> tuple[list[ResolvedModule], list[SchemaError]]:
    """The front end, ``files`` to the intermediate model: load, validate, resolve.

    Either the resolved modules (in file order) and no errors, or no modules
    and every error of the files: validation reports all the schema errors,
    so resolution runs only on a build that has none.
    """
    validated, errors = validate_schemas(files)
    if validated is None:
        return [], errors
    return resolve(validated), []


#: The schema files piccolo-gen ships, by module name: a build whose files
#: reference one of these modules (``references: auth.User``) and define no
#: module of that name gets the shipped file too.
SHIPPED_SCHEMAS: dict[str, Path] = {"auth": Path(__file__).parent / "schemas" / "auth.yaml"}


def _referenced_modules(schema: LoadedSchema) -> set[str]:
    """The first part of each dotted ``references``/``through`` of ``schema``
    that names no table of its own (``auth`` of ``auth.User``)."""
    spec = schema.spec
    names: list[str | None] = []
    for table in spec.tables.values():
        for column in table.columns.values():
            names += [column.references, column.through]
        names += [fk.references for fk in table.foreign_keys.values()]
    return {
        first
        for name in names
        if name is not None and "." in name
        for first in [name.split(".")[0]]
        if first not in spec.tables
    }


def _shipped(schemas: Sequence[LoadedSchema]) -> list[Path]:
    """The shipped schema files that ``schemas`` reference and do not replace."""
    defined = {schema.module for schema in schemas}
    wanted = set().union(*(_referenced_modules(schema) for schema in schemas))
    return [path for module, path in SHIPPED_SCHEMAS.items() if module in wanted - defined]


def validate_schemas(files: Sequence[Path]) -> tuple[ValidatedBuild | None, list[SchemaError]]:
    """Load and validate ``files`` (and the shipped schema files they reference:
    ``SHIPPED_SCHEMAS``): the validated build (whose schemas keep the positions
    of every key, for later checks), or ``None`` and every error."""
    schemas: list[LoadedSchema] = []
    errors: list[SchemaError] = []
    unreadable: list[str] = []
    for file in files:
        schema, file_errors = read_schema(file)
        errors.extend(file_errors)
        if schema is None:
            unreadable.append(file.stem)
        else:
            schemas.append(schema)
    for file in _shipped(schemas):
        schema, file_errors = read_schema(file)
        assert schema is not None and not file_errors, file_errors  # tested
        schemas.append(schema)
    validated = validate(schemas, unavailable_modules=unreadable)
    if isinstance(validated, list):
        errors.extend(validated)
    if errors:
        # A reading problem (a duplicate key, say) can leave a schema that
        # validates: the build stops at the loader's errors all the same.
        return None, sorted(set(errors), key=SchemaError.sort_key)
    # Without errors of its own, validate gives no build only for a file
    # the loader reported.
    assert isinstance(validated, ValidatedBuild)
    return validated, []


def render_files(
    modules: list[ResolvedModule], out_label: str, *, pydantic: bool = False
) -> dict[str, str]:
    """Every file of the generated package, by name: rendered, then formatted.

    ``pydantic`` adds each module's pydantic models, ``<module>_models.py``.

    Raises ``GeneratorBug`` for generated code that black or ``ast`` rejects
    (and ``build`` reports a ``SchemaErrors`` from the renderer like the
    front end's, although the front end leaves it none to find).
    """
    # Imported here so that the front-end (load, validate, resolve,
    # json-schema) does not pay for jinja2 and the templates.
    from generator.render import render_package

    files: dict[str, str] = {}
    package = render_package(modules, pydantic=True) if pydantic else render_package(modules)
    for name, source in sorted(package.items()):
        if "/" in name or "\\" in name or not name.endswith(".py"):
            raise ValueError(f"render_package returned an unexpected file name: {name!r}")
        files[name] = format_module(source, origin=f"{out_label}/{name}")
    files["py.typed"] = ""
    return files


def models_module_clashes(modules: Sequence[ResolvedModule]) -> list[SchemaError]:
    """A schema module named like another's models module (``music_models``
    beside ``music``), which ``pydantic`` would write over."""
    names = {m.module for m in modules}
    return [
        SchemaError(
            module.source,
            None,
            None,
            "module",
            f"the module {module.module!r} has the name of the pydantic models of "
            f"{module.module.removesuffix(MODELS_SUFFIX)!r}; rename it or turn pydantic off",
        )
        for module in modules
        if module.module.endswith(MODELS_SUFFIX)
        and module.module.removesuffix(MODELS_SUFFIX) in names
    ]


@dataclass
class Plan:
    """What a build would change in the output folder."""

    out: Path
    #: name -> new content, for files that are missing or differ.
    writes: dict[str, str] = field(default_factory=dict)
    #: names of generated files whose schema is gone.
    deletes: list[str] = field(default_factory=list)
    #: current content of the files in ``writes`` and ``deletes`` (None: missing).
    current: dict[str, str | None] = field(default_factory=dict)

    @property
    def up_to_date(self) -> bool:
        """Whether the output folder already equals the build."""
        return not self.writes and not self.deletes


def plan_output(out: Path, files: dict[str, str]) -> Plan:
    """Compare the rendered ``files`` with the content of ``out``."""
    plan = Plan(out)
    for name, content in files.items():
        current = _read(out / name)
        if current != content:
            plan.writes[name] = content
            plan.current[name] = current
    if out.is_dir():
        for path in sorted(out.glob("*.py")):
            if path.name not in files and _is_generated(path):
                plan.deletes.append(path.name)
                plan.current[path.name] = _read(path)
    return plan


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None


def _is_generated(path: Path) -> bool:
    """Whether ``path`` starts with the marker line, i.e. is ours to delete."""
    try:
        with path.open("rb") as stream:
            first = stream.readline()
    except OSError:
        return False
    return first.decode("utf-8", errors="replace").startswith(GENERATED_MARKER)


def _apply(plan: Plan) -> list[Path]:
    plan.out.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, content in plan.writes.items():
        _write_atomically(plan.out / name, content.encode("utf-8"))
        changed.append(plan.out / name)
    for name in plan.deletes:
        (plan.out / name).unlink(missing_ok=True)
        changed.append(plan.out / name)
    return changed


def _write_atomically(path: Path, data: bytes) -> None:
    # A temporary file in the same folder, then a rename: a reader (or an
    # interrupted build) sees the old file or the new one, never half of one.
    # os.open with 0o666 lets the umask decide the mode, as for any new file
    # (tempfile would create it 0o600).
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _diff(plan: Plan) -> str:
    label = display_path(plan.out)
    chunks: list[str] = []
    for name in sorted([*plan.writes, *plan.deletes]):
        old = plan.current.get(name)
        new = plan.writes.get(name)
        fromfile = f"a/{label}/{name}" if old is not None else "/dev/null"
        tofile = f"b/{label}/{name}" if new is not None else "/dev/null"
        lines = list(
            difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                (new or "").splitlines(keepends=True),
                fromfile=fromfile,
                tofile=tofile,
            )
        )
        # An empty file (py.typed) that is missing or extra has no lines to
        # show; its header still says that it is.
        chunks.extend(lines or [f"--- {fromfile}\n", f"+++ {tofile}\n"])
    # A file without a final newline would run into the next header.
    return "".join(
        chunk if chunk.endswith("\n") else chunk + "\n\\ No newline at end of file\n"
        for chunk in chunks
    )


def build(
    schema_paths: Sequence[Path], out: Path, *, check: bool = False, pydantic: bool = False
) -> int:
    """Run the whole pipeline and report on stdout/stderr; the exit status.

    ``pydantic`` also writes the pydantic models of every module
    (``<module>_models.py``, docs/pydantic.md).

    0: written (or, with ``check``, already up to date); 1: schema errors or
    a generator bug (nothing written) or, with ``check``, a stale output folder.
    """
    files, errors = collect_schema_files(schema_paths)
    modules, load_errors = load_schemas(files)
    if pydantic:
        load_errors.extend(models_module_clashes(modules))
    errors = sorted([*errors, *load_errors], key=SchemaError.sort_key)
    out_label = display_path(out)
    if not errors:
        try:
            rendered = render_files(modules, out_label, pydantic=pydantic)
        except SchemaErrors as exc:
            errors = sorted(exc.errors, key=SchemaError.sort_key)
        except GeneratorBug as exc:
            print(f"piccolo-gen: {exc}", file=sys.stderr)
            print("nothing was written", file=sys.stderr)
            return 1
    if errors:
        for error in errors:
            print(error, file=sys.stderr)
        count = len(errors)
        print(f"{count} error{'s' if count != 1 else ''}; nothing was written", file=sys.stderr)
        return 1
    if out.exists() and not out.is_dir():
        print(f"{out_label}: not a folder; nothing was written", file=sys.stderr)
        return 1
    plan = plan_output(out, rendered)
    if check:
        if plan.up_to_date:
            print(f"{out_label}/ is up to date")
            return 0
        sys.stdout.write(_diff(plan))
        stale = len(plan.writes) + len(plan.deletes)
        print(
            f"{out_label}/ is out of date ({stale} file{'s' if stale != 1 else ''}); run `piccolo-gen build`",
            file=sys.stderr,
        )
        return 1
    changed = _apply(plan)
    for path in changed:
        verb = "deleted" if path.name in plan.deletes else "wrote"
        print(f"{verb} {display_path(path)}")
    if not changed:
        print("nothing to do")
    return 0
