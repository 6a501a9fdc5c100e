#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# report.py - turn the guest's serial log into results.
#
# The guest prints its TAP through /dev/kmsg with a prefix (--prefix), so
# the serial log interleaves the TAP and the kernel's own messages in the
# order they happened.  This script takes the TAP back out into
# results.ktap, parses it with the kernel's own KTAP parser
# (tools/testing/kunit/kunit_parser.py), attributes every kernel splat to
# the test that was running, and writes a per-test log, a JUnit XML file and
# a summary table that ends in "N passed, N failed, N skipped".
#
# results.json is the machine-readable result: the tested tree
# ("git describe --dirty"), the base, the guest kernel, pmem, each test with
# its status and splats, and the run's problems.  summary.txt is derived
# from it for people; scripts read results.json ("report.py --failed DIR"
# prints the failed tests, one "NAME CAUSE" per line; --failed-alone only
# those whose own result failed them, not only a kernel splat).
#
# Fail closed: a guest that was expected to have pmem (--expect-pmem 1) and
# did not report both namespaces fails the run, even if every DAX test
# skipped.
#
# Exit status: 0 when every planned test passed or skipped and the log is
# clean, 1 otherwise.
import argparse
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

# What counts as a kernel splat.  Each is a failure of the running test.
# arm64 prints "Unable to handle kernel ..." and "Internal error: ..." for
# an oops, and "Call trace:" after each of these, which is not counted again.
SPLAT = re.compile(r'(WARNING:|BUG:|Oops|general protection fault|kernel BUG at|'
		   r'Unable to handle kernel|Internal error:|detected hard LOCKUP|'
		   r'Kernel panic|KASAN:|UBSAN:|possible circular locking|'
		   r'possible recursive locking|inconsistent lock state|'
		   r'suspicious RCU usage|refcount_t:|INFO: task .* blocked|'
		   r'rcu: INFO: .* detected stall|kmemleak: .* new suspected memory leaks)')
TEST_START = re.compile(r'^# selftests: kvm-dax: (\S+)$')
TEST_RESULT = re.compile(r'^(ok|not ok) \d+ selftests: kvm-dax: (\S+)(.*)$')


# The one line of a guest whose pmem set-up worked (scripts/guest-init).
PMEM_OK = 'pmem: fsdax=/mnt/dax devdax=/dev/dax1.0'
# The line of a guest that had the third region (x86) and could not make it
# a devdax namespace at 1G alignment.
PMEM_1G_FAILED = 'pmem: devdax1g set-up failed'


def parse_args():
	p = argparse.ArgumentParser(description='Turn the guest serial log into results.')
	p.add_argument('--failed', metavar='DIR',
		       help="only print the failed tests of DIR/results.json, one 'NAME CAUSE' per line")
	p.add_argument('--failed-alone', metavar='DIR',
		       help="like --failed, but only the tests that failed by themselves (fail, timeout, "
		       "crash), not only through a kernel splat printed while they ran")
	p.add_argument('--prefix', help="the prefix of the guest's own lines (TAP_PREFIX in lib.sh)")
	p.add_argument('--results', help='results directory (serial.log in it)')
	p.add_argument('--tree', help='kernel tree, for tools/testing/kunit')
	p.add_argument('--planned', help="the kselftest-list.txt the guest ran")
	p.add_argument('--skiplist', help="the skiplist.txt packed beside the plan (NAME<TAB>REASON)")
	p.add_argument('--vm-status', type=int, default=0, help="vm.sh's exit code")
	p.add_argument('--base', default='unknown', help='base version, for the header')
	p.add_argument('--describe', default='unknown',
		       help="'git describe --dirty' of the tested tree, for the header")
	p.add_argument('--expect-pmem', type=int, default=1,
		       help='1: fail unless the guest set up both pmem namespaces')
	a = p.parse_args()
	if not a.failed and not a.failed_alone:
		for need in ('prefix', 'results', 'tree', 'planned', 'skiplist'):
			if getattr(a, need) is None:
				p.error('--%s is required' % need)
	return a


def read_skiplist(path):
	"""The skip-list as initramfs.sh packed it: "name<TAB>reason" lines."""
	skips = {}
	for line in open(path):
		if line.strip():
			name, reason = line.rstrip('\n').split('\t', 1)
			skips[name] = reason
	return skips


class Entry:
	def __init__(self, name):
		self.name = name
		self.status = 'not run'		# pass, fail, skip, timeout, crash, not run
		self.detail = ''
		self.log = []
		self.splats = []


