/**
 * The layout's rules, checked on the source text (STYLE.md): no import cycle in src/, the AWS SDK's
 * clients only in the adapters and the stand-ins, and the environment read only in src/config/ and the
 * Lambda entry points. `npx madge --circular --extensions ts src` checks the first one too; this test
 * keeps it true without a network download.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const FILES = sourceFiles(SRC);
const rel = (file: string) => relative(SRC, file);

/** `import`/`export ... from` statements that bring a value (type-only ones cannot make a runtime cycle). */
function valueImports(text: string): string[] {
  const out: string[] = [];
  const pattern = /^(?:import|export)\s+(type\s+)?(?:[\s\S]*?\s+from\s+)?'([^']+)';/gm;
  for (const match of text.matchAll(pattern)) {
    if (match[1]) continue;
    out.push(match[2]!);
  }
  // A dynamic import is an edge too.
  for (const match of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) out.push(match[1]!);
  return out;
}

function localEdges(file: string): string[] {
  return valueImports(readFileSync(file, 'utf8'))
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
}

/** The cycles of an import graph, each as the files along it from one back to itself. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[][] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(file)), file]);
      return;
    }
    state.set(file, 'visiting');
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  return cycles;
}

describe('the source layout', () => {
  it('has no import cycle in src/', () => {
    // Prepare
    const graph = new Map(FILES.map((f) => [f, localEdges(f)]));
    // Act
    const cycles = findCycles(graph);
    // Assess
    expect(cycles.map((cycle) => cycle.map(rel).join(' -> '))).toEqual([]);
  });

  it('would see a cycle: the value imports it reads, and a cycle among them (a self-check)', () => {
    // Prepare: a.ts -> b.ts -> c.ts -> a.ts, with the statement forms src/ uses; d.ts only leads in.
    const text = [
      "import { b } from './b.js';",
      "import type { C } from './c.js';",
      "import { type D, d } from './d.js';",
      "export { e } from './e.js';",
      "export * from './f.js';",
      "const g = await import('./g.js');",
    ].join('\n');
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    // Act
    const imports = valueImports(text);
    const cycles = findCycles(graph);
    // Assess: a type-only import makes no edge; one cycle, named once.
    expect(imports).toEqual(['./b.js', './d.js', './e.js', './f.js', './g.js']);
    expect(cycles).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });

  it('imports the AWS SDK clients only in src/adapters/ and src/local/', () => {
    const offenders = FILES.filter((f) => !/^(adapters|local)\//.test(rel(f))).flatMap((f) =>
      valueImports(readFileSync(f, 'utf8'))
        .filter((spec) => /^@aws-sdk\/(client-|lib-)/.test(spec))
        .map((spec) => `${rel(f)}: ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('reads process.env only in src/config/ and the Lambda entry points', () => {
    const offenders = FILES.filter((f) => !/^(config|handlers)\//.test(rel(f))).filter((f) =>
      /\bprocess\.env\b/.test(readFileSync(f, 'utf8')),
    );
    expect(offenders.map(rel)).toEqual([]);
  });

  it('keeps src/config/ free of imports from the rest of src/', () => {
    const offenders = FILES.filter((f) => rel(f).startsWith('config/')).flatMap((f) =>
      localEdges(f)
        .filter((target) => !rel(target).startsWith('config/') && rel(target) !== 'errors.ts')
        .map((target) => `${rel(f)} -> ${rel(target)}`),
    );
    expect(offenders).toEqual([]);
  });

  it('finds the files it checks', () => {
    expect(FILES.length).toBeGreaterThan(50);
    expect(FILES.map(rel)).toContain('config/env.ts');
  });
});
