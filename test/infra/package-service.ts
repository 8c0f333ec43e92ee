import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Template } from './cloudformation.js';
import { readZip } from './zip.js';

const run = promisify(execFile);

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OSLS = join(
  dirname(createRequire(import.meta.url).resolve('osls/package.json')),
  'bin/serverless.js',
);
const SERVICE_FILES = ['serverless.yml', 'infra', 'package.json', 'tsconfig.json'];

export interface PackagedService {
  /** The compiled CloudFormation template (cloudformation-template-update-stack.json). */
  template: Template;
  /** The `params.default` block of serverless.yml as the framework read it. */
  defaultParams: Record<string, unknown>;
  /** The files of the deployment package, by path. */
  zip: Map<string, Buffer>;
  /** What `osls package` printed (warnings included). */
  output: string;
}

export interface PackageOptions {
  /** An empty scratch directory; the service copy, its HOME and the package go inside. */
  workDir: string;
  stage: string;
  params?: Record<string, string>;
  /** TypeScript to package as src/handler.ts instead of the repository's src/. */
  handlerSource?: string;
}

/**
 * Runs `osls package` on a copy of the service (serverless.yml, infra/, package.json,
 * tsconfig.json; node_modules and, by default, src/ linked), so that nothing is written into the
 * working tree and concurrent runs do not share serverless-esbuild's `.esbuild/` folder.
 * It runs offline: no credentials, no AWS config, no instance metadata, an empty HOME.
 */
export const packageService = async (options: PackageOptions): Promise<PackagedService> => {
  const serviceDir = join(options.workDir, 'service');
  const home = join(options.workDir, 'home');
  const packageDir = join(options.workDir, 'package');
  await mkdir(home, { recursive: true });
  await mkdir(serviceDir, { recursive: true });
  for (const file of SERVICE_FILES) {
    await cp(join(REPO_ROOT, file), join(serviceDir, file), { recursive: true });
  }
  await symlink(join(REPO_ROOT, 'node_modules'), join(serviceDir, 'node_modules'), 'dir');
  if (options.handlerSource === undefined) {
    await symlink(join(REPO_ROOT, 'src'), join(serviceDir, 'src'), 'dir');
  } else {
    await mkdir(join(serviceDir, 'src'));
    await writeFile(join(serviceDir, 'src/handler.ts'), options.handlerSource);
  }

  const params = Object.entries(options.params ?? {}).map(
    ([key, value]) => `--param=${key}=${value}`,
  );
  const { stdout, stderr } = await run(
    process.execPath,
    [OSLS, 'package', '--stage', options.stage, '--package', packageDir, ...params],
    {
      cwd: serviceDir,
      timeout: 90_000,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        AWS_CONFIG_FILE: join(home, 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
        CI: 'true',
      },
    },
  );

  const readJson = async (file: string): Promise<unknown> =>
    JSON.parse(await readFile(join(packageDir, file), 'utf8'));
  const template = (await readJson('cloudformation-template-update-stack.json')) as Template;
  const state = (await readJson('serverless-state.json')) as {
    service: { initialServerlessConfig: { params: { default: Record<string, unknown> } } };
  };
  return {
    template,
    defaultParams: state.service.initialServerlessConfig.params.default,
    zip: await readZip(join(packageDir, 'datashare-revoker.zip')),
    output: `${stdout}${stderr}`,
  };
};
