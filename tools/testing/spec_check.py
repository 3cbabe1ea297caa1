#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that every YNL spec in Documentation/netlink/specs/ and the uapi
header it names agree: each enum entry, attribute and command of the spec is
a constant of the header with the value the spec gives it (YNL numbering:
explicit 'value', else one more than the previous entry), and each
attribute set's and the command list's *_MAX is its last value (enums' only
with render-max). Compiles a small C program against the header.
Prints TAP, one line per spec section."""
import glob
import os
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def c_name(prefix, name):
    return (prefix + name).upper().replace("-", "_")


def numbered(entries, first=0):
    value = first
    for entry in entries:
        if isinstance(entry, dict):
            value = entry.get("value", value)
            name = entry["name"]
        else:
            name = entry
        yield name, value
        value += 1


def expectations(spec):
    """(section, C constant, value) triples the header must satisfy."""
    family = spec["name"]
    for enum in spec.get("definitions", []):
        if enum.get("type") not in ("enum", "flags"):
            continue
        prefix = enum.get("name-prefix", "%s-%s-" % (family, enum["name"]))
        last = None
        for name, value in numbered(enum["entries"], enum.get("value-start", 0)):
            yield "enum " + enum["name"], c_name(prefix, name), value
            last = value
        if enum.get("render-max"):
            yield "enum " + enum["name"], c_name(prefix, "max"), last
    for aset in spec.get("attribute-sets", []):
        prefix = aset.get("name-prefix", "%s-a-%s-" % (family, aset["name"]))
        last = None
        for name, value in numbered(aset["attributes"]):
            yield "attribute-set " + aset["name"], c_name(prefix, name), value
            last = value
        yield "attribute-set " + aset["name"], c_name(prefix, "max"), last
    ops = spec.get("operations", {})
    prefix = ops.get("name-prefix", "%s-cmd-" % family)
    last = None
    for name, value in numbered(ops.get("list", [])):
        yield "operations", c_name(prefix, name), value
        last = value
    if last is not None:
        yield "operations", c_name(prefix, "max"), last


def main():
    specs = sorted(glob.glob(os.path.join(REPO, "Documentation/netlink/specs/*.yaml")))
    n = failed = 0
    for path in specs:
        with open(path) as f:
            spec = yaml.safe_load(f)
        header = spec.get("uapi-header", "linux/%s.h" % spec["name"])
        checks = list(expectations(spec))
        program = ["#include <stdio.h>", "#include <%s>" % header, "int main(void)", "{",
                   "\tint bad = 0;"]
        for section, const, value in checks:
            program.append('\tif ((long long)(%s) != %dLL) { printf("%s|%s is %%lld, the spec says %d\\n", (long long)(%s)); bad = 1; }'
                           % (const, value, section, const, value, const))
        program += ["\treturn bad;", "}"]
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "check.c")
            exe = os.path.join(tmp, "check")
            with open(src, "w") as f:
                f.write("\n".join(program) + "\n")
            cc = subprocess.run(["cc", "-o", exe, "-I", os.path.join(REPO, "include/uapi"), src],
                                capture_output=True, text=True)
            wrong = {}
            if cc.returncode:
                for line in cc.stderr.splitlines():
                    if "undeclared" in line:
                        wrong.setdefault("compile", []).append(line.split("error: ")[-1])
                wrong.setdefault("compile", ["does not compile"])
            else:
                run = subprocess.run([exe], capture_output=True, text=True)
                for line in run.stdout.splitlines():
                    section, message = line.split("|", 1)
                    wrong.setdefault(section, []).append(message)
        sections = sorted({c[0] for c in checks})
        name = os.path.basename(path)
        if "compile" in wrong:
            n += 1
            failed += 1
            print("not ok %d - %s: constants exist in %s" % (n, name, header))
            for message in wrong["compile"][:20]:
                print("# " + message)
            continue
        for section in sections:
            n += 1
            count = sum(1 for c in checks if c[0] == section)
            if section in wrong:
                failed += 1
                print("not ok %d - %s: %s matches %s" % (n, name, section, header))
                for message in wrong[section]:
                    print("# " + message)
            else:
                print("ok %d - %s: %s matches %s (%d constants)" % (n, name, section, header, count))
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
