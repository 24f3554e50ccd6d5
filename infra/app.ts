// `cdk synth` / `cdk deploy` entry point (cdk.json: `node infra/app.ts`). The deployment file comes from
// `-c deployment=<path>`, else $SFSINK_DEPLOYMENT, else the PushTopic Lead sample next to this file.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { loadDeployment } from './deployment.ts';
import { createSinkApp } from './sink-stack.ts';

const app = new App();
const path =
  (app.node.tryGetContext('deployment') as string | undefined) ??
  process.env.SFSINK_DEPLOYMENT ??
  join(dirname(fileURLToPath(import.meta.url)), 'sample-deployment.json');
createSinkApp({ app, deployment: loadDeployment(path) });
