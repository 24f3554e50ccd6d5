// IAM for Kafka: what the event source mapping needs to read the mapped topics (it runs with the sink
// function's role), and what the functions need to write outcomes to MSK topics with MSK IAM. Every
// statement names the cluster, the topics and the groups; only the EC2 network interface actions are
// on `*`, because EC2 has no resource-level permissions for the Describe calls and Lambda picks the
// subnets' interfaces itself.
import { Fn, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * The ARN of a topic, consumer group or transactional id of an MSK cluster, from the cluster's ARN
 * (`…:cluster/<name>/<uuid>` → `…:topic/<name>/<uuid>/<topic>`). Works for tokens too.
 *
 * @example
 * mskResourceArn('arn:aws:kafka:us-east-1:123456789012:cluster/demo/abc-1', 'topic', 'leads');
 * // 'arn:aws:kafka:us-east-1:123456789012:topic/demo/abc-1/leads'
 */
export function mskResourceArn(clusterArn: string, resource: 'topic' | 'group', name: string): string {
  if (!Token.isUnresolved(clusterArn)) return `${clusterArn.replace(':cluster/', `:${resource}/`)}/${name}`;
  const parts = Fn.split(':cluster/', clusterArn, 2);
  return Fn.join('', [Fn.select(0, parts), `:${resource}/`, Fn.select(1, parts), `/${name}`]);
}

/** What the event source mapping of an MSK cluster needs before it reads (checked when it is created). */
export function mskPollerStatements(options: {
  clusterArn: string;
  auth: 'iam' | 'sasl-scram';
  topics: string[];
  groups: string[];
}): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      sid: 'MskClusterDiscovery',
      actions: ['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'],
      resources: [options.clusterArn],
    }),
  ];
  if (options.auth === 'iam') {
    statements.push(
      new iam.PolicyStatement({
        sid: 'MskIamConnect',
        actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'],
        resources: [options.clusterArn],
      }),
      new iam.PolicyStatement({
        sid: 'MskIamReadTopics',
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
        resources: options.topics.map((t) => mskResourceArn(options.clusterArn, 'topic', t)),
      }),
      new iam.PolicyStatement({
        sid: 'MskIamConsumerGroups',
        actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
        resources: options.groups.map((g) => mskResourceArn(options.clusterArn, 'group', g)),
      }),
    );
  }
  return statements;
}

/** Writing outcomes to the result and error topics of an MSK cluster with MSK IAM (idempotent producer). */
export function mskProducerStatements(options: {
  clusterArn: string;
  topics: string[];
}): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'MskIamProducerConnect',
      actions: ['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently'],
      resources: [options.clusterArn],
    }),
    new iam.PolicyStatement({
      sid: 'MskIamWriteOutcomes',
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
      resources: options.topics.map((t) => mskResourceArn(options.clusterArn, 'topic', t)),
    }),
  ];
}

/**
 * The network interfaces Lambda creates in a VPC (for a VPC function, and for the event pollers of
 * MSK or VPC-only Kafka). EC2's Describe actions have no resource-level permissions.
 */
export function networkInterfaceStatements(options: { vpcFunction: boolean }): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'VpcNetworkInterfaces',
      actions: [
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'ec2:DescribeVpcs',
        ...(options.vpcFunction ? ['ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'] : []),
      ],
      resources: ['*'],
    }),
  ];
}
