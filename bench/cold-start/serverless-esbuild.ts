/**
 * Reads the `custom.esbuild` block of serverless.yml, so that the benchmark bundles the handler
 * exactly as `serverless-esbuild` does when the function is packaged, and follows any change.
 * The block is plain YAML (scalars, flow lists, one nested map), which a few lines parse; anything
 * else fails loudly rather than being misread.
 */
import { readFile } from 'node:fs/promises';
import type { BuildOptions } from 'esbuild';

type Scalar = string | number | boolean | null;
type Value = Scalar | Scalar[] | { [key: string]: Value };

/** A trailing ` # comment`, outside quotes. */
const stripComment = (line: string): string => {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote && line[i - 1] !== '\\') quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || line[i - 1] === ' ')) return line.slice(0, i).trimEnd();
  }
  return line.trimEnd();
};

const scalar = (text: string): Scalar => {
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null' || text === '~') return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (text.startsWith("'")) return text.slice(1, -1).replaceAll("''", "'");
  return text;
};

const value = (text: string): Scalar | Scalar[] =>
  text.startsWith('[')
    ? text
        .slice(1, -1)
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0)
        .map(scalar)
    : scalar(text);

/**
 * The `custom.esbuild` map of a serverless.yml text.
 *
 * @throws {Error} when the block is missing or holds YAML this reader does not handle.
 */
export const parseEsbuildBlock = (yaml: string): Record<string, Value> => {
  const lines = yaml.split('\n');
  const start = lines.findIndex((line) => /^ {2}esbuild:\s*(#.*)?$/.test(line));
  if (start < 0 || !lines.slice(0, start).some((line) => /^custom:\s*$/.test(line)))
    throw new Error('serverless.yml has no custom.esbuild block');
  const block: Record<string, Value> = {};
  let nested: { [key: string]: Value } | undefined;
  for (const raw of lines.slice(start + 1)) {
    const line = stripComment(raw);
    if (line.trim() === '') continue;
    const indent = line.length - line.trimStart().length;
    if (indent <= 2) break;
    const match = /^([A-Za-z_][\w-]*):(?:\s+(.*))?$/.exec(line.trim());
    if (!match) throw new Error(`serverless.yml custom.esbuild: cannot read "${raw.trim()}"`);
    const [, key = '', rest] = match;
    if (indent === 4) {
      if (rest === undefined || rest === '') {
        nested = {};
        block[key] = nested;
      } else {
        nested = undefined;
        block[key] = value(rest);
      }
    } else if (indent === 6 && nested && rest !== undefined) {
      nested[key] = value(rest);
    } else {
      throw new Error(`serverless.yml custom.esbuild: unexpected nesting at "${raw.trim()}"`);
    }
  }
  return block;
};

/**
 * esbuild options from serverless-esbuild's: `exclude` becomes `external` (serverless-esbuild's
 * default, `['aws-sdk']`, applies when absent), `outputFileExtension` becomes `outExtension`;
 * everything else is esbuild's own and passed through.
 */
export const toBuildOptions = (block: Record<string, Value>): BuildOptions => {
  const { exclude, outputFileExtension, ...esbuild } = block;
  const external = exclude === undefined ? ['aws-sdk'] : (exclude as string[]);
  return {
    ...(esbuild as BuildOptions),
    external,
    ...(typeof outputFileExtension === 'string' && {
      outExtension: { '.js': outputFileExtension },
    }),
  };
};

/** `functions.*.environment.NODE_OPTIONS` of serverless.yml (empty when unset). */
export const nodeOptionsOf = (yaml: string): string =>
  /^\s+NODE_OPTIONS:\s*(.+?)\s*$/m.exec(yaml)?.[1] ?? '';

export const readServerlessBuild = async (
  path: string,
): Promise<{ options: BuildOptions; nodeOptions: string }> => {
  const yaml = await readFile(path, 'utf8');
  return { options: toBuildOptions(parseEsbuildBlock(yaml)), nodeOptions: nodeOptionsOf(yaml) };
};
