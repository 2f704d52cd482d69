#!/usr/bin/env python3
"""Counts public declarations without a /// doc comment, per target (or lists them with -v).

    python3 tools/undocumented_public.py [-v] Sources/Engine Sources/Datasets ...

A declaration is a line whose modifiers include `public` or `open` (extensions excluded);
it counts as documented when the line above it (attributes skipped) is a `///` comment."""
import re, sys, os
DECL = re.compile(r'^\s*(?:@[\w()".,: ]+\s+)*(?:(?:nonisolated|final|static|class|override|mutating|indirect|convenience|required|@discardableResult|@inlinable)\s+)*(?:public|open)(?:\(set\))?\s+(?!extension\b)(?:(?:nonisolated|final|static|class|override|mutating|indirect|convenience|required|private\(set\)|internal\(set\))\s+)*(func|var|let|init|struct|enum|class|protocol|typealias|subscript|actor|case|static|init\?)\b')
def documented(lines, i):
    j = i - 1
    while j >= 0 and (lines[j].strip().startswith('@') ):
        j -= 1
    if j < 0: return False
    t = lines[j].strip()
    return t.startswith('///') or t.endswith('*/')
verbose = '-v' in sys.argv
targets = [a for a in sys.argv[1:] if a != '-v']
total_all = undoc_all = 0
for t in targets:
    total = undoc = 0
    for root, _, files in os.walk(t):
        for f in sorted(files):
            if not f.endswith('.swift'): continue
            p = os.path.join(root, f)
            lines = open(p).read().split('\n')
            for i, l in enumerate(lines):
                if DECL.match(l):
                    total += 1
                    if not documented(lines, i):
                        undoc += 1
                        if verbose: print(f'{p}:{i+1}: {l.strip()[:110]}')
    total_all += total; undoc_all += undoc
    print(f'{t}: {undoc} of {total} public declarations undocumented')
print(f'all: {undoc_all} of {total_all}')
