#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Ask a YAML language server what an editor would underline.

Usage: lsp_diagnostics.py SERVER FILE...

Starts SERVER --stdio (yaml-language-server), opens each FILE as an
editor does, and prints one JSON object: {FILE: [[LINE, MESSAGE], ...]}
with 1-based line numbers, from the first diagnostics the server
publishes for each file. The schema comes from each file's own
"# yaml-language-server: $schema=..." modeline; nothing else is
configured. Exits 1 when the server does not answer in time.
"""
import json
import os
import select
import subprocess
import sys
import time

server, files = sys.argv[1], sys.argv[2:]
proc = subprocess.Popen([server, '--stdio'], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
buf = b''


def send(msg):
    body = json.dumps(msg).encode()
    proc.stdin.write(b'Content-Length: %d\r\n\r\n' % len(body) + body)
    proc.stdin.flush()


def recv(deadline):
    global buf
    while True:
        if b'\r\n\r\n' in buf:
            head, rest = buf.split(b'\r\n\r\n', 1)
            length = [int(h.split(b':')[1]) for h in head.split(b'\r\n')
                      if h.lower().startswith(b'content-length')][0]
            if len(rest) >= length:
                buf = rest[length:]
                return json.loads(rest[:length])
        ready, _, _ = select.select([proc.stdout], [], [], max(0, deadline - time.time()))
        if not ready:
            return None
        data = os.read(proc.stdout.fileno(), 65536)
        if not data:
            return None
        buf += data


def main():
    deadline = time.time() + 60
    send({'jsonrpc': '2.0', 'id': 1, 'method': 'initialize',
          'params': {'processId': os.getpid(), 'rootUri': None, 'capabilities': {}}})
    while True:
        m = recv(deadline)
        if m is None:
            return 1
        if m.get('id') == 1:
            break
    send({'jsonrpc': '2.0', 'method': 'initialized', 'params': {}})
    # What an editor sends by default, minus the online schema store.
    send({'jsonrpc': '2.0', 'method': 'workspace/didChangeConfiguration',
          'params': {'settings': {'yaml': {'validate': True, 'schemaStore': {'enable': False}}}}})
    uris = {}
    for f in files:
        uri = 'file://' + os.path.abspath(f)
        uris[uri] = f
        with open(f, encoding='utf-8') as fh:
            text = fh.read()
        send({'jsonrpc': '2.0', 'method': 'textDocument/didOpen',
              'params': {'textDocument': {'uri': uri, 'languageId': 'yaml',
                                          'version': 1, 'text': text}}})
    result = {}
    while len(result) < len(files):
        m = recv(deadline)
        if m is None:
            return 1
        if m.get('method') == 'textDocument/publishDiagnostics':
            f = uris.get(m['params']['uri'])
            if f is not None and f not in result:
                result[f] = [[d['range']['start']['line'] + 1, d['message']]
                             for d in m['params']['diagnostics']]
        elif 'id' in m and 'method' in m:
            send({'jsonrpc': '2.0', 'id': m['id'], 'result': None})
    print(json.dumps(result))
    return 0


try:
    rc = main()
finally:
    proc.kill()
    proc.wait()
sys.exit(rc)
