#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Let ansible-test sanity run on Debian's packages, without PyPI.

ansible-test runs each sanity test in a virtual environment under
~/.ansible/test/venv/sanity.NAME/PYVER/HASH, into which it pip-installs
pinned requirements. Without network access that fails, leaving the
directory without its marker.txt. This replaces each such directory with a
venv that sees the system's site-packages (Debian's pylint, pycodestyle,
yamllint, voluptuous, PyYAML, Jinja2) and marks it complete, so the next
ansible-test run uses it. Prints the directories it seeded.
"""
import os
import pathlib
import shutil
import subprocess

root = pathlib.Path(os.path.expanduser('~/.ansible/test/venv'))
for d in sorted(root.glob('*/*/*')):
    if not d.is_dir() or (d / 'marker.txt').exists():
        continue
    # /usr/bin's interpreter: its venv sees /usr/lib/python3/dist-packages.
    python = '/usr/bin/python' + d.parent.name
    shutil.rmtree(d)
    subprocess.run([python, '-m', 'venv', '--system-site-packages',
                    '--without-pip', str(d)], check=True)
    (d / 'meta.install.json').write_text('[]\n')
    (d / 'meta.yaml.json').write_text('true\n')
    (d / 'marker.txt').write_text('')
    print(d)
