"""report.json against reports/schema/report.v<N>.schema.json (python3-jsonschema)."""
import json
import pathlib

SCHEMA_DIR = pathlib.Path(__file__).resolve().parent.parent.parent / "reports" / "schema"


def schema_for(version):
    path = SCHEMA_DIR / f"report.v{version}.schema.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def problems(report):
    """Every way `report` (parsed JSON) breaks its schema, as 'path: message' strings."""
    import jsonschema  # imported here so --help works without it

    if not isinstance(report, dict):
        return ["top level: must be a JSON object"]
    version = report.get("schema_version")
    schema = schema_for(version) if isinstance(version, int) else None
    if schema is None:
        return [f"schema_version: {version!r} has no schema in {SCHEMA_DIR}"]
    validator = jsonschema.Draft7Validator(schema)
    out = []
    for err in sorted(validator.iter_errors(report), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in err.absolute_path) or "top level"
        out.append(f"{where}: {err.message}")
    return out
