#!/usr/bin/python
# SPDX-License-Identifier: GPL-2.0-or-later
"""Ansible module for portwarden: apply, remove or audit a port policy."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: portwarden
short_description: Apply, remove or audit a portwarden host firewall policy
description:
  - Runs the C(portwarden) command on the managed host to put a port policy
    into the kernel (one nftables C(inet) table, replaced atomically),
    to remove that table, or to audit the live sockets against the policy.
  - Idempotent. C(portwarden apply) compares the live table with the
    policy and sends nothing when they are equal, so C(changed) is false
    on a repeated run.
  - Supports check mode (C(apply --dry-run), nothing changes) and diff
    mode (the rules only in the live table, and the rules only in the
    policy).
  - In check mode the policy's own C(tests) run first
    (C(portwarden test --format json)); the task fails when one fails,
    naming each failing test, its line and what the policy decided.
  - Never runs a shell; every command is an argument vector.
options:
  policy:
    description:
      - Policy file(s) or conf.d directory(ies) on the managed host, merged
        in the order given.
      - When omitted, portwarden reads C(/etc/portwarden).
    type: list
    elements: path
  state:
    description:
      - C(applied) makes the live table equal to the policy.
      - C(absent) removes portwarden's table (and nothing else).
      - C(audited) runs C(portwarden audit); the task fails when the host
        does not comply, and returns the findings either way.
    type: str
    choices: [applied, absent, audited]
    default: applied
  netns:
    description:
      - Act in another network namespace, a name under C(/run/netns) or a
        path such as C(/proc/PID/ns/net).
    type: str
  table:
    description:
      - Table to remove with I(state=absent). Default is the table named
        by I(policy), else C(portwarden).
    type: str
  confirm:
    description:
      - With I(state=applied), apply with C(--confirm SECONDS), so that
        portwarden restores the previous table after that many seconds
        unless confirmed. The module confirms (C(portwarden confirm)) once
        the apply succeeded and the live table equals the policy. If
        anything goes wrong in between, portwarden's detached timer on the
        host rolls back by itself, even if the Ansible connection is gone.
    type: int
  force:
    description:
      - Pass C(--force) to apply, overriding the lock-out guard that
        refuses a policy blocking live established inbound connections.
    type: bool
    default: false
  binary:
    description:
      - Path or name of the portwarden executable on the managed host.
    type: str
    default: portwarden
  deployed:
    description:
      - A directory on the managed host where the module keeps a copy of
        the policy files of the last successful I(state=applied) run.
      - In diff mode, the module runs C(portwarden compare) on that copy
        (old) and I(policy) (new) and shows one line per region of
        traffic whose verdict changes, such as
        C(opens in tcp/22 from 0.0.0.0/0 not on lo); the result's
        C(compare) holds the same lines.
      - An empty string keeps no copy and compares nothing.
    type: str
    default: /var/lib/portwarden/deployed
requirements:
  - portwarden on the managed host, run as root (become)
author:
  - portwarden maintainers (!UNKNOWN)
'''

EXAMPLES = r'''
- name: Outbound HTTPS and DNS only
  portwarden.portwarden.portwarden:
    policy: /etc/portwarden
  become: true

- name: Apply with a 60 second safety net
  portwarden.portwarden.portwarden:
    policy:
      - /etc/portwarden/base.yaml
      - /etc/portwarden/web.yaml
    confirm: 60

- name: Audit, and fail on unexpected listeners
  portwarden.portwarden.portwarden:
    policy: /etc/portwarden
    state: audited
  register: audit

- name: Remove the table
  portwarden.portwarden.portwarden:
    state: absent
'''

RETURN = r'''
changed:
  description: Whether the table was (or in check mode, would be) changed.
  type: bool
  returned: always
table:
  description: The nftables table acted on.
  type: str
  returned: when state is applied or absent
added:
  description: Rules and set elements in the policy but not in the live
    table (nft syntax), before this run.
  type: list
  elements: str
  returned: when state is applied
removed:
  description: Rules and set elements in the live table but not in the
    policy (nft syntax), before this run.
  type: list
  elements: str
  returned: when state is applied
compliant:
  description: Whether the audit found nothing.
  type: bool
  returned: when state is audited
findings:
  description: The audit findings, as in portwarden audit --format json.
  type: list
  elements: dict
  returned: when state is audited
sockets:
  description: Number of sockets audited.
  type: int
  returned: when state is audited
compare:
  description: In diff mode with I(state=applied), what C(portwarden
    compare) says of the deployed copy (old) and the policy (new).
    C(equal) is null when there is no deployed copy yet.
  type: dict
  returned: when state is applied, in diff mode
  sample: {"equal": false, "changes": ["opens in tcp/22 from 0.0.0.0/0 not on lo"]}
tests:
  description: The policy's tests and their results, as in portwarden test
    --format json (status pass, fail or error; verdict; rule; message).
  type: list
  elements: dict
  returned: in check mode with state applied
commands:
  description: Every portwarden command the module ran, with its exit code.
  type: list
  elements: dict
  returned: always
  sample: [{"cmd": ["/usr/sbin/portwarden", "apply", "/etc/portwarden", "--format", "json"], "rc": 0}]
'''

import json
import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

EXIT_FINDINGS = 1
EXIT_LOCKOUT = 4
EXIT_NAMES = {
    1: 'findings or differences',
    2: 'invalid policy or usage',
    3: 'runtime failure',
    4: 'refused by the lock-out guard (use force to override)',
}


class Portwarden(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        binary = self.params['binary']
        if os.sep in binary:
            if not os.access(binary, os.X_OK):
                module.fail_json(msg='%s is not executable' % binary)
            self.binary = binary
        else:
            self.binary = module.get_bin_path(binary, required=True,
                                              opt_dirs=['/usr/local/sbin',
                                                        '/usr/sbin'])
        self.commands = []

    def policies(self):
        return list(self.params['policy'] or [])

    def netns(self):
        ns = self.params['netns']
        return ['--netns', ns] if ns else []

    def run(self, args):
        argv = [self.binary] + args
        rc, out, err = self.module.run_command(argv)
        self.commands.append({'cmd': argv, 'rc': rc})
        return rc, out, err

    def fail(self, what, rc, out, err, **extra):
        msg = '%s failed (exit %d: %s)' % (what, rc,
                                           EXIT_NAMES.get(rc, 'unexpected'))
        detail = (err or '').strip() or (out or '').strip()
        if detail:
            msg += ': ' + detail
        self.module.fail_json(msg=msg, rc=rc, stdout=out, stderr=err,
                              commands=self.commands, **extra)

    def parse_json(self, what, rc, out, err):
        try:
            return json.loads(out)
        except ValueError:
            self.fail(what + ' printed no JSON', rc, out, err)

    def table_of_policy(self):
        """The table name the policy compiles to, from `compile`."""
        rc, out, err = self.run(['compile'] + self.policies())
        if rc != 0:
            self.fail('portwarden compile', rc, out, err)
        m = re.search(r'^\s*table\s+inet\s+(\S+)', out, re.M)
        if not m:
            self.module.fail_json(msg='portwarden compile printed no table',
                                  stdout=out, commands=self.commands)
        return m.group(1)

    @staticmethod
    def diff_text(lines):
        return ''.join('%s\n' % line for line in lines)

    def applied(self):
        p = self.params
        args = ['apply'] + self.policies() + ['--format', 'json'] + \
            self.netns()
        if p['force']:
            args.append('--force')
        check = self.module.check_mode
        tests = self.policy_tests() if check else None
        if check:
            args.append('--dry-run')
        elif p['confirm'] is not None:
            if p['confirm'] < 1:
                self.module.fail_json(msg='confirm must be at least 1 second')
            args += ['--confirm', str(p['confirm'])]
        rc, out, err = self.run(args)
        if rc != 0:
            self.fail('portwarden apply', rc, out, err)
        res = self.parse_json('portwarden apply', rc, out, err)
        changed = bool(res.get('changed'))
        added = res.get('added') or []
        removed = res.get('removed') or []
        table = res.get('table')
        if not check and p['confirm'] is not None:
            self.confirm(table)
        result = dict(changed=changed, table=table, added=added,
                      removed=removed, commands=self.commands)
        if tests is not None:
            result['tests'] = tests
        if self.module._diff:
            result['diff'] = dict(
                before_header='live table inet %s (rules only here)' % table,
                after_header='policy (rules only here)',
                before=self.diff_text(removed),
                after=self.diff_text(added))
            result['compare'], text = self.semantic_diff()
            result['diff'] = [result['diff'], dict(
                before_header='deployed policy', after_header='policy',
                prepared='portwarden compare (deployed -> policy):\n' + text)]
        if not check:
            self.save_deployed()
        self.warn_from(err)
        return result

    # ---- the semantic diff (portwarden compare) ----

    def policy_files(self):
        """The policy's YAML files in merge order."""
        files = []
        for path in self.policies() or ['/etc/portwarden']:
            if os.path.isdir(path):
                files += [os.path.join(path, n) for n in
                          sorted(os.listdir(path), key=lambda n: n.encode())
                          if n.endswith(('.yaml', '.yml'))]
            else:
                files.append(path)
        return files

    def copy_policy(self, dest):
        """Copy the policy files into directory @dest, named so that the
        directory merges in the same order."""
        for i, f in enumerate(self.policy_files()):
            shutil.copyfile(f, os.path.join(dest, '%04d-%s' % (
                i, os.path.basename(f))))

    def semantic_diff(self):
        """compare's summary lines: deployed copy (old) vs policy (new)."""
        deployed = self.params['deployed']
        if not deployed or not os.path.isdir(deployed) or \
                not os.listdir(deployed):
            return dict(equal=None, changes=[]), \
                '(no deployed copy of the policy to compare with yet)\n'
        pol = self.policies()
        tmp = None
        if len(pol) == 1:
            new = pol[0]
        else:
            tmp = tempfile.mkdtemp(prefix='portwarden-candidate.')
            self.copy_policy(tmp)
            new = tmp
        try:
            rc, out, err = self.run(['compare', deployed, new, '--format',
                                     'json'])
        finally:
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
        if rc not in (0, EXIT_FINDINGS):
            self.fail('portwarden compare', rc, out, err)
        res = self.parse_json('portwarden compare', rc, out, err)
        lines = [c.get('summary', '') for c in res.get('changes') or []]
        text = ''.join('%s\n' % line for line in lines) or \
            '(every packet gets the same verdict)\n'
        return dict(equal=bool(res.get('equal')), changes=lines), text

    def save_deployed(self):
        """After a successful apply: the policy becomes the deployed copy."""
        deployed = self.params['deployed']
        if not deployed:
            return
        parent = os.path.dirname(deployed.rstrip('/')) or '/'
        try:
            if not os.path.isdir(parent):
                os.makedirs(parent, 0o755)
            fresh = tempfile.mkdtemp(prefix='.deployed.', dir=parent)
            self.copy_policy(fresh)
            old = deployed.rstrip('/') + '.old'
            if os.path.isdir(deployed):
                shutil.rmtree(old, ignore_errors=True)
                os.rename(deployed, old)
            os.rename(fresh, deployed)
            shutil.rmtree(old, ignore_errors=True)
        except (IOError, OSError) as e:
            self.module.warn('cannot keep a copy of the policy in %s: %s'
                             % (deployed, e))

    def policy_tests(self):
        """Check mode: the policy's tests (SPEC §10); fail naming each one
        that does not pass."""
        rc, out, err = self.run(['test'] + self.policies() +
                                ['--format', 'json'])
        try:
            res = json.loads(out)
        except ValueError:
            res = None
        if not isinstance(res, dict) or 'tests' not in res:
            self.fail('portwarden test', rc, out, err)
        tests = res.get('tests') or []
        bad = [t for t in tests if t.get('status') != 'pass']
        if rc != 0 or bad:
            self.module.fail_json(
                msg='%d of %d policy tests do not pass: %s' % (
                    len(bad), len(tests), '; '.join(
                        '%s:%s:%s: %s: %s' % (t.get('file'), t.get('line'),
                                              t.get('column'), t.get('packet'),
                                              t.get('message'))
                        for t in bad)),
                rc=rc, tests=tests, commands=self.commands)
        return tests

    def warn_from(self, err):
        for line in (err or '').splitlines():
            if 'warning:' in line:
                self.module.warn(line.strip())

    def confirm(self, table):
        # The apply succeeded; keep it only when the live table really is
        # the policy. Otherwise leave the timer armed: it rolls back.
        rc, out, err = self.run(['diff'] + self.policies() +
                                ['--format', 'json'] + self.netns())
        if rc != 0:
            self.fail('portwarden diff after apply --confirm (not confirmed, '
                      'the previous table comes back when the timer fires)',
                      rc, out, err, table=table)
        rc, out, err = self.run(['confirm'] + self.netns())
        if rc != 0:
            self.fail('portwarden confirm', rc, out, err, table=table)

    def table_exists(self, table):
        # Text, not JSON: it is also the "before" of diff mode.
        rc, out, err = self.run(['status', '--table', table] + self.netns())
        if rc == 0:
            return True, out
        text = (err + out).lower()
        if rc == EXIT_FINDINGS or 'no such' in text or 'not found' in text \
                or 'does not exist' in text or 'no table' in text:
            return False, ''
        self.fail('portwarden status', rc, out, err)

    def absent(self):
        table = self.params['table']
        if not table:
            table = self.table_of_policy() if self.params['policy'] \
                else 'portwarden'
        exists, before = self.table_exists(table)
        result = dict(changed=exists, table=table, commands=self.commands)
        if exists and not self.module.check_mode:
            rc, out, err = self.run(['flush', '--table', table] +
                                    self.netns())
            if rc != 0:
                self.fail('portwarden flush', rc, out, err, table=table)
        if self.module._diff:
            result['diff'] = dict(before_header='table inet %s' % table,
                                  after_header='(no table)',
                                  before=before if exists else '',
                                  after='')
        return result

    def audited(self):
        rc, out, err = self.run(['audit'] + self.policies() +
                                ['--format', 'json'] + self.netns())
        if rc not in (0, EXIT_FINDINGS):
            self.fail('portwarden audit', rc, out, err)
        res = self.parse_json('portwarden audit', rc, out, err)
        findings = res.get('findings') or []
        compliant = bool(res.get('compliant')) and rc == 0
        result = dict(changed=False, compliant=compliant, findings=findings,
                      sockets=res.get('sockets'), commands=self.commands)
        if not compliant:
            kinds = {}
            for f in findings:
                kinds[f.get('kind')] = kinds.get(f.get('kind'), 0) + 1
            summary = ', '.join('%d %s' % (n, k)
                                for k, n in sorted(kinds.items()))
            result['msg'] = 'host does not comply with the policy: %s' % \
                (summary or 'audit reported findings')
            self.module.fail_json(**result)
        return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            policy=dict(type='list', elements='path'),
            state=dict(type='str', default='applied',
                       choices=['applied', 'absent', 'audited']),
            netns=dict(type='str'),
            table=dict(type='str'),
            confirm=dict(type='int'),
            force=dict(type='bool', default=False),
            binary=dict(type='str', default='portwarden'),
            deployed=dict(type='str', default='/var/lib/portwarden/deployed'),
        ),
        supports_check_mode=True,
    )
    # table_exists() recognises "no such table" in English only.
    module.run_command_environ_update = dict(LANG='C', LC_ALL='C')
    pw = Portwarden(module)
    state = module.params['state']
    if state == 'applied':
        result = pw.applied()
    elif state == 'absent':
        result = pw.absent()
    else:
        result = pw.audited()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
