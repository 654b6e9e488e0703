#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""contrib/schema/portwarden.schema.json against portwarden check.

Usage: schema_check.py PORTWARDEN SCHEMA TOP

Prints TAP-like "ok - " / "not ok - " lines (tests/schema.sh runs it):

- the schema is a valid draft 2020-12 schema;
- every policy of policies/, tests/golden/, fuzz/corpus/ and tests/bad/
  that portwarden check accepts validates, and every structural error
  check reports (unknown key, wrong type, bad enum value, missing
  version, ...) has a schema error on the same line;
- the fixtures in tests/schema/ (YAML merge keys, x- keys, interface
  lists) validate, and tests/schema/bad-*.yaml do not;
- the keys are in step: with every identifier-like string of src/*.c as
  a key in each kind of mapping (top level, defaults, rule, listener),
  the keys check does not call unknown are exactly the schema's, and the
  same for the built-in port names.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import jsonschema
import yaml

PORTWARDEN, SCHEMA, TOP = sys.argv[1:4]
failed = 0


def ok(name):
    print('ok - %s' % name)


def not_ok(name, why=''):
    global failed
    failed += 1
    print('not ok - %s%s' % (name, ': ' + why if why else ''))


def check(name, cond, why=''):
    if cond:
        ok(name)
    else:
        not_ok(name, why)


with open(SCHEMA, encoding='utf-8') as f:
    schema = json.load(f)
try:
    jsonschema.Draft202012Validator.check_schema(schema)
    ok('the schema is a valid draft 2020-12 schema')
except jsonschema.SchemaError as e:
    not_ok('the schema is a valid draft 2020-12 schema', str(e).splitlines()[0])
    sys.exit(1)
validator = jsonschema.Draft202012Validator(schema)


def run_check(path):
    """(exit code, [(line, message)]) of portwarden check PATH."""
    p = subprocess.run([PORTWARDEN, 'check', path], capture_output=True,
                       text=True, errors='replace', timeout=60)
    errs = []
    for line in p.stderr.splitlines() + p.stdout.splitlines():
        m = re.match(r'^.*?:(\d+):(\d+): error: (.*)$', line)
        if m:
            errs.append((int(m.group(1)), m.group(3)))
    return p.returncode, errs


# Errors about the shape of the document rather than its meaning: the
# schema must report each of these on the same line. Not a quoted "yes":
# editors read YAML 1.2, where a plain yes is the string "yes", so the
# schema takes those words as strings too and leaves quotes to check.
STRUCTURAL = re.compile(
    r"unknown key '|expected true or false, got '|must be a mapping|must be a list"
    r"|expected .*, got (a mapping|a list|a scalar|null|an empty list)"
    r"|^unknown (action|protocol|listener protocol|family|icmp mode|port name) "
    r"|missing 'portwarden: 1'|unsupported schema version"
    r"|'portwarden' must be the schema version|the top level must be a mapping"
    r"|^empty policy|a listener needs a 'port'|is another name for 'port'"
    r"|applies to outbound rules only|^bad table name")

MAX_NODES = 200000


def expanded_size(node, memo):
    """Number of nodes after expanding aliases (billion laughs guard)."""
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = 1  # cycles count once
    n = 1
    if isinstance(node, yaml.SequenceNode):
        n += sum(expanded_size(c, memo) for c in node.value)
    elif isinstance(node, yaml.MappingNode):
        n += sum(expanded_size(k, memo) + expanded_size(v, memo)
                 for k, v in node.value)
    memo[id(node)] = min(n, MAX_NODES + 1)
    return memo[id(node)]


def node_at(root, path):
    """The composed node at a JSON path (the nearest one we can find)."""
    node = root
    for key in path:
        nxt = None
        if isinstance(node, yaml.SequenceNode) and isinstance(key, int) \
                and key < len(node.value):
            nxt = node.value[key]
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(key):
                    nxt = v
        if nxt is None:
            break
        node = nxt
    return node


def span(node):
    last = node.end_mark.line + (0 if node.end_mark.column == 0 else 1)
    return set(range(node.start_mark.line + 1, max(last, node.start_mark.line + 1) + 1))


def schema_error_lines(root, err):
    node = node_at(root, list(err.absolute_path))
    if err.validator == 'additionalProperties' and isinstance(node, yaml.MappingNode):
        allowed = err.schema.get('properties', {})
        pats = list(err.schema.get('patternProperties', {}))
        lines = set()
        for k, _ in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value not in allowed and \
                    not any(re.search(p, k.value) for p in pats):
                lines.add(k.start_mark.line + 1)
        return lines
    if node is root:
        return {node.start_mark.line + 1}
    return span(node)


def load(path):
    """(data, composed root) or raises."""
    with open(path, 'rb') as f:
        text = f.read().decode('utf-8')
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None and expanded_size(root, {}) > MAX_NODES:
        raise ValueError('more than %d nodes after expanding aliases' % MAX_NODES)
    return yaml.safe_load(text), root


def validate_file(path):
    """(errors, set of lines with a schema error) or (None, reason)."""
    try:
        data, root = load(path)
    except (yaml.YAMLError, UnicodeDecodeError, ValueError, RecursionError) as e:
        return None, str(e).splitlines()[0]
    errors = list(validator.iter_errors(data))
    lines = set()
    for e in errors:
        lines |= schema_error_lines(root, e) if root is not None else {1}
    return errors, lines


# ---- the corpus ---------------------------------------------------------
groups = [
    ('policies/', sorted(glob.glob(os.path.join(TOP, 'policies', '*.yaml')))),
    ('tests/golden/', sorted(glob.glob(os.path.join(TOP, 'tests', 'golden', '*.yaml')))),
    ('fuzz/corpus/', sorted(glob.glob(os.path.join(TOP, 'fuzz', 'corpus', '*')))),
    ('tests/bad/', sorted(glob.glob(os.path.join(TOP, 'tests', 'bad', '*.yaml')))),
]
for label, files in groups:
    accepted = rejected = structural = 0
    problems = []
    for path in files:
        name = os.path.relpath(path, TOP)
        rc, cerrs = run_check(path)
        errors, lines = validate_file(path)
        if rc == 0:
            accepted += 1
            if errors is None:
                problems.append('%s: check accepts it, the schema cannot load it (%s)' % (name, lines))
            elif errors:
                e = errors[0]
                problems.append('%s: check accepts it, the schema says at %s: %s' % (
                    name, '/'.join(str(p) for p in e.absolute_path) or '(top)', e.message[:120]))
            continue
        rejected += 1
        want = sorted({ln for ln, msg in cerrs if STRUCTURAL.search(msg)})
        structural += len(want)
        if errors is None:
            continue  # not YAML a validator could read: rejected too
        missed = [ln for ln in want if ln not in lines]
        if missed:
            msgs = [msg for ln, msg in cerrs if ln in missed]
            problems.append('%s: no schema error on line(s) %s (%s)' % (
                name, ','.join(map(str, missed)), '; '.join(msgs)[:200]))
    check('%s: %d accepted by check validate, %d structural errors of %d rejected files found by the schema'
          % (label, accepted, structural, rejected),
          files and not problems, ' | '.join(problems) if files else 'no files')

# ---- fixtures -------------------------------------------------------------
fixtures = sorted(glob.glob(os.path.join(TOP, 'tests', 'schema', '*.yaml')))
good = [f for f in fixtures if not os.path.basename(f).startswith('bad-')]
bad = [f for f in fixtures if os.path.basename(f).startswith('bad-')]
problems = []
for path in good:
    errors, why = validate_file(path)
    if errors is None or errors:
        problems.append('%s: %s' % (os.path.basename(path),
                                    why if errors is None else errors[0].message[:120]))
check('tests/schema/: %d fixtures (merge keys, x- keys, interface lists) validate' % len(good),
      good and not problems, ' | '.join(problems))
problems = []
for path in bad:
    errors, _ = validate_file(path)
    if not errors:
        problems.append(os.path.basename(path))
    # Each line marked "# schema error" must carry an error.
    errors, lines = validate_file(path)
    with open(path, encoding='utf-8') as f:
        marked = [i for i, ln in enumerate(f, 1) if '# schema error' in ln]
    missed = [m for m in marked if errors is None or m not in lines]
    if missed:
        problems.append('%s: no error on line(s) %s' % (os.path.basename(path), missed))
check('tests/schema/: %d bad-*.yaml fixtures fail on each marked line' % len(bad),
      bad and not problems, ' | '.join(problems))

# ---- keys in step with the checker -------------------------------------
candidates = set()
for src in glob.glob(os.path.join(TOP, 'src', '*.c')):
    with open(src, encoding='utf-8', errors='replace') as f:
        for lit in re.findall(r'"((?:[^"\\\n]|\\.)*)"', f.read()):
            if re.fullmatch(r'[A-Za-z_][A-Za-z0-9_-]{0,40}', lit):
                candidates.add(lit)
defs = schema['$defs']
contexts = {
    'the policy': (schema, lambda keys: 'portwarden: 1\n' + ''.join(
        '"%s": ~\n' % k for k in keys if k != 'portwarden')),
    'defaults': (schema['properties']['defaults'], lambda keys: 'portwarden: 1\ndefaults:\n' + ''.join(
        '  "%s": ~\n' % k for k in keys)),
    'a rule': (defs['rule'], lambda keys: 'portwarden: 1\noutbound:\n  - ' + '    '.join(
        '"%s": ~\n' % k for k in keys)),
    'a listener': (defs['listener'], lambda keys: 'portwarden: 1\nlisteners:\n  - ' + '    '.join(
        '"%s": ~\n' % k for k in keys)),
    'a test': (defs['test'], lambda keys: 'portwarden: 1\ntests:\n  - ' + '    '.join(
        '"%s": ~\n' % k for k in keys)),
}
tmp = tempfile.mkdtemp()
try:
    for where, (sub, make) in contexts.items():
        props = set(sub.get('properties', {}))
        pats = list(sub.get('patternProperties', {}))
        keys = sorted(candidates | props | {'x-extension'})
        path = os.path.join(tmp, 'keys.yaml')
        with open(path, 'w', encoding='utf-8') as f:
            f.write(make(keys))
        os.chmod(path, 0o600)
        _, cerrs = run_check(path)
        unknown = set()
        for _, msg in cerrs:
            m = re.match(r"unknown key '([^']*)' in (.*?)( \(|;|$)", msg)
            if m and m.group(2) == where:
                unknown.add(m.group(1))
        known = set(keys) - unknown
        in_schema = {k for k in known if k in props or any(re.search(p, k) for p in pats)}
        check('%s: every key check accepts is in the schema (%d keys)' % (where, len(known)),
              len(unknown) > 0 and known == in_schema,
              'check accepts, schema lacks: %s' % sorted(known - in_schema))
        check('%s: every key of the schema is one check accepts' % where,
              not (props - known), 'schema has, check calls unknown: %s' % sorted(props - known))

    # Port names: each candidate as one element of a port list, one a line.
    names = set(defs['port']['anyOf'][2]['enum'])
    cands = sorted(c for c in candidates | names if not c[0].isdigit())
    path = os.path.join(tmp, 'ports.yaml')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('portwarden: 1\noutbound:\n  - proto: tcp\n    port:\n')
        f.writelines('      - "%s"\n' % c for c in cands)
    os.chmod(path, 0o600)
    _, cerrs = run_check(path)
    bad_lines = {ln for ln, _ in cerrs}
    known = {c for i, c in enumerate(cands) if i + 5 not in bad_lines}
    check('port names: every name check accepts is in the schema (%d names)' % len(known),
          len(known) < len(cands) and known <= names,
          'check accepts, schema lacks: %s' % sorted(known - names))
    check('port names: every name of the schema is one check accepts',
          names <= known, 'schema has, check rejects: %s' % sorted(names - known))
finally:
    for f in glob.glob(os.path.join(tmp, '*')):
        os.unlink(f)
    os.rmdir(tmp)
sys.exit(1 if failed else 0)
