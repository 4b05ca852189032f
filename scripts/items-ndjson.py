#!/usr/bin/env python3
"""Builds data/demo/items.ndjson (one item per line, with its scenarios and flow) from the
demo CSVs items.csv, scenarios.csv and flows.csv, for POST /v1/imports/items. Run it again
after editing those CSVs: python3 scripts/items-ndjson.py > data/demo/items.ndjson"""
import csv, json, os, sys
from collections import defaultdict

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'demo')
def rows(name):
    with open(os.path.join(here, name), newline='', encoding='utf-8-sig') as f:
        return list(csv.DictReader(f))

scen = defaultdict(list)
for s in rows('scenarios.csv'):
    scen[s['item_code']].append({
        'seq': int(s['seq']), 'title': s['title'], 'responsible_section': s['responsible_section'],
        'contact_phone': s['contact_phone'], 'steps': [x for x in s['steps'].split('|') if x],
        'standard': s['standard'], 'resolve_limit_days': int(s['resolve_limit_days'])})
nodes, edges = defaultdict(list), defaultdict(list)
for n in rows('flows.csv'):
    nodes[n['item_code']].append({'id': n['node_id'], 'label': n['label'], 'actor': n['actor']})
    for nxt in filter(None, n['next_node_ids'].split('|')):
        edges[n['item_code']].append({'from': n['node_id'], 'to': nxt})
for it in rows('items.csv'):
    doc = dict(it)
    doc['cooperating_department_codes'] = [x for x in it['cooperating_department_codes'].split('|') if x]
    doc['resolve_limit_days'] = int(it['resolve_limit_days'])
    for k in ('lead_department_code', 'legal_basis', 'description', 'township_duty'):
        if doc[k] == '':
            doc[k] = None
    doc['scenarios'] = sorted(scen[it['code']], key=lambda s: s['seq'])
    doc['flow'] = {'nodes': nodes[it['code']], 'edges': edges[it['code']]} if nodes[it['code']] else None
    sys.stdout.write(json.dumps(doc, ensure_ascii=False) + '\n')
