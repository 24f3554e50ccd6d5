// `cdk synth` / `cdk deploy` entry point (cdk.json: `node infra/app.ts`). The deployment file comes from
// `-c deployment=<path>`, else $SFSINK_DEPLOYMENT, else the PushTopic Lead sample next to this file. A
// mistake in it prints one line per problem (`<file>: <path>: <what is wrong and the fix>`), every
// problem at once, and exits 2 without a stack trace.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../lib/errors.ts';
import { DeploymentError, loadDeployment } from './deployment.ts';
import { SinkPropsError } from './props.ts';
import { createSinkApp } from './sink-stack.ts';

const app = new App();
const path =
  (app.node.tryGetContext('deployment') as string | undefined) ??
  process.env.SFSINK_DEPLOYMENT ??
  join(dirname(fileURLToPath(import.meta.url)), 'sample-deployment.json');
try {
  createSinkApp({ app, deployment: loadDeployment(path) });
} catch (error) {
  if (
    !(error instanceof DeploymentError || error instanceof SinkPropsError || error instanceof ConfigError)
  ) {
    throw error;
  }
  for (const problem of error.problems) process.stderr.write(`${path}: ${problem}\n`);
  process.exit(2);
}