def scan(serial, entries, prefix):
	"""Split the serial log into per-test logs and KTAP lines."""
	ktap, current, state = [], None, {'done': False, 'pmem': '', 'kernel': ''}
	for raw in serial:
		line = raw.rstrip('\n')
		at = line.find(prefix)
		if at >= 0:
			tap = line[at + len(prefix):]
			if tap.startswith('status='):
				state['done'] = tap == 'status=done'
				continue
			if tap.startswith('pmem: '):
				state['pmem'] += tap + '\n'
				continue
			if tap.startswith('kernel: '):
				state['kernel'] = tap[len('kernel: '):]
				continue
			ktap.append(tap)
			m = TEST_START.match(tap)
			if m and m.group(1) in entries:
				current = entries[m.group(1)]
				current.status = 'crash'
			if current:
				current.log.append(tap)
			m = TEST_RESULT.match(tap)
			if m and current and m.group(2) == current.name:
				current = None
			continue
		if current:
			current.log.append(line)
		if SPLAT.search(line):
			where = current.name if current else '(outside any test)'
			state.setdefault('splats', []).append((where, line.strip()))
			if current:
				current.splats.append(line.strip())
	return ktap, state


def import_kunit_parser(tree):
	"""The kernel's KTAP parser, from TREE; exit with a clear error if the
	tree does not have the interface this script was written against
	(Linux 6.12: parse_run_tests(), TestStatus, kunit_printer.Printer)."""
	kunit = os.path.join(tree, 'tools/testing/kunit')
	sys.path.insert(0, kunit)
	try:
		import kunit_parser
		import kunit_printer
		need = [kunit_parser.parse_run_tests, kunit_parser.TestStatus.SUCCESS,
			kunit_parser.TestStatus.SKIPPED, kunit_parser.TestStatus.FAILURE,
			kunit_printer.Printer, kunit_parser.stdout]
	except (ImportError, AttributeError) as e:
		sys.exit('report.py: error: cannot use the KTAP parser in %s (%s); '
			 'it was written against Linux 6.12\'s kunit_parser.py: pass a 6.12 tree with --tree '
			 'or adapt import_kunit_parser()' % (kunit, e))
	del need
	return kunit_parser, kunit_printer


def apply_ktap(ktap, entries, tree, results):
	"""Read each test's result with the kernel's KTAP parser."""
	kunit_parser, kunit_printer = import_kunit_parser(tree)
	with open(os.path.join(results, 'kunit-parse.log'), 'w') as out:
		# kunit_parser prints through its module-level "stdout" Printer;
		# send that to a log instead of our summary.
		kunit_parser.stdout = kunit_printer.Printer(out)
		top = kunit_parser.parse_run_tests(ktap)
	status = {kunit_parser.TestStatus.SUCCESS: 'pass',
		  kunit_parser.TestStatus.SKIPPED: 'skip',
		  kunit_parser.TestStatus.FAILURE: 'fail'}
	for t in top.subtests:
		name = t.name.rsplit(': ', 1)[-1]
		e = entries.get(name)
		if not e:
			continue
		e.status = status.get(t.status, 'crash')
	# kunit_parser folds "# TIMEOUT" into a failure; keep it apart.
	for line in ktap:
		m = TEST_RESULT.match(line)
		if m and m.group(2) in entries and '# TIMEOUT' in m.group(3):
			entries[m.group(2)].status = 'timeout'


def junit(entries, skips, path):
	suite = ET.Element('testsuite', name='kvm-dax')
	counts = {'tests': 0, 'failures': 0, 'skipped': 0}
	for e in entries.values():
		tc = ET.SubElement(suite, 'testcase', classname='kvm-dax', name=e.name)
		counts['tests'] += 1
		if e.status == 'skip':
			ET.SubElement(tc, 'skipped')
			counts['skipped'] += 1
		elif e.status != 'pass' or e.splats:
			f = ET.SubElement(tc, 'failure', message=e.detail or e.status)
			f.text = '\n'.join(e.splats)
			counts['failures'] += 1
		ET.SubElement(tc, 'system-out').text = '\n'.join(e.log)
	for name, reason in skips.items():
		tc = ET.SubElement(suite, 'testcase', classname='kvm-dax', name=name)
		ET.SubElement(tc, 'skipped', message='skip-list: ' + reason)
		counts['tests'] += 1
		counts['skipped'] += 1
	for k, v in counts.items():
		suite.set(k, str(v))
	ET.ElementTree(suite).write(path, encoding='unicode', xml_declaration=True)


def print_failed(results, alone=False):
	"""Print 'NAME CAUSE' for each failed test of RESULTS/results.json; with
	ALONE, only for those whose own status is a failure."""
	try:
		with open(os.path.join(results, 'results.json')) as f:
			r = json.load(f)
	except (OSError, ValueError) as e:
		sys.exit('report.py: error: no results in %s (%s); see its serial.log' % (results, e))
	for t in r['tests']:
		if t['result'] == 'fail' and (not alone or t['status'] in ('fail', 'timeout', 'crash')):
			print(t['name'], t['cause'] if not alone else t['status'])
	return 0


