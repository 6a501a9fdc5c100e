#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench.py - the figures of "make bench", from the guests' serial logs.

Each argument is a results directory named KERNEL.ROUND (base.1,
series.1, ...) whose serial.log holds populate_perf_test's output for each
backing.  Writes OUT/bench.csv (one row per measurement), OUT/bench.txt
(the tables, also printed) and OUT/bench.png (the ratios, with gnuplot).

On arm64, whose KVM has no SPTE statistics, populate_perf_test gives the
fault time per 4K page of the memory instead of per SPTE, and no SPTE
counts: their columns read '-'.

Times are in the guest's clock: with --clock icount, QEMU's -icount
shift=0 makes a guest second 10^9 instructions executed.

Ratios between the kernels are taken pairwise: run i of round r on the
series kernel against run i of round r on the base, so that every ratio
compares two runs made close together.  The ratio reported is the median
of those, with their minimum and maximum as the spread.
"""

import argparse
import csv
import os
import re
import statistics
import subprocess
import sys

BACKINGS = ['anonymous', 'anonymous_thp', 'fsdax', 'devdax']
# The backings on which the series must cost nothing (issue: "anonymous
# memory and fsdax"); the others are reported too.
GOAL_BACKINGS = ['anonymous', 'fsdax']
GOAL_RATIO = 1.02

# Searched for anywhere in a line, after the guest's prefix (TAP_PREFIX
# in scripts/lib.sh).
RUN = r'# Run (\d+): '
PATTERNS = [
    (re.compile(RUN + r'populate memory time: ([\d.]+)s'), ['populate_s']),
    (re.compile(RUN + r'access memory time \(median of \d+ passes\): ([\d.]+)s'), ['access_s']),
    (re.compile(RUN + r'new SPTEs: (\d+) 4K, (\d+) 2M \(([\d.]+)% of the memory at 2M\)'),
     ['sptes_4k', 'sptes_2m', 'share_2m_pct']),
    (re.compile(RUN + r'the host maps ([\d.]+)% of the memory with PMDs'), ['host_pmd_pct']),
    (re.compile(RUN + r'fault time: (\d+) ns per SPTE'), ['fault_ns']),
    (re.compile(RUN + r'fault time: (\d+) ns per 4K page'), ['fault_ns']),
]
# populate_perf_test's line when KVM has no SPTE statistics (arm64).
NO_SPTES = re.compile(r'SPTE levels are not available')
BACKING = re.compile(r'# Testing memory backing src type: (\S+), (\d+) MiB')


def parse(results):
    """Rows (kernel, round, backing, run, metric, value) of one boot."""
    kernel, rnd = os.path.basename(results.rstrip('/')).split('.')
    rows, backing = [], None
    with open(os.path.join(results, 'serial.log'), errors='replace') as f:
        for line in f:
            m = BACKING.search(line)
            if m:
                backing = m.group(1)
                continue
            for pattern, metrics in PATTERNS:
                m = pattern.search(line)
                if m and backing:
                    for metric, value in zip(metrics, m.groups()[1:]):
                        rows.append((kernel, int(rnd), backing, int(m.group(1)),
                                     metric, float(value)))
    return rows


def values(rows, kernel, backing, metric):
    """{(round, run): value} of one kernel, backing and metric."""
    return {(r[1], r[3]): r[5] for r in rows
            if r[0] == kernel and r[2] == backing and r[4] == metric}


def median(xs):
    return statistics.median(xs) if xs else float('nan')


def ratio(rows, backing, metric):
    """Median, min and max of the paired series/base ratios."""
    base = values(rows, 'base', backing, metric)
    series = values(rows, 'series', backing, metric)
    pairs = [series[k] / base[k] for k in sorted(base) if k in series and base[k]]
    if not pairs:
        return float('nan'), float('nan'), float('nan'), 0
    return median(pairs), min(pairs), max(pairs), len(pairs)


def boot_noise(rows, backing):
    """How far the medians of one kernel's boots lie apart, at most (%)."""
    worst = 0.0
    for kernel in ('base', 'series'):
        rounds = {}
        for (rnd, _), v in values(rows, kernel, backing, 'populate_s').items():
            rounds.setdefault(rnd, []).append(v)
        meds = [median(v) for v in rounds.values()]
        if len(meds) > 1:
            worst = max(worst, 100 * (max(meds) / min(meds) - 1))
    return worst


def pct(v, width):
    """A percentage, or '-' when not measured (NaN)."""
    return f'{v:>{width - 1}.1f}%' if v == v else f'{"-":>{width}}'


