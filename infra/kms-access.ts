// Grants on customer managed KMS keys. CDK's grants on an imported secret or queue add no statement
// for an imported key (the key's account is unknown at synth), so MSK SASL/SCRAM, the event pollers'
// secrets and SSE-KMS queues would fail at run time. Each statement here names the key and, through
// kms:ViaService, the one service allowed to use it on the role's behalf.
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';

/**
 * `actions` on `key`, only through `service` (`secretsmanager`, `sqs`, `s3`) in the stack's region.
 *
 * @example
 * role.addToPrincipalPolicy(keyStatement(stack, key, 'secretsmanager', ['kms:Decrypt']));
 */
export function keyStatement(
  scope: IConstruct,
  key: kms.IKey,
  service: 'secretsmanager' | 'sqs' | 's3',
  actions: string[],
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions,
    resources: [key.keyArn],
    conditions: {
      StringEquals: { 'kms:ViaService': `${service}.${Stack.of(scope).region}.${Stack.of(scope).urlSuffix}` },
    },
  });
}

/**
 * Read access to a secret for a role: GetSecretValue/DescribeSecret, plus `kms:Decrypt` on the
 * secret's customer managed key when it has one.
 *
 * @example
 * grantSecretRead(secret, sinkRole);
 */
export function grantSecretRead(secret: secretsmanager.ISecret, role: iam.IRole): void {
  secret.grantRead(role);
  if (secret.encryptionKey) {
    role.addToPrincipalPolicy(keyStatement(secret, secret.encryptionKey, 'secretsmanager', ['kms:Decrypt']));
  }
}
