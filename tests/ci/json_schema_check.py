#!/usr/bin/env python3
"""Checks JSON documents against hawser's JSON Schema with the `jsonschema` package.

Usage: json_schema_check.py SCHEMA [--valid FILE...] [--invalid FILE...]
Every --valid document must pass and every --invalid one must fail; one line per document
(PASS or FAIL, with the first error), then "N passed, M failed"; exit 1 on any failure.
The schema itself is checked against its metaschema first.
"""
import json
import sys

import jsonschema


def main(argv):
    schema_path, rest = argv[0], argv[1:]
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    expect, passed, failed = None, 0, 0
    for arg in rest:
        if arg in ("--valid", "--invalid"):
            expect = arg == "--valid"
            continue
        with open(arg, encoding="utf-8") as f:
            doc = json.load(f)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        ok = not errors if expect else bool(errors)
        if ok:
            passed += 1
            note = f"rejected: {errors[0].message[:160]} at {list(errors[0].absolute_path)}" if errors else "accepted"
            print(f"PASS {arg}: {note}")
        else:
            failed += 1
            note = f"{errors[0].message[:300]} at {list(errors[0].absolute_path)}" if errors else "accepted, but it is broken"
            print(f"FAIL {arg}: {note}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
