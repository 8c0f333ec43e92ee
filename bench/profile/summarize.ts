/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time by function and by package,
 * and inclusive time of chosen frames. Usage:
 *   npm exec -- tsx bench/profile/summarize.ts FILE.cpuprofile [--top N] [--under NAME,...]
 * `--under` reports the time spent inside any frame whose function name is one of NAME (e.g. the
 * worker's `processBatch` against the baseline's `handler`), so one profile of a run that has both
 * sides splits by side.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  process.stderr.write(
    'usage: tsx bench/profile/summarize.ts FILE.cpuprofile [--top N] [--under NAME,...]\n',
  );
  process.exit(2);
}
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const top = Number(option('--top') ?? 25);
const under = (option('--under') ?? '').split(',').filter(Boolean);

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const totalUs = profile.endTime - profile.startTime;

const packageOf = (url: string): string => {
  if (url === '') return '(native/vm)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node:internal';
  const m = url.match(/\/(src|bench|test)\/.*$/);
  return m ? m[0].slice(1).split('/').slice(0, 2).join('/') : url;
};
const label = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${packageOf(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const sum = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const fn = new Map<string, number>();
const pkg = new Map<string, number>();
const side = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id) as ProfileNode;
  sum(fn, label(n), us);
  sum(pkg, packageOf(n.callFrame.url), us);
  if (under.length > 0) {
    let at: number | undefined = id;
    let found = '(other)';
    while (at !== undefined) {
      const name = byId.get(at)?.callFrame.functionName ?? '';
      if (under.includes(name)) {
        found = name;
        break;
      }
      at = parent.get(at);
    }
    sum(side, found, us);
  }
}
const print = (title: string, m: Map<string, number>, n: number) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n))
    process.stdout.write(
      `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${k}\n`,
    );
};
process.stdout.write(
  `profile: ${(totalUs / 1e6).toFixed(1)} s, ${profile.samples.length} samples\n`,
);
print('self time by package', pkg, top);
print('self time by function', fn, top);
if (under.length > 0) print('self time under frames', side, under.length + 1);