def tables(rows, clock, per_page):
    out = []
    if clock == 'icount':
        out.append('Times are guest seconds under QEMU -icount shift=0: 10^9 instructions executed.')
    else:
        out.append('Times are wall-clock seconds in the TCG guest.')
    if per_page:
        out.append('No SPTE statistics on this architecture: "2M SPTEs" is "-" and ns/fault is '
                   'per 4K page of the memory.')
    out.append('')
    med = {(b, m): median(list(values(rows, 'series', b, m).values()))
           for b in BACKINGS for m in ('populate_s', 'access_s', 'share_2m_pct',
                                       'host_pmd_pct', 'fault_ns')}
    n = len(values(rows, 'series', 'anonymous', 'populate_s'))
    out.append(f'Guest memory backings, series kernel (median of {n} VMs each)')
    out.append(f'{"backing":<15}{"populate s":>11}{"/ THP":>8}{"access s":>10}{"/ THP":>8}'
               f'{"2M SPTEs":>10}{"host PMDs":>11}{"ns/fault":>10}')
    thp_pop, thp_acc = med[('anonymous_thp', 'populate_s')], med[('anonymous_thp', 'access_s')]
    for b in BACKINGS:
        out.append(f'{b:<15}{med[(b, "populate_s")]:>11.3f}{med[(b, "populate_s")] / thp_pop:>8.2f}'
                   f'{med[(b, "access_s")]:>10.3f}{med[(b, "access_s")] / thp_acc:>8.2f}'
                   + pct(med[(b, 'share_2m_pct')], 10) + pct(med[(b, 'host_pmd_pct')], 11)
                   + f'{med[(b, "fault_ns")]:>10.0f}')
    out.append('')
    out.append('Series against base: series / base, median of the paired runs [min, max]')
    out.append(f'{"backing":<15}{"populate s base":>16}{"series":>8}{"ratio":>8}{"spread":>17}'
               f'{"ns/fault ratio":>16}{"spread":>17}  goal')
    verdicts = []
    for b in BACKINGS:
        pb = median(list(values(rows, 'base', b, 'populate_s').values()))
        ps = med[(b, 'populate_s')]
        pr, plo, phi, npairs = ratio(rows, b, 'populate_s')
        fr, flo, fhi, _ = ratio(rows, b, 'fault_ns')
        goal = '-'
        if b in GOAL_BACKINGS:
            goal = 'met' if pr <= GOAL_RATIO and fr <= GOAL_RATIO else 'NOT met'
            verdicts.append(f'{b}: {goal}')
        out.append(f'{b:<15}{pb:>16.3f}{ps:>8.3f}{pr:>8.3f}{f"[{plo:.3f}, {phi:.3f}]":>17}'
                   f'{fr:>16.3f}{f"[{flo:.3f}, {fhi:.3f}]":>17}  {goal}')
    out.append(f'({npairs} pairs per backing.  Goal: the series within {GOAL_RATIO - 1:.0%} '
               f'of the base or faster, i.e. both ratios <= {GOAL_RATIO}; {"; ".join(verdicts)})')
    out.append('Noise: the populate medians of two boots of the same kernel differ by up to '
               + ', '.join(f'{boot_noise(rows, b):.1f}% ({b})' for b in GOAL_BACKINGS) + '.')
    return out


def plot(rows, out, clock):
    """bench.png: left, each backing against anonymous THP (series kernel);
    right, the series against the base per backing, with the spread."""
    dat = os.path.join(out, 'bench-ratios.dat')
    thp = {m: median(list(values(rows, 'series', 'anonymous_thp', m).values()))
           for m in ('populate_s', 'access_s')}
    with open(dat, 'w') as f:
        for i, b in enumerate(BACKINGS):
            pop = median(list(values(rows, 'series', b, 'populate_s').values()))
            acc = median(list(values(rows, 'series', b, 'access_s').values()))
            pr, plo, phi, _ = ratio(rows, b, 'populate_s')
            fr, flo, fhi, _ = ratio(rows, b, 'fault_ns')
            f.write(f'{i} {b} {pop / thp["populate_s"]} {acc / thp["access_s"]} '
                    f'{pr} {plo} {phi} {fr} {flo} {fhi}\n')
    n = len(BACKINGS)
    script = f'''
set terminal pngcairo size 1200,500 noenhanced
set output "{out}/bench.png"
set multiplot layout 1,2 title "kvm-dax: make bench (guest clock: {clock})"
set xrange [-0.5:{n - 0.5}]
set grid ytics
set key top right
set title "Backings on the series kernel, against anonymous THP (median)"
set ylabel "time / anonymous THP's"
set logscale y
set style fill solid 0.6
set boxwidth 0.35
plot "{dat}" using ($1-0.18):3:xtic(2) with boxes title "populate", \\
     "{dat}" using ($1+0.18):4 with boxes title "access"
unset logscale y
set title "Series / base, median of paired runs (bars: min to max)"
set ylabel "series / base"
set yrange [*<0.97:1.03<*]
set key bottom left
set arrow from -0.5,{GOAL_RATIO} to {n - 0.5},{GOAL_RATIO} nohead dt 2 lc rgb "red"
set label "goal {GOAL_RATIO}" at {n - 0.95},{GOAL_RATIO} offset 0,0.7 tc rgb "red"
plot "{dat}" using ($1-0.1):5:6:7:xtic(2) with yerrorbars pt 7 title "populate time", \\
     "{dat}" using ($1+0.1):8:9:10 with yerrorbars pt 5 title "time per fault"
unset multiplot
'''
    try:
        subprocess.run(['gnuplot'], input=script, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f'bench.py: no plot ({e}); run "make setup" for gnuplot', file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--clock', choices=['icount', 'wall'], default='icount',
                    help="what the guest's clock measured")
    ap.add_argument('results', nargs='+')
    args = ap.parse_args()

    rows = [row for r in args.results for row in parse(r)]
    per_page = any(NO_SPTES.search(open(os.path.join(r, 'serial.log'), errors='replace').read())
                   for r in args.results)
    missing = [(k, b) for k in ('base', 'series') for b in BACKINGS
               if not values(rows, k, b, 'populate_s')]
    with open(os.path.join(args.out, 'bench.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['kernel', 'round', 'backing', 'run', 'metric', 'value', 'clock'])
        w.writerows(row + (args.clock,) for row in rows)
    if missing:
        sys.exit(f'bench.py: error: no figures for {missing}; see the serial logs')
    text = '\n'.join(tables(rows, args.clock, per_page))
    print(text)
    with open(os.path.join(args.out, 'bench.txt'), 'w') as f:
        f.write(text + '\n')
    plot(rows, args.out, args.clock)


if __name__ == '__main__':
    main()