def main():
	a = parse_args()
	if a.failed:
		return print_failed(a.failed)
	if a.failed_alone:
		return print_failed(a.failed_alone, alone=True)
	serial_path = os.path.join(a.results, 'serial.log')
	planned = [l.split(':', 1)[1].strip() for l in open(a.planned) if ':' in l]
	entries = {n: Entry(n) for n in planned}
	skips = read_skiplist(a.skiplist)
	try:
		serial = open(serial_path, errors='replace').readlines()
	except FileNotFoundError:
		serial = []
	ktap, state = scan(serial, entries, a.prefix)
	with open(os.path.join(a.results, 'results.ktap'), 'w') as f:
		f.write('\n'.join(ktap) + '\n')
	if ktap:
		apply_ktap(ktap, entries, a.tree, a.results)

	# Problems of the run; those that no test's result shows (pmem, a
	# splat or a death outside any test) count as one failure each.
	problems, extra = [], 0
	running = [e for e in entries.values() if e.status == 'crash']
	if not state['done']:
		what = 'panicked' if any('Kernel panic' in s for _, s in state.get('splats', [])) else \
			'hung (the watchdog stopped it)' if a.vm_status == 124 else \
			'was interrupted (Ctrl-C)' if a.vm_status == 130 else \
			'stopped (QEMU exit %d)' % a.vm_status
		during = running[0].name if running else ('boot' if not ktap else 'set-up')
		problems.append('the guest %s during %s' % (what, during))
		for e in running:
			e.detail = 'guest %s during this test' % what
		extra += not running
	if a.expect_pmem and PMEM_OK not in state['pmem'].splitlines():
		problems.append('the plan expects pmem but the guest %s; the DAX tests did not run on it'
				% ('said: ' + '; '.join(state['pmem'].splitlines())
				   if state['pmem'] else 'reported no pmem set-up'))
		extra += 1
	elif a.expect_pmem and PMEM_1G_FAILED in state['pmem'].splitlines():
		problems.append('the guest could not set up the devdax namespace at 1G alignment; '
				'the tests of 1G mappings did not run on it')
		extra += 1
	for where, s in state.get('splats', []):
		if where not in entries:
			problems.append('kernel splat %s: %s' % (where, s))
			extra += 1

	os.makedirs(os.path.join(a.results, 'tests'), exist_ok=True)
	for e in entries.values():
		with open(os.path.join(a.results, 'tests', e.name + '.log'), 'w') as f:
			f.write('\n'.join(e.log) + '\n')
	junit(entries, skips, os.path.join(a.results, 'junit.xml'))

	passed = sum(e.status == 'pass' and not e.splats for e in entries.values())
	skipped = sum(e.status == 'skip' and not e.splats for e in entries.values())
	failed = len(entries) - passed - skipped + extra
	results = {
		'tree': a.describe, 'base': a.base, 'kernel': state['kernel'] or 'unknown',
		'pmem': state['pmem'].strip(), 'done': state['done'], 'vm_status': a.vm_status,
		'tests': [{'name': e.name,
			   'result': 'fail' if e.splats or e.status not in ('pass', 'skip') else e.status,
			   'status': e.status,
			   'cause': ('kernel splat: ' + e.splats[0]) if e.splats else (e.detail or e.status),
			   'splats': e.splats} for e in entries.values()]
		+ [{'name': n.rsplit('/', 1)[-1], 'result': 'skip', 'status': 'skip',
		    'cause': 'skip-list: ' + r, 'splats': []} for n, r in skips.items()],
		'problems': problems,
		'passed': passed, 'failed': failed, 'skipped': skipped + len(skips),
	}
	with open(os.path.join(a.results, 'results.json'), 'w') as f:
		json.dump(results, f, indent=1)
		f.write('\n')

	lines = ['kvm-dax results: tree %s, base %s, kernel %s' % (a.describe, a.base, state['kernel'] or 'unknown')]
	if state['pmem']:
		lines.append(state['pmem'].strip())
	lines.append('%-44s %s' % ('TEST', 'RESULT'))
	for e in entries.values():
		res = e.status.upper()
		if e.splats:
			res = 'FAIL (%s, kernel splat: %s)' % (e.status, e.splats[0])
		elif e.detail:
			res += ' (' + e.detail + ')'
		lines.append('%-44s %s' % (e.name, res))
	for name, reason in skips.items():
		lines.append('%-44s %s' % (name.rsplit('/', 1)[-1], 'SKIP (skip-list: %s)' % reason))
	lines += ['error: ' + p for p in problems]
	lines.append('%d passed, %d failed, %d skipped' % (passed, failed, skipped + len(skips)))
	text = '\n'.join(lines) + '\n'
	open(os.path.join(a.results, 'summary.txt'), 'w').write(text)
	sys.stdout.write(text)
	for p in problems:
		print('report.py: error: ' + p, file=sys.stderr)
	return 0 if failed == 0 and not problems else 1


if __name__ == '__main__':
	sys.exit(main())
