#!/usr/bin/env python3
"""Prints the import circles between the top-level modules of src/ (crate::X references,
unit-test modules left out); "cycles: []" when there are none. Run from the repository root."""
import re,glob,os,sys
g={};why={}
tops=set(os.path.basename(p).removesuffix('.rs') for p in glob.glob('src/*'))
for f in glob.glob('src/**/*.rs',recursive=True):
    rel=os.path.relpath(f,'src'); top=rel.split('/')[0].removesuffix('.rs')
    if top in ('lib','main'): continue
    s=open(f).read()
    s=re.sub(r'#\[cfg\(test\)\]\s*mod tests\s*\{.*','',s,flags=re.S)
    refs=set(re.findall(r'crate::(\w+)',s))
    for m in re.finditer(r'crate::\{([^}]*)\}',s):
        refs|=set(re.findall(r'(?:^|,)\s*(\w+)',m.group(1)))
    for o in refs:
        if o!=top and o in tops:
            g.setdefault(top,set()).add(o); why.setdefault((top,o),set()).add(rel)
idx={};low={};st=[];on=set();sccs=[];c=[0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
    for w in g.get(v,()):
        if w not in idx: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        comp=[]
        while True:
            w=st.pop();on.discard(w);comp.append(w)
            if w==v:break
        if len(comp)>1: sccs.append(comp)
for v in list(g):
    if v not in idx: sc(v)
print('cycles:',sccs)
for comp in sccs:
    for a in comp:
        for b in g.get(a,()):
            if b in comp: print(f'  {a} -> {b}: {sorted(why[(a,b)])}')
